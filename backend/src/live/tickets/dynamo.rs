//! Tickets in DynamoDB, for the `api` Lambda that issues them and the WebSocket
//! authorizer that takes them (see [`super`]).

use super::{new_ticket, Tickets, TICKET_VALID};
use crate::live::LiveError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// When DynamoDB may delete an unused ticket item (its TTL is a clean-up only:
/// validity is checked on use).
const TICKET_TTL: Duration = Duration::from_secs(60);

/// Tickets in a DynamoDB table with a string key `pk` and TTL on `expires_at`.
#[derive(Debug, Clone)]
pub struct DynamoTickets {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoTickets {
    /// Tickets kept in `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoTickets {
        DynamoTickets {
            client,
            table: table.into(),
        }
    }

    fn key(ticket: &str) -> AttributeValue {
        AttributeValue::S(format!("ticket#{}", hex::encode(Sha256::digest(ticket))))
    }
}

fn epoch_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[async_trait]
impl Tickets for DynamoTickets {
    async fn issue(&self, actor: &str) -> Result<String, LiveError> {
        let ticket = new_ticket();
        let now = epoch_now();
        let n = |v: i64| AttributeValue::N(v.to_string());
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", Self::key(&ticket))
            .item("actor", AttributeValue::S(actor.to_string()))
            .item("valid_until", n(now + TICKET_VALID.as_secs() as i64))
            .item("expires_at", n(now + TICKET_TTL.as_secs() as i64))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| LiveError::of("PutItem", &self.table, &e))?;
        Ok(ticket)
    }

    async fn take(&self, ticket: &str) -> Result<Option<String>, LiveError> {
        // Not a ticket we could have issued: no call at all.
        if ticket.len() != 64 || !ticket.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", Self::key(ticket))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let old = match out {
            Ok(o) => o.attributes.unwrap_or_default(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(LiveError::of("DeleteItem", &self.table, &e)),
        };
        let valid_until = old
            .get("valid_until")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0);
        let actor = old.get("actor").and_then(|v| v.as_s().ok()).cloned();
        Ok(actor.filter(|_| valid_until >= epoch_now()))
    }
}
