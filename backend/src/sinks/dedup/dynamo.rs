//! Dedup memory in DynamoDB (see [`super`]).

use super::Dedup;
use crate::sinks::SinkError;
use async_trait::async_trait;

/// Sent keys as items of the fan-out state table (`pk` = `sent#<sink>#<key>`),
/// expiring after a week through the table's TTL (`expires_at`): by then the
/// stream has long dropped the record that could be redelivered.
#[derive(Debug, Clone)]
pub struct DynamoDedup {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// How long a sent key is remembered.
const REMEMBER: chrono::Duration = chrono::Duration::days(8);

impl DynamoDedup {
    /// Dedup memory in `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoDedup {
        DynamoDedup {
            client,
            table: table.into(),
        }
    }

    fn pk(sink: &str, key: &str) -> aws_sdk_dynamodb::types::AttributeValue {
        aws_sdk_dynamodb::types::AttributeValue::S(format!("sent#{sink}#{key}"))
    }
}

pub use crate::aws::item::condition_failed;

/// The outcome of a conditional write whose refused condition means there is
/// nothing to do (already as wanted, or gone): `Ok` then, a sink error otherwise.
pub fn done_unless_failed<T, E>(
    op: &str,
    table: &str,
    r: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    >,
) -> Result<(), SinkError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(_) => Ok(()),
        Err(e) if condition_failed(&e) => Ok(()),
        Err(e) => Err(dynamo_error(op, table, e)),
    }
}

/// A failed DynamoDB call of a sink's state as a sink error: retryable when AWS
/// says it may pass (throttling, 5xx, timeouts), permanent otherwise.
pub fn dynamo_error<E>(
    op: &str,
    table: &str,
    e: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> SinkError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let reason = format!(
        "DynamoDB {op} on table {table}: {}",
        crate::aws::error_text(&e)
    );
    if crate::aws::is_retryable(&e) {
        SinkError::retryable(reason)
    } else {
        SinkError::permanent(reason)
    }
}

#[async_trait]
impl Dedup for DynamoDedup {
    async fn seen(&self, sink: &str, key: &str) -> Result<bool, SinkError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", Self::pk(sink, key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", &self.table, e))?;
        Ok(out.item.is_some())
    }

    async fn remember(&self, sink: &str, key: &str) -> Result<(), SinkError> {
        let expires = (chrono::Utc::now() + REMEMBER).timestamp();
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", Self::pk(sink, key))
            .item(
                "expires_at",
                aws_sdk_dynamodb::types::AttributeValue::N(expires.to_string()),
            )
            .send()
            .await
            .map_err(|e| dynamo_error("PutItem", &self.table, e))?;
        Ok(())
    }
}
