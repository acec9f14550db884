//! The fan-out from the change feed: a dispatcher hands every change to every sink
//! that wants it, at least once, with one durable cursor per sink — locally inside
//! `cspm serve` over the SQLite `changes` table, on AWS in the `fanout` Lambda over
//! DynamoDB Streams (whose checkpoints are the cursors).

/// Delivering one batch: retry, back off, park.
pub mod deliver;
/// The local dispatcher: one task per sink over the SQLite feed.
pub mod dispatcher;
/// The `fanout` Lambda's handler over DynamoDB Streams batches.
#[cfg(feature = "aws")]
pub mod fanout;
/// What the dispatcher and the fanout report about deliveries (audit log, metrics).
pub mod observe;
/// The local dispatcher's durable state (cursors, health, parked batches, sent keys).
pub mod state;
/// DynamoDB Streams records decoded into changes.
#[cfg(feature = "aws")]
pub mod stream;

pub use deliver::{Delivery, RetryPolicy};
pub use dispatcher::{DispatchSettings, Dispatcher, Running};
pub use observe::{DeliveryObserver, DeliveryReport, FeedMetrics, Observers};
pub use state::SinkState;
