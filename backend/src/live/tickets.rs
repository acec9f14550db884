//! Single-use tickets for opening the live socket. Browsers cannot put a bearer
//! token on a WebSocket request and tokens must never go into a URL, so the page
//! asks `POST /live/ticket` (with its normal credentials) for a ticket valid
//! [`TICKET_VALID`] and connects with `?ticket=…`. A ticket is bound to the user
//! it was issued to and works once.
//!
//! Locally the server keeps them in memory; on AWS the `api` Lambda issues them
//! and the WebSocket API's authorizer Lambda takes them, so they live in DynamoDB
//! (the fan-out state table), keyed by the ticket's SHA-256 — the table never
//! holds a usable ticket — and deleted on use with a conditional delete, so two
//! connections racing with one ticket cannot both win.

use super::LiveError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a ticket opens the socket.
pub const TICKET_VALID: Duration = Duration::from_secs(30);
/// When DynamoDB may delete an unused ticket item (its TTL is a clean-up only:
/// validity is checked on use).
const TICKET_TTL: Duration = Duration::from_secs(60);

/// Issues and takes tickets.
#[async_trait]
pub trait Tickets: Send + Sync {
    /// A new ticket for `actor`.
    async fn issue(&self, actor: &str) -> Result<String, LiveError>;

    /// The user the ticket was issued to, once: a used, expired or unknown
    /// ticket is `None`.
    async fn take(&self, ticket: &str) -> Result<Option<String>, LiveError>;
}

/// 256 random bits, hex.
fn new_ticket() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Tickets in this process (the local server).
#[derive(Debug)]
pub struct MemoryTickets {
    open: Mutex<HashMap<String, (String, Instant)>>,
    valid: Duration,
}

impl Default for MemoryTickets {
    fn default() -> Self {
        MemoryTickets::valid_for(TICKET_VALID)
    }
}

impl MemoryTickets {
    /// Tickets that expire after `valid` (tests shorten it).
    pub fn valid_for(valid: Duration) -> MemoryTickets {
        MemoryTickets {
            open: Mutex::default(),
            valid,
        }
    }
}

#[async_trait]
impl Tickets for MemoryTickets {
    async fn issue(&self, actor: &str) -> Result<String, LiveError> {
        let ticket = new_ticket();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        open.retain(|_, (_, expires)| *expires > now);
        open.insert(ticket.clone(), (actor.to_string(), now + self.valid));
        Ok(ticket)
    }

    async fn take(&self, ticket: &str) -> Result<Option<String>, LiveError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        Ok(open
            .remove(ticket)
            .and_then(|(actor, expires)| (expires > Instant::now()).then_some(actor)))
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_tickets_are_single_use_bound_to_their_user_and_expire() {
        let book = MemoryTickets::default();
        let t = book.issue("alice").await.unwrap();
        assert_eq!(t.len(), 64);
        assert_eq!(book.take(&t).await.unwrap().as_deref(), Some("alice"));
        assert_eq!(book.take(&t).await.unwrap(), None, "second use");
        assert_eq!(book.take("not-a-ticket").await.unwrap(), None);
        let short = MemoryTickets::valid_for(Duration::from_millis(1));
        let t = short.issue("bob").await.unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(short.take(&t).await.unwrap(), None, "expired");
    }
}
