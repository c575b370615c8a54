//! Consul's `?filter=` expression language (HashiCorp's go-bexpr), evaluated over the JSON
//! shape of each result element.
//!
//! The HTTP layer compiles the query parameter once with [`Filter::parse`] and keeps the
//! elements of a list response for which [`Filter::matches`] holds ([`Filter::apply`] does
//! both the serialisation and the filtering). Pure code: no I/O, no global state. Regular
//! expressions are compiled at parse time, never per element.
//!
//! Grammar, precedence (`not` > `and` > `or`) and semantics follow the spec's §1.8; a
//! selector that walks into a list matches if any element matches, and a key missing from a
//! map (`Meta.env`) selects the empty string. Mirrors go-bexpr as used by
//! Consul's `agent/consul/*_endpoint.go` (`bexpr.CreateFilter`).

mod error;
mod eval;
mod lex;
mod parse;

use std::str::FromStr;

use serde_json::Value;

pub use error::FilterError;

/// A compiled `?filter=` expression.
#[derive(Debug, Clone)]
pub struct Filter {
    expression: String,
    root: parse::Expr,
    /// `(field, selector)` for the first segment of every selector, checked against each
    /// element before evaluation so an unknown field is reported even when `and`/`or`
    /// would not have reached it (Consul rejects it before looking at any element).
    top_level: Vec<(String, parse::Match)>,
}

impl Filter {
    /// Compiles `expr`. Errors are syntax errors and invalid `matches` patterns.
    pub fn parse(expr: &str) -> Result<Filter, FilterError> {
        let root = parse::parse(expr)?;
        let mut top_level: Vec<(String, parse::Match)> = Vec::new();
        root.for_each_match(&mut |m| {
            if let Some(first) = m.selector.path.first()
                && !top_level.iter().any(|(f, _)| f == first)
            {
                top_level.push((first.clone(), m.clone()));
            }
        });
        Ok(Filter {
            expression: expr.to_owned(),
            root,
            top_level,
        })
    }

    /// The expression as given to [`Filter::parse`].
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Whether one element (its JSON form) matches. Errors: a selector naming a field the
    /// element does not have, a literal that cannot be read as the field's type, or an
    /// operator that does not apply to it.
    pub fn matches(&self, value: &Value) -> Result<bool, FilterError> {
        if let Value::Object(map) = value {
            for (field, m) in &self.top_level {
                if !map.contains_key(field) {
                    return Err(m.unknown_selector());
                }
            }
        }
        self.root.eval(value)
    }

    /// Keeps the elements of `items` that match (each serialised to JSON first).
    pub fn apply<T: serde::Serialize>(&self, items: Vec<T>) -> Result<Vec<T>, FilterError> {
        let mut kept = Vec::with_capacity(items.len());
        for item in items {
            let value = serde_json::to_value(&item).map_err(FilterError::Serialize)?;
            if self.matches(&value)? {
                kept.push(item);
            }
        }
        Ok(kept)
    }
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Filter, FilterError> {
        Filter::parse(s)
    }
}

#[cfg(test)]
mod tests;
