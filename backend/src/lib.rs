//! cspm-monitor backend library. Binaries in `src/bin/` are thin entry points over it.

/// Daily archival of old findings to gzip JSON Lines parts (local folder or S3), verified before delete.
pub mod archive;
/// AWS SDK clients and the Lambdas' configuration (environment + SSM).
pub mod aws;
/// The `cspm` command line (one file per subcommand).
pub mod cli;
/// Runtime configuration from environment variables and CLI flags.
pub mod config;
/// Deterministic synthetic findings for `cspm demo`, `serve --demo` and benchmarks.
pub mod demo;
/// Detection rules as data: paths, templates and the rule engine.
pub mod detect;
/// The axum router shared by the local server, the `api` Lambda and the tests.
pub mod http;
/// Stable short finding ids.
pub mod ids;
/// Reading finding documents from files, folders and stdin, and storing them.
pub mod ingest;
/// Lambda handlers (library side of the thin `src/bin/` Lambda binaries).
pub mod lambda;
/// Where alerts go (the `Notifier` port) and when a finding alerts.
pub mod notify;
/// One module per event source, each normalizing to the shared `Finding`.
pub mod sources;
/// The `Store` port and its implementations.
pub mod store;
/// Timestamp parsing for the many forms real data uses.
pub mod time;
