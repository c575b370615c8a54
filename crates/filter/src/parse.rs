//! The recursive-descent parser: tokens → [`Expr`]. Regular expressions are compiled here,
//! once, so evaluation never compiles anything.

use regex::Regex;

use crate::FilterError;
use crate::lex::{Tok, Token, syntax_error, tokenize};

/// Deeper nesting than this is rejected instead of risking the stack (`((((…`, `not not …`).
const MAX_DEPTH: usize = 128;

/// Words that cannot begin a selector or bare value, so `Foo == "x" and` fails cleanly.
const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "is", "contains", "matches", "empty",
];

/// A compiled boolean expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Match(Match),
}

/// One comparison: `selector <op> value`, possibly negated (`!=`, `not in`, `is not empty` …).
#[derive(Debug, Clone)]
pub(crate) struct Match {
    pub(crate) selector: Selector,
    pub(crate) op: Op,
    pub(crate) negated: bool,
    /// The operator as written, for error messages.
    pub(crate) operator: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// `==` / `!=`
    Equal(Literal),
    /// `in` / `contains` (the same test, operands written in the other order)
    Contains(Literal),
    /// `matches`
    Matches(Regex),
    /// `is empty`
    IsEmpty,
}

/// A path into the element: `Service.Meta["env"]` is `["Service", "Meta", "env"]`.
#[derive(Debug, Clone)]
pub(crate) struct Selector {
    pub(crate) path: Vec<String>,
    /// The selector as written, for error messages.
    pub(crate) text: String,
}

/// A literal, kept as text and coerced to the selected field's type at evaluation. The
/// numeric and boolean readings are worked out here, once.
#[derive(Debug, Clone)]
pub(crate) struct Literal {
    pub(crate) text: String,
    pub(crate) integer: Option<i128>,
    pub(crate) float: Option<f64>,
    pub(crate) boolean: Option<bool>,
}

impl Literal {
    fn new(text: String) -> Literal {
        let trimmed = text.trim();
        let integer = trimmed.parse::<i128>().ok();
        // Only plain decimal forms: Rust would also read "inf" or "NaN" as floats.
        let float = trimmed
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
            .then(|| trimmed.parse::<f64>().ok())
            .flatten();
        // The spellings Go's strconv.ParseBool accepts.
        let boolean = match trimmed {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
            _ => None,
        };
        Literal {
            text,
            integer,
            float,
            boolean,
        }
    }
}

