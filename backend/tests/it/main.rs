//! Integration tests: one binary, one module per feature.

/// Every Security Hub document of the shared corpus, parsed and normalized.
mod corpus_asff;
