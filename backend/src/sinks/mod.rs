//! The `Sink` port: everything that reacts to findings — an HTTP webhook, SNS
//! topics, the log, and later the live dashboard, Slack, e-mail, the audit log and
//! remediation — is a sink reading the change feed through the dispatcher
//! (`feed/`). A new channel is one file here plus one arm in [`config::SinkConfig`].

/// When a change alerts and what the alert says (every alerting channel).
pub mod alert;
/// The hash-chained audit log: workflow changes, suppressions, alerts sent or parked.
pub mod audit;
/// Which sinks exist: the YAML file, its lint, building each sink.
pub mod config;
/// Remembering which alerts were sent, so redelivered changes do not alert twice.
pub mod dedup;
/// Durations as written in the sinks file (`5s`, `15m`, `1h`).
pub mod duration;
/// What an alert e-mail says: one template, plain text and escaped HTML.
pub mod email;
/// Digests and resolved follow-ups as e-mail (text and escaped HTML).
pub mod email_notice;
/// Slack URLs and tokens written inline in a sinks file, found for lint.
pub mod inline_secrets;
/// Live push to open dashboards: the broadcast hub and its sink.
pub mod live;
/// Writes each change as one structured log line.
pub mod log;
/// At most one message per interval to a channel.
pub mod pace;
/// Keeps what it receives (tests, `cspm sinks test`).
pub mod recording;
/// Automatic remediation: approves findings of rules in the remediation file's `auto`.
pub mod remediation;
/// A sink under routes: it wants only what a route sends it.
pub mod routed;
/// Routes: which sinks a change goes to (match keys, `stop`, the default).
pub mod routes;
/// Secrets referenced from configuration (`secret_env`, `secret_ssm`), never inline.
pub mod secrets;
/// E-mail alerts through SES v2, paced to the account's send rate.
#[cfg(feature = "aws")]
pub mod ses;
/// Slack alerts: incoming webhook or chat.postMessage, paced, rate limits resent.
pub mod slack;
/// SNS topics (standard and critical): the alert policy of the scanner, moved here.
#[cfg(feature = "aws")]
pub mod sns;
/// The server-side request forgery policy for sink URLs.
pub mod ssrf;
/// Never flooded: dedup windows, digests, quiet hours and resolved follow-ups.
pub mod throttle;
/// Turns on a channel shared by several processes (pacing across them).
pub mod turns;
/// HTTP POST of signed change batches, refusing server-side request forgery.
pub mod webhook;
/// The live sink on AWS: frames to every WebSocket API connection.
#[cfg(feature = "aws")]
pub mod websocket;

use crate::store::Change;
use async_trait::async_trait;
use std::time::Duration;

/// Why a sink could not take a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// Trying again later may work (throttling, a timeout, a 5xx). The cursor stays;
    /// the dispatcher backs off, at least `retry_after` when the receiver said so.
    #[error("{reason}")]
    Retryable {
        /// What went wrong (never a secret: URLs and tokens are redacted).
        reason: String,
        /// How long the receiver asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help until someone changes something (a 4xx, a bad
    /// topic, a missing permission): the batch is parked at once.
    #[error("{reason}")]
    Permanent {
        /// What went wrong.
        reason: String,
    },
}

impl SinkError {
    /// A retryable failure without a receiver-given delay.
    pub fn retryable(reason: impl Into<String>) -> SinkError {
        SinkError::Retryable {
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// A permanent failure.
    pub fn permanent(reason: impl Into<String>) -> SinkError {
        SinkError::Permanent {
            reason: reason.into(),
        }
    }

    /// True for [`SinkError::Retryable`].
    pub fn is_retryable(&self) -> bool {
        matches!(self, SinkError::Retryable { .. })
    }

    /// Of several failures of one batch (parts sent side by side), the one the
    /// dispatcher must act on: a permanent one (retrying cannot help), else the
    /// retryable one asking the longest wait. `None` for none.
    pub fn gravest(errors: impl IntoIterator<Item = SinkError>) -> Option<SinkError> {
        errors.into_iter().max_by_key(|e| match e {
            SinkError::Permanent { .. } => (1, Duration::ZERO),
            SinkError::Retryable { retry_after, .. } => (0, retry_after.unwrap_or_default()),
        })
    }
}

/// Somewhere changes go.
///
/// Delivery is at least once: after a crash or a retry a sink may be handed a change
/// it already took; [`Change::key`] identifies it. `send` gets only changes `wants`
/// accepted, in feed order (revision order per finding), at most `max_batch` at once.
#[async_trait]
pub trait Sink: Send + Sync {
    /// The configured name (cursors, status and parked batches are kept under it).
    fn name(&self) -> &str;

    /// True when this sink takes `change` (its filters: severity, kinds, quiet…).
    fn wants(&self, change: &Change) -> bool;

    /// Delivers a batch; `Ok` means every change of it is delivered.
    async fn send(&self, changes: &[Change]) -> Result<(), SinkError>;

    /// Most changes handed to one `send`.
    fn max_batch(&self) -> usize {
        100
    }

    /// The alerting channel this sink sends on (`webhook`, `sns`, `slack`,
    /// `email`), or `None` for sinks that do not alert (log, audit, live, tests).
    /// Deliveries on a channel are audited as alerts sent and counted per channel.
    fn channel(&self) -> Option<&'static str> {
        None
    }
}

/// What every sink kind may filter on (config's common fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only changes whose finding is at least this severe.
    pub min_severity: Option<shared_types::Severity>,
    /// Only these change kinds (none: all).
    pub changes: Vec<shared_types::ChangeKind>,
    /// Also quiet changes (demo data, archival, restores): off for alerting sinks.
    pub quiet: bool,
}

impl Filter {
    /// True when `change` passes.
    pub fn accepts(&self, change: &Change) -> bool {
        (self.quiet || !change.quiet)
            && self.min_severity.is_none_or(|m| change.at_least(m))
            && (self.changes.is_empty() || self.changes.contains(&change.kind))
    }
}
