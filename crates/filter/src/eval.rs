//! Evaluation of a compiled [`Expr`] against one element's JSON.
//!
//! # Semantics
//!
//! * A selector walks JSON objects by key. Stepping into a list applies the rest of the
//!   selector to every element, so `Checks.Status` yields one candidate per check.
//! * A positive operator holds if it holds for **any** candidate; a negated one (`!=`,
//!   `not in`, `not contains`, `not matches`, `is not empty`) is its exact negation, so
//!   `Checks.Status != "critical"` means "no check is critical", like
//!   `not Checks.Status == "critical"`.
//! * A key missing from the top-level object is an error (the field does not exist for this
//!   endpoint); a key missing deeper down, in a map such as `Meta`, selects the empty value:
//!   it equals `""`, is empty, and contains nothing.

use serde_json::Value;

use crate::FilterError;
use crate::parse::{Expr, Literal, Match, Op};

/// What a missing map key selects.
static MISSING: Value = Value::Null;

impl Expr {
    pub(crate) fn eval(&self, root: &Value) -> Result<bool, FilterError> {
        match self {
            Expr::Or(terms) => {
                for term in terms {
                    if term.eval(root)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Expr::And(terms) => {
                for term in terms {
                    if !term.eval(root)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Expr::Not(inner) => Ok(!inner.eval(root)?),
            Expr::Match(m) => m.eval(root),
        }
    }

    /// Calls `f` with every match in the expression, short-circuit or not.
    pub(crate) fn for_each_match(&self, f: &mut impl FnMut(&Match)) {
        match self {
            Expr::Or(terms) | Expr::And(terms) => {
                for term in terms {
                    term.for_each_match(f);
                }
            }
            Expr::Not(inner) => inner.for_each_match(f),
            Expr::Match(m) => f(m),
        }
    }
}

impl Match {
    fn eval(&self, root: &Value) -> Result<bool, FilterError> {
        let mut candidates = Vec::new();
        self.select(root, &self.selector.path, true, &mut candidates)?;
        let mut any = false;
        for candidate in candidates {
            if self.test(candidate)? {
                any = true;
                break;
            }
        }
        Ok(any != self.negated)
    }

    /// Collects the values `path` selects from `value` into `out`.
    fn select<'a>(
        &self,
        value: &'a Value,
        path: &[String],
        top_level: bool,
        out: &mut Vec<&'a Value>,
    ) -> Result<(), FilterError> {
        let Some((key, rest)) = path.split_first() else {
            out.push(value);
            return Ok(());
        };
        match value {
            Value::Object(map) => match map.get(key) {
                Some(child) => self.select(child, rest, false, out),
                None if top_level => Err(self.unknown_selector()),
                None => {
                    out.push(&MISSING);
                    Ok(())
                }
            },
            Value::Array(items) => {
                for item in items {
                    self.select(item, path, top_level, out)?;
                }
                Ok(())
            }
            Value::Null => {
                out.push(&MISSING);
                Ok(())
            }
            Value::Bool(_) | Value::Number(_) | Value::String(_) => Err(self.unknown_selector()),
        }
    }

    pub(crate) fn unknown_selector(&self) -> FilterError {
        FilterError::UnknownSelector {
            selector: self.selector.text.clone(),
        }
    }

    /// The positive form of the operator against one candidate.
    fn test(&self, value: &Value) -> Result<bool, FilterError> {
        match (&self.op, value) {
            (Op::Equal(lit), Value::String(s)) => Ok(*s == lit.text),
            (Op::Equal(lit), Value::Null) => Ok(lit.text.is_empty()),
            (Op::Equal(lit), Value::Number(n)) => match number_eq(n, lit) {
                Some(eq) => Ok(eq),
                None => Err(self.coerce_error(lit, "number")),
            },
            (Op::Equal(lit), Value::Bool(b)) => match lit.boolean {
                Some(v) => Ok(v == *b),
                None => Err(self.coerce_error(lit, "bool")),
            },
            (Op::Contains(lit), Value::String(s)) => Ok(s.contains(lit.text.as_str())),
            (Op::Contains(lit), Value::Array(items)) => {
                Ok(items.iter().any(|i| element_eq(i, lit)))
            }
            (Op::Contains(lit), Value::Object(map)) => Ok(map.contains_key(&lit.text)),
            (Op::Contains(_), Value::Null) => Ok(false),
            (Op::Matches(re), Value::String(s)) => Ok(re.is_match(s)),
            (Op::Matches(re), Value::Null) => Ok(re.is_match("")),
            (Op::Matches(re), Value::Array(items)) => Ok(items
                .iter()
                .any(|i| i.as_str().is_some_and(|s| re.is_match(s)))),
            (Op::IsEmpty, Value::String(s)) => Ok(s.is_empty()),
            (Op::IsEmpty, Value::Array(items)) => Ok(items.is_empty()),
            (Op::IsEmpty, Value::Object(map)) => Ok(map.is_empty()),
            (Op::IsEmpty, Value::Null) => Ok(true),
            (_, other) => Err(FilterError::UnsupportedOperator {
                operator: self.operator,
                selector: self.selector.text.clone(),
                kind: kind(other),
            }),
        }
    }

    fn coerce_error(&self, lit: &Literal, kind: &'static str) -> FilterError {
        FilterError::Coerce {
            selector: self.selector.text.clone(),
            value: lit.text.clone(),
            kind,
        }
    }
}

/// `None` when the literal is not a number.
fn number_eq(n: &serde_json::Number, lit: &Literal) -> Option<bool> {
    let field = n
        .as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from));
    match (field, lit.integer) {
        (Some(a), Some(b)) => Some(a == b),
        _ => {
            let b = lit.float?;
            Some(n.as_f64().is_some_and(|a| a == b))
        }
    }
}

/// Membership test for `in`/`contains` on a list: the literal is read as each element's
/// type; an element it cannot be read as simply does not match.
fn element_eq(item: &Value, lit: &Literal) -> bool {
    match item {
        Value::String(s) => *s == lit.text,
        Value::Number(n) => number_eq(n, lit).unwrap_or(false),
        Value::Bool(b) => lit.boolean == Some(*b),
        Value::Null => lit.text.is_empty(),
        Value::Array(_) | Value::Object(_) => false,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}