/// Parses a whole expression.
pub(crate) fn parse(input: &str) -> Result<Expr, FilterError> {
    let tokens = tokenize(input)?;
    let mut parser = Parser {
        input,
        tokens,
        pos: 0,
        depth: 0,
    };
    let expr = parser.or_expr()?;
    let token = parser.peek();
    if token.tok != Tok::End {
        return Err(parser.error_at(
            token.start,
            "expected \"and\", \"or\" or the end of the expression",
        ));
    }
    Ok(expr)
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with `End`, and `bump` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_word(&self) -> Option<&str> {
        match &self.peek().tok {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::End {
            self.pos += 1;
        }
        token
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek_word() == Some(word) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> FilterError {
        syntax_error(self.input, offset, message)
    }

    fn error_here(&self, expected: &str) -> FilterError {
        let token = self.peek();
        let found = match &token.tok {
            Tok::End => "the end of the expression".to_owned(),
            _ => format!("{:?}", &self.input[token.start..token.end]),
        };
        self.error_at(token.start, format!("expected {expected}, found {found}"))
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(self.peek().start, "expression is nested too deeply"));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut terms = vec![self.and_expr()?];
        while self.eat_word("or") {
            terms.push(self.and_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut terms = vec![self.not_expr()?];
        while self.eat_word("and") {
            terms.push(self.not_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, FilterError> {
        self.enter()?;
        let expr = if self.eat_word("not") {
            Expr::Not(Box::new(self.not_expr()?))
        } else if self.peek().tok == Tok::LParen {
            self.bump();
            let inner = self.or_expr()?;
            if self.peek().tok != Tok::RParen {
                return Err(self.error_here("\")\""));
            }
            self.bump();
            inner
        } else {
            Expr::Match(self.match_expr()?)
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn match_expr(&mut self) -> Result<Match, FilterError> {
        let literal = match &self.peek().tok {
            Tok::Str(s) | Tok::Num(s) => Some(s.clone()),
            Tok::Word(_) => None,
            _ => return Err(self.error_here("a selector or a value")),
        };
        if let Some(text) = literal {
            self.bump();
            return self.in_expr(Literal::new(text));
        }
        let selector = self.selector()?;
        match &self.peek().tok {
            Tok::Equal | Tok::NotEqual => {
                let negated = self.bump().tok == Tok::NotEqual;
                let value = self.value()?;
                return Ok(Match {
                    selector,
                    op: Op::Equal(value),
                    negated,
                    operator: if negated { "!=" } else { "==" },
                });
            }
            Tok::Word(_) => {}
            _ => return Err(self.error_here("an operator")),
        }
        // A bare word before `in` is a value, as in go-bexpr (`passing in Tags`).
        if matches!(self.peek_word(), Some("in")) {
            return self.in_expr(Literal::new(selector.text));
        }
        if self.peek_word() == Some("not")
            && matches!(&self.tokens.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Word(w)) if w == "in")
        {
            return self.in_expr(Literal::new(selector.text));
        }
        let negated = self.eat_word("not");
        let start = self.peek().start;
        match self.peek_word() {
            Some("is") if !negated => {
                self.bump();
                let negated = self.eat_word("not");
                if !self.eat_word("empty") {
                    return Err(self.error_here("\"empty\""));
                }
                Ok(Match {
                    selector,
                    op: Op::IsEmpty,
                    negated,
                    operator: if negated { "is not empty" } else { "is empty" },
                })
            }
            Some("contains") => {
                self.bump();
                let value = self.value()?;
                Ok(Match {
                    selector,
                    op: Op::Contains(value),
                    negated,
                    operator: if negated { "not contains" } else { "contains" },
                })
            }
            Some("matches") => {
                self.bump();
                let pattern = self.value()?.text;
                let regex = Regex::new(&pattern)
                    .map_err(|source| FilterError::InvalidRegex { pattern, source })?;
                Ok(Match {
                    selector,
                    op: Op::Matches(regex),
                    negated,
                    operator: if negated { "not matches" } else { "matches" },
                })
            }
            _ if negated => Err(self.error_at(
                start,
                "expected \"in\", \"contains\" or \"matches\" after \"not\"",
            )),
            _ => Err(self.error_here("an operator")),
        }
    }

    /// `[not] in selector`, after the value has been read.
    fn in_expr(&mut self, value: Literal) -> Result<Match, FilterError> {
        let negated = self.eat_word("not");
        if !self.eat_word("in") {
            return Err(self.error_here("\"in\""));
        }
        let selector = self.selector()?;
        Ok(Match {
            selector,
            op: Op::Contains(value),
            negated,
            operator: if negated { "not in" } else { "in" },
        })
    }

    /// A value: a quoted string, a number, or a bare selector-shaped word, which go-bexpr
    /// takes literally (`Status == passing`, `Enabled == true`).
    fn value(&mut self) -> Result<Literal, FilterError> {
        match &self.peek().tok {
            Tok::Str(s) | Tok::Num(s) => {
                let text = s.clone();
                self.bump();
                Ok(Literal::new(text))
            }
            Tok::Word(_) => Ok(Literal::new(self.selector()?.text)),
            _ => Err(self.error_here("a value")),
        }
    }

    /// `ident { "." ident | "[" string "]" }`, with no spaces around `.` and before `[`.
    fn selector(&mut self) -> Result<Selector, FilterError> {
        let first = match self.peek_word() {
            Some(w) if !KEYWORDS.contains(&w) => w.to_owned(),
            _ => return Err(self.error_here("a selector")),
        };
        let mut end = self.bump().end;
        let mut text = first.clone();
        let mut path = vec![first];
        loop {
            let token = self.peek();
            if token.start != end {
                break;
            }
            match token.tok {
                Tok::Dot => {
                    self.bump();
                    let token = self.peek().clone();
                    match token.tok {
                        Tok::Word(w) if token.start == end + 1 => {
                            self.bump();
                            text.push('.');
                            text.push_str(&w);
                            path.push(w);
                            end = token.end;
                        }
                        _ => {
                            return Err(
                                self.error_at(token.start, "expected a field name after \".\"")
                            );
                        }
                    }
                }
                Tok::LBracket => {
                    self.bump();
                    let Tok::Str(key) = self.peek().tok.clone() else {
                        return Err(self.error_here("a quoted map key"));
                    };
                    self.bump();
                    if self.peek().tok != Tok::RBracket {
                        return Err(self.error_here("\"]\""));
                    }
                    end = self.bump().end;
                    text.push_str(&format!("[{key:?}]"));
                    path.push(key);
                }
                _ => break,
            }
        }
        Ok(Selector { path, text })
    }
}
