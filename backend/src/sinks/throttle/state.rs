//! The state port: what one channel remembers between changes — decided change
//! keys, the severity each finding was last alerted at, dedup windows, digest
//! windows and their held messages. Locally a SQLite file (sqlite.rs); on AWS the
//! fan-out state table with conditional writes (docs/alerts.md). Implementations
//! translate only: [`super::decide::decide`] decides.

use super::decide::{Facts, Subject, Verdict, View, Window};
use crate::sinks::SinkError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shared_types::Severity;

/// One message held for a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// Alert or resolved follow-up.
    pub subject: Subject,
    /// The finding's severity.
    pub severity: Severity,
    /// Its account.
    pub account: String,
    /// When it was held.
    pub at: DateTime<Utc>,
}

/// A digest window whose digest is due, with what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueWindow {
    /// The route.
    pub route: String,
    /// The window.
    pub window: Window,
    /// Its held messages, oldest first.
    pub held: Vec<Held>,
    /// How many digests of it went before (a window that held more while its
    /// digest went stays open for another): names this digest, and `close` only
    /// closes what is still in this state, so two flushes of one window never
    /// both take from it.
    pub flushed: u32,
}

/// What a channel remembers. `sink` names the channel, `route` the route whose
/// options governed the change.
#[async_trait]
pub trait ThrottleState: Send + Sync {
    /// The channel's view of the change `f`.
    async fn view(&self, sink: &str, route: &str, f: &Facts) -> Result<View, SinkError>;

    /// Stores `verdict.next` (and, for a hold, the held message) as one write: a
    /// crash leaves either all of it or none. The write holds only if the state is
    /// still `read` (what `verdict` was decided on): `Ok(false)` says another
    /// decider moved it first, and the caller reads and decides again. Stored
    /// before a send, so of several deciders only one sends.
    async fn commit(
        &self,
        sink: &str,
        route: &str,
        f: &Facts,
        read: &View,
        verdict: &Verdict,
        now: DateTime<Utc>,
    ) -> Result<bool, SinkError>;

    /// Confirms that the send decided for change `key` went out: a replay of the
    /// change is then nothing ([`View::pending`] cleared).
    async fn settle(&self, sink: &str, key: &str) -> Result<(), SinkError>;

    /// The windows of `sink` due at `now` (`flush_at <= now`).
    async fn due(&self, sink: &str, now: DateTime<Utc>) -> Result<Vec<DueWindow>, SinkError>;

    /// Closes the window `due` after its digest went: forgets it and the held
    /// messages the digest told. Messages held into it meanwhile stay, for the
    /// next digest (its `flushed` one more); a newer window of the route, or one
    /// another flush already closed (`flushed` moved), is never touched.
    async fn close(&self, sink: &str, due: &DueWindow) -> Result<(), SinkError>;
}
