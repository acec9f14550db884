//! Retries with exponential backoff and full jitter, and the classification of
//! DynamoDB errors into "try again", "condition failed" and "give up".

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use rand::Rng;
use std::time::Duration;

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

/// Bounded exponential backoff with full jitter (sleep a random time up to the
/// exponential bound, so many throttled writers do not retry in lock-step).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all (the first try included) before a write is reported failed.
    pub max_attempts: u32,
    /// Bound of the first sleep.
    pub base: Duration,
    /// Largest bound.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            max_attempts: 8,
            base: Duration::from_millis(25),
            cap: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// Sleeps before retry number `attempt` (1 = first retry).
    pub async fn wait(&self, attempt: u32) {
        let bound = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let ms = rand::rng().random_range(0..=bound.as_millis() as u64);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}
