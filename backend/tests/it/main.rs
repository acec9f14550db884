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
/// The rule pack on real CloudTrail events and built gap events.
mod detect_corpus;
mod dynamo;
/// DynamoDB's TTL after the archive cutoff on every write path.
mod dynamo_ttl;
/// `POST /events`: every corpus folder, bad bodies, and the same outcome as ingest.
mod events;
mod fault_proxy;
mod helpers;
mod ingest;
/// `cspm rules` and ingest's detection flags through the real binary.
mod rules_cli;
/// The scanner Lambda handler: corpus envelopes, SQS partial failures, SNS alerts.
mod scanner;
mod serve_e2e;
/// Alarm, GuardDuty and CloudTrail log sources on the real corpus.
mod sources_corpus;
mod store_contract;
mod store_dynamo;
mod store_sqlite;
/// The workflow decision, row by row, through each store (part of the contract).
mod store_workflow;
/// The scheduled Security Hub sync against the emulator.
mod sync;
