//! Integration tests: one binary, one module per feature.

mod api;
mod api_lambda;
/// Archiver: sinks, faults, crash recovery, round trip.
mod archive;
mod aws_env;
/// `cspm` itself on DynamoDB in the emulator.
mod cli_dynamo;
mod corpus;
/// Every Security Hub document of the shared corpus, parsed and normalized.
mod corpus_asff;
mod dynamo;
mod fault_proxy;
mod helpers;
mod ingest;
/// The scanner Lambda handler: corpus envelopes, SQS partial failures, SNS alerts.
mod scanner;
mod serve_e2e;
mod store_contract;
mod store_dynamo;
mod store_sqlite;
/// The scheduled Security Hub sync against the emulator.
mod sync;
