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
use rand::RngCore;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The DynamoDB book of tickets (the Lambdas').
#[cfg(feature = "aws")]
mod dynamo;
#[cfg(feature = "aws")]
pub use dynamo::DynamoTickets;

/// How long a ticket opens the socket.
pub const TICKET_VALID: Duration = Duration::from_secs(30);

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
pub(crate) fn new_ticket() -> String {
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
