//! What a DynamoDB error means — retry, condition failed, or give up — and how it
//! reads: every error names the operation and the table before the SDK's error
//! with its context (`DynamoDB PutItem on table cspm-findings: service error: …`),
//! so a user can tell which call on which table failed. The backoff between tries
//! is [`crate::retry`]'s.

use crate::store::{StoreError, StoreResult};
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

/// A DynamoDB call that failed, named for the user.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {operation} on table {table}: {detail}")]
pub struct DynamoError {
    /// The API operation (`GetItem`, `TransactWriteItems`…).
    pub operation: &'static str,
    /// The table.
    pub table: String,
    /// What went wrong: the SDK's error with its causes ([`crate::aws::error_text`]).
    pub detail: String,
}

/// One DynamoDB operation on one table: what an error of it is called.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The API operation (`GetItem`, `TransactWriteItems`…).
    pub operation: &'static str,
    /// The table.
    pub table: &'a str,
}

impl<'a> Call<'a> {
    /// `operation` on `table`.
    pub fn new(operation: &'static str, table: &'a str) -> Self {
        Call { operation, table }
    }

    /// `err` (an SDK error, with its chain of causes) named after this call.
    pub fn error(&self, err: &(dyn std::error::Error + 'static)) -> DynamoError {
        self.failed(crate::aws::error_text(err))
    }

    /// A failure this call's answer showed (not an SDK error), named after the call.
    pub fn failed(&self, detail: impl Into<String>) -> DynamoError {
        DynamoError {
            operation: self.operation,
            table: self.table.to_owned(),
            detail: detail.into(),
        }
    }

    /// Classifies an error of this call. `reasons` are the transaction
    /// cancellation reason codes when the error is a `TransactionCanceledException`.
    pub fn classify<E>(&self, err: &SdkError<E, HttpResponse>, reasons: &[String]) -> ErrorKind
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match verdict(err, reasons) {
            Verdict::ConditionFailed => ErrorKind::ConditionFailed,
            Verdict::Retry => ErrorKind::Retryable(self.error(err).to_string()),
            Verdict::GiveUp => ErrorKind::Fatal(self.error(err).to_string()),
        }
    }

    /// Whether a conditional write of this call was applied: `false` when its
    /// condition failed, the store error of any other failure.
    pub fn applied<T, E>(&self, result: Result<T, SdkError<E, HttpResponse>>) -> StoreResult<bool>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(_) => Ok(true),
            Err(e) if verdict(&e, &[]) == Verdict::ConditionFailed => Ok(false),
            Err(e) => Err(self.store_error(e)),
        }
    }

    /// The store error for an error of this call that was not retried, or that
    /// still failed after the retries: [`StoreError::Unavailable`] when it is transient.
    pub fn store_error<E>(&self, err: SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let named = self.error(&err);
        match verdict(&err, &[]) {
            Verdict::Retry => StoreError::Unavailable(named.to_string()),
            Verdict::ConditionFailed | Verdict::GiveUp => StoreError::Backend(Box::new(named)),
        }
    }
}

/// True when a DynamoDB call failed in a way worth retrying after a backoff.
pub fn is_transient<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    verdict(err, &[]) == Verdict::Retry
}

/// Codes only DynamoDB uses for trouble that passes (the rest, throttling and
/// server errors, [`crate::aws::is_retryable`] knows for every service).
const DYNAMODB_TRANSIENT_CODES: [&str; 3] = [
    // Another transaction holds the item.
    "TransactionConflictException",
    // The same idempotent transaction is still running.
    "TransactionInProgressException",
    // Too many control-plane operations at once.
    "LimitExceededException",
];

/// Cancellation reasons of a transaction that are transient.
const RETRYABLE_REASONS: [&str; 3] = [
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];

/// What to do about an error, before it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    ConditionFailed,
    Retry,
    GiveUp,
}

fn verdict<E>(err: &SdkError<E, HttpResponse>, reasons: &[String]) -> Verdict
where
    E: ProvideErrorMetadata,
{
    let code = err
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .unwrap_or_default();
    match code {
        "ConditionalCheckFailedException" => Verdict::ConditionFailed,
        "TransactionCanceledException" => {
            if reasons.iter().any(|r| r == "ConditionalCheckFailed") {
                Verdict::ConditionFailed
            } else if reasons.is_empty()
                || reasons
                    .iter()
                    .all(|r| r == "None" || RETRYABLE_REASONS.contains(&r.as_str()))
            {
                Verdict::Retry
            } else {
                Verdict::GiveUp
            }
        }
        c if DYNAMODB_TRANSIENT_CODES.contains(&c) || crate::aws::is_retryable(err) => {
            Verdict::Retry
        }
        _ => Verdict::GiveUp,
    }
}

/// Any other failure building or decoding a request: not retryable.
pub(super) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> ErrorKind {
    ErrorKind::Fatal(e.to_string())
}
