//! Integration tests: one binary, one module per feature.

mod api;
/// Every Security Hub document of the shared corpus, parsed and normalized.
mod corpus_asff;
mod helpers;
mod ingest;
mod serve_e2e;
mod store_contract;
mod store_sqlite;
