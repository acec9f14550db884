//! Integration tests: one binary, one module per feature.

mod api;
mod api_lambda;
/// Archiver: sinks, faults, crash recovery, round trip.
mod archive;
mod aws_env;
mod corpus;
/// Every Security Hub document of the shared corpus, parsed and normalized.
mod corpus_asff;
mod dynamo;
mod fault_proxy;
mod helpers;
mod ingest;
mod serve_e2e;
mod store_contract;
mod store_dynamo;
mod store_sqlite;
