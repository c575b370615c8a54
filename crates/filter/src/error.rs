//! Why an expression could not be compiled or evaluated.

/// Why a `?filter=` expression was rejected.
///
/// Every message but [`FilterError::Serialize`]'s starts with Consul's
/// `Failed to create boolean expression evaluator: ` (Consul reports all of these from
/// `bexpr.CreateFilter`, before looking at any element), so the HTTP layer can return
/// `to_string()` as the body; the capitalised text is Consul's, kept for parity.
///
/// Everything but [`FilterError::Serialize`] is the client's fault (Consul answers 500 with
/// the message as the body; callers may prefer 400).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The expression does not follow the grammar.
    #[error("Failed to create boolean expression evaluator: 1:{column} ({offset}): {message}")]
    Syntax {
        /// Byte offset into the expression where the problem was found.
        offset: usize,
        /// One-based character column of `offset` (expressions are a single line).
        column: usize,
        /// What was expected or found there.
        message: String,
    },
    /// The pattern of a `matches` operator is not a valid RE2-style regular expression.
    #[error(
        "Failed to create boolean expression evaluator: invalid regular expression {pattern:?}: {source}"
    )]
    InvalidRegex {
        /// The pattern as written in the expression.
        pattern: String,
        /// What the regex compiler rejected.
        #[source]
        source: regex::Error,
    },
    /// The selector names a field the element does not have.
    #[error("Failed to create boolean expression evaluator: Selector {selector:?} is not valid")]
    UnknownSelector {
        /// The selector as written (`Service.Tags`, `Meta["env"]`).
        selector: String,
    },
    /// The literal cannot be read as the type of the selected field (`Port == "http"`).
    #[error(
        "Failed to create boolean expression evaluator: Failed to coerce value {value:?} for selector {selector:?} to type {kind}"
    )]
    Coerce {
        /// The selector as written.
        selector: String,
        /// The literal as written, without quotes.
        value: String,
        /// The JSON type of the selected field (`number`, `bool`).
        kind: &'static str,
    },
    /// The operator does not apply to the selected field's type (`Port contains "8"`).
    #[error(
        "Failed to create boolean expression evaluator: Invalid match operator {operator:?} for selector {selector:?} of type {kind}"
    )]
    UnsupportedOperator {
        /// The operator as written (`contains`, `not matches`).
        operator: &'static str,
        /// The selector as written.
        selector: String,
        /// The JSON type of the selected field.
        kind: &'static str,
    },
    /// A result element could not be turned into JSON (a bug in its `Serialize` impl).
    #[error("failed to serialise an element for filtering")]
    Serialize(#[source] serde_json::Error),
}
