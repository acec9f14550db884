//! Why a source could not make a finding of a document.
//!
//! Every variant is a permanent rejection by nature: the fault is in the document,
//! so the same document delivered again gets the same answer. Callers report it
//! (with the finding's id and position) and never retry it; trouble that may pass
//! (a store or a network) has its own error types.

use crate::time::TimeError;

/// What is wrong with a document a source was given. The texts name the field in
/// the source's own spelling (`UpdatedAt: invalid timestamp "…"`) so a user can
/// find it in the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// A required field is absent, null or blank: `missing required Title`.
    #[error("missing required {0}")]
    Missing(&'static str),
    /// A timestamp field holds no usable time: `UpdatedAt: invalid timestamp "…"`.
    #[error("{field}: {source}")]
    Time {
        /// The field.
        field: &'static str,
        /// What is wrong with its value.
        #[source]
        source: TimeError,
    },
    /// A field is absent or holds a value that cannot be used:
    /// `Resources: none of the 3 entries has both Type and Id`, `createdAt: missing`.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A number outside its scale: `severity 11 is outside 0-10`.
    #[error("{field} {value} is outside {range}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value as given.
        value: String,
        /// The accepted range (`0-10`).
        range: &'static str,
    },
    /// None of the fields that could give a value did: `no region: no Region, …`.
    #[error("no {what}: {reason}")]
    NoValue {
        /// What could not be found (`region`, `usable severity`).
        what: &'static str,
        /// Which fields were tried, and what each held.
        reason: String,
    },
    /// A document of this kind lacks a field it needs: `GuardDuty finding without accountId`.
    #[error("{kind} without {field}")]
    Lacks {
        /// The kind of document (`GuardDuty finding`).
        kind: &'static str,
        /// The field.
        field: &'static str,
    },
    /// Not a document this source reads:
    /// `not a GuardDuty finding: needs id, type, severity and service`.
    #[error("not a {kind}: {reason}")]
    NotA {
        /// The kind it is not.
        kind: &'static str,
        /// What the kind needs.
        reason: &'static str,
    },
}

impl SourceError {
    /// Always false: delivering the same document again cannot change the answer.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// How a JSON value is named in a reason: `expected a string, got a number`.
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
