//! The classification of DynamoDB errors into "try again", "condition failed" and
//! "give up" (the backoff between tries is [`crate::retry`]'s).

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// How an SDK error should be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A conditional write lost a race (or found a newer version): re-read and decide again.
    ConditionFailed,
    /// Throttling, a transaction conflict, a 5xx or a network problem: back off and retry.
    Retryable(String),
    /// Anything else (validation, missing table, item too large): retrying cannot help.
    Fatal(String),
}

/// Error codes DynamoDB uses for throttling and transient server trouble.
const RETRYABLE_CODES: [&str; 8] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "TransactionConflictException",
    "LimitExceededException",
];

/// Cancellation reasons of a transaction that are transient.
const RETRYABLE_REASONS: [&str; 3] = [
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];

/// Classifies any DynamoDB operation error. `reasons` are the transaction
/// cancellation reason codes when the error is a `TransactionCanceledException`.
pub fn classify<E>(err: &SdkError<E, HttpResponse>, reasons: &[String]) -> ErrorKind
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(err));
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ErrorKind::Retryable(text)
        }
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            if code == "ConditionalCheckFailedException" {
                ErrorKind::ConditionFailed
            } else if code == "TransactionCanceledException" {
                if reasons.iter().any(|r| r == "ConditionalCheckFailed") {
                    ErrorKind::ConditionFailed
                } else if reasons.is_empty()
                    || reasons
                        .iter()
                        .all(|r| r == "None" || RETRYABLE_REASONS.contains(&r.as_str()))
                {
                    ErrorKind::Retryable(text)
                } else {
                    ErrorKind::Fatal(text)
                }
            } else if RETRYABLE_CODES.contains(&code) || se.raw().status().is_server_error() {
                ErrorKind::Retryable(text)
            } else {
                ErrorKind::Fatal(text)
            }
        }
        _ => ErrorKind::Fatal(text),
    }
}

/// True when a DynamoDB call failed in a way worth retrying after a backoff.
pub fn is_transient<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    matches!(classify(err, &[]), ErrorKind::Retryable(_))
}
