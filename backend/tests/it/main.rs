//! Integration tests: one binary, one module per feature.

mod api;
mod helpers;
mod ingest;
mod serve_e2e;
mod store_contract;
mod store_sqlite;
