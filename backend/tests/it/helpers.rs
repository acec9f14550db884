//! Shared test helpers: fixtures built from the demo generator and corpus paths.

use chrono::{DateTime, Duration, Utc};
use shared_types::Finding;
use std::path::PathBuf;

/// The shared corpus of real published events (`shared/` beside the repository).
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus"))
}

/// A fixed anchor so fixtures are the same on every run.
pub fn anchor() -> DateTime<Utc> {
    "2026-06-01T12:00:00Z".parse().expect("valid anchor")
}

/// `n` realistic findings (demo generator, fixed anchor and seed).
pub fn findings(n: usize, seed: u64) -> Vec<Finding> {
    cspm::demo::generate(n, anchor(), seed).collect()
}

/// A copy of `f` as the provider would send it later: `updated_at` moved by `secs`.
pub fn version(f: &Finding, secs: i64) -> Finding {
    let mut v = f.clone();
    v.updated_at = f.updated_at + Duration::seconds(secs);
    v
}

/// A pipeline over `store` with the built-in detection (what `cspm serve` builds).
pub fn pipeline(store: std::sync::Arc<dyn cspm::store::Store>) -> cspm::pipeline::Pipeline {
    cspm::pipeline::Pipeline::new(
        std::sync::Arc::new(cspm::sources::Normalizer::default()),
        store,
    )
}

/// Slug of the standard [`control_finding`] belongs to (routes with `{slug}`).
pub const CONTROL_SLUG: &str = "aws-fsbp";

/// A real AWS FSBP control finding (S3.8, FAILED) from the corpus, normalized:
/// stores that hold it answer `GET /compliance/aws-fsbp`.
pub fn control_finding() -> Finding {
    let path = corpus_dir().join("asff/sharr__afsbp-s3.8.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("corpus file")).unwrap();
    cspm::sources::security_hub::normalize_finding(&doc).expect("a valid ASFF finding")
}
