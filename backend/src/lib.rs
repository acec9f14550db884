//! cspm-monitor backend library. Binaries in `src/bin/` are thin entry points over it.

/// Daily archival of old findings to gzip JSON Lines parts (local folder or S3), verified before delete.
pub mod archive;
/// Roles, principals and credentials: API tokens, named tokens, OIDC token verification.
pub mod auth;
/// AWS SDK clients, credential checks and what an SDK error means.
pub mod aws;
/// The `cspm` command line (one file per subcommand).
pub mod cli;
/// Compliance scores per security standard from the stored control findings,
/// with a daily snapshot for the trend.
pub mod compliance;
/// One configuration: every environment variable, the store, detection, HTTP and
/// Lambda settings.
pub mod config;
/// Deterministic synthetic findings for `cspm demo`, `serve --demo` and benchmarks.
pub mod demo;
/// Detection rules as data: paths, templates and the rule engine.
pub mod detect;
/// Reading documents (JSON, JSON Lines, gzip, streamed log files) from files and bodies.
pub mod documents;
/// Exports of the filtered findings as CSV, JSON Lines or OCSF, streamed page by page.
pub mod export;
/// The fan-out: a dispatcher handing the change feed to the sinks (locally and on AWS).
pub mod feed;
/// One writer per folder across processes: an exclusive file lock with a short wait.
pub mod file_lock;
/// The axum router shared by the local server, the `api` Lambda and the tests.
pub mod http;
/// Stable short finding ids.
pub mod ids;
/// `cspm ingest`: files, folders and stdin through the pipeline.
pub mod ingest;
/// Lambda handlers (library side of the thin `src/bin/` Lambda binaries).
#[cfg(feature = "aws")]
pub mod lambda;
/// Live push plumbing: tickets, and on AWS the WebSocket connections, posting and resume.
pub mod live;
/// Counters and gauges: EMF lines on Lambda, `GET /metrics` locally.
pub mod metrics;
/// The one path every finding takes: normalize → detect/suppress → decide → store.
pub mod pipeline;
/// Remediation: plan, guards, apply and verify of one action per file.
pub mod remediate;
/// The one retry policy: bounded exponential backoff with full jitter, and a helper
/// that re-runs an operation while its error is retryable.
pub mod retry;
/// Everything that reacts to findings: the `Sink` port and one file per channel.
pub mod sinks;
/// One module per event source, each normalizing to the shared `Finding`.
pub mod sources;
/// The `Store` port and its implementations.
pub mod store;
/// Timestamp parsing for the many forms real data uses.
pub mod time;
