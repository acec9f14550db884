//! Lambda handlers as plain library functions: the binaries in `src/bin/` only set
//! up logging and configuration and hand these to the runtime, so tests call them
//! directly with recorded events.

/// The `api` Lambda: the shared axum router behind API Gateway.
pub mod api;
/// Cold-start wiring shared by the binaries.
pub mod boot;
/// The `exporter` Lambda: export jobs from their SQS queue.
pub mod exporter;
/// The `fanout` Lambda: its sinks from SSM (or the alert topics), over the stream.
pub mod fanout;
/// The live dashboard's `live` and `live_authorizer` Lambdas (WebSocket API).
pub mod live;
/// The `remediator` Lambda: approved remediations from their SQS queue.
pub mod remediator;
/// The `scanner` Lambda: EventBridge events, their SQS redrive, and the scheduled sync.
pub mod scanner;
