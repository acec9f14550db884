//! Integration tests: one binary, one module per feature.

mod api;
mod api_lambda;
mod aws_env;
mod corpus;
mod dynamo;
mod fault_proxy;
mod helpers;
mod ingest;
mod serve_e2e;
mod store_contract;
mod store_dynamo;
mod store_sqlite;
