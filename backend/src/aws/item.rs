//! Reading and writing DynamoDB item attributes by hand, for the small state
//! tables (fan-out state, sessions) whose items are not serde documents.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// One item's attributes.
pub type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The number `name` of `item`, when present and of type `T`.
pub fn num<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}

/// The time `name` of `item`, stored as milliseconds since the epoch.
pub fn time_ms(item: &Item, name: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    num::<i64>(item, name).and_then(chrono::DateTime::from_timestamp_millis)
}

/// The string `name` of `item`, when present.
pub fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

/// Whether a DynamoDB write was refused by its condition (the state moved, or is
/// already as wanted), rather than failing.
pub fn condition_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    e: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

/// The failed transaction's reason codes, one per write (`None` for a write that
/// was not the cause, `ConditionalCheckFailed`, `TransactionConflict`…); `None`
/// when the transaction was not cancelled but failed otherwise.
pub fn cancellation_reasons(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Option<Vec<String>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(t)) => Some(
            t.cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None").to_string())
                .collect(),
        ),
        _ => None,
    }
}
