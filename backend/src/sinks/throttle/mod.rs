//! Never flooded. Between the routes and an alerting channel (Slack, e-mail) sits
//! one decision per change ([`decide::decide`], pure): send it now, count it into
//! a dedup window (same rule on the same resource), hold it for the channel's
//! digest (more than `digest_after` messages within `digest_window`, or quiet
//! hours), or drop it (already alerted at the same or a higher severity). The
//! channel's memory of what it decided is a port ([`state::ThrottleState`]: a
//! SQLite file locally) so it holds across restarts and redeliveries, and
//! [`sink::Throttled`] is the sink that asks, sends and flushes digests.
//!
//! ```yaml
//! routes:
//!   - {name: critical-prod, match: {severity_at_least: CRITICAL}, to: [oncall], dedup: 1h, digest_after: 20, digest_window: 15m, resolved_followup: true}
//! quiet_hours: {secmail: {from: "22:00", to: "07:00", tz: "Europe/Berlin"}}
//! ```

/// The decision table: one pure function over a change, the route's options, the
/// channel's state and `now`.
pub mod decide;
/// Digests: held messages grouped into one message per window, with their links.
pub mod digest;
/// The DynamoDB implementation of the state port (the `fanout` Lambda).
#[cfg(feature = "aws")]
pub mod dynamo;
/// What a channel posts besides alerts: digests and resolved follow-ups.
pub mod notice;
/// Quiet hours per sink: local times in a named time zone.
pub mod quiet;
/// The sink that applies decisions and flushes digests.
pub mod sink;
/// The SQLite implementation of the state port.
pub mod sqlite;
/// The state port: what a channel remembers between changes.
pub mod state;

use std::time::Duration;

/// A route's throttling options (routes.rs reads them from the sinks file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Throttle {
    /// Same rule + resource within this long: one message, the rest counted.
    pub dedup: Option<Duration>,
    /// `(digest_after, digest_window)`: more than `digest_after` messages within
    /// the window are held for one digest at its end.
    pub digest: Option<(u32, Duration)>,
    /// Send a "✓ resolved by …" follow-up for findings this channel alerted on.
    pub resolved_followup: bool,
}
