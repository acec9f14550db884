//! Fixtures and fault injection for the archive tests.

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use cspm::archive::manifest;
use cspm::archive::writer::versions_of;
use cspm::archive::ArchiveSink;
use cspm::sources::security_hub::normalize_finding;
use cspm::store::{SqliteStore, Store};
use serde_json::json;
use shared_types::Finding;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use super::faulty::{DeleteFault, FaultySink, FaultyStore, UPDATED_TITLE};

/// `(id, updated_at)`: the archived identity of a finding.
pub type Version = (String, DateTime<Utc>);

/// Real ASFF findings from the shared corpus that the Security Hub source accepts.
pub fn corpus_docs() -> Vec<serde_json::Value> {
    let dir = crate::helpers::corpus_dir().join("asff");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("shared corpus next to the project")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let docs: Vec<serde_json::Value> = files
        .iter()
        .filter_map(|p| serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok())
        .filter(|v: &serde_json::Value| normalize_finding(v).is_ok())
        .collect();
    assert!(
        docs.len() >= 10,
        "too few usable corpus findings in {dir:?}"
    );
    docs
}

/// `n` findings normalized from real corpus documents (each given its own `Id` and
/// `UpdatedAt`), `updated_at` spread over `days` days ending 200 days before now
/// (all older than a 90-day retention), with sub-second fractions so timestamp
/// precision is exercised.
pub fn old_findings(n: usize, days: i64) -> Vec<Finding> {
    let docs = corpus_docs();
    // 23:30 on a day 200 days back; offsets stay under 22 hours so each finding's
    // day is exactly `end - i % days` and the per-day counts are predictable.
    let day = (Utc::now() - Duration::days(200)).date_naive();
    let end = day.and_hms_opt(23, 30, 0).unwrap_or_default().and_utc();
    (0..n)
        .map(|i| {
            let mut raw = docs[i % docs.len()].clone();
            let updated_at = end
                - Duration::days(i as i64 % days)
                - Duration::microseconds((i as i64 * 7_919_311) % 79_200_000_000);
            let id = format!("{}#{i}", raw["Id"].as_str().unwrap_or("x"));
            let ts = |t: DateTime<Utc>| json!(t.to_rfc3339_opts(SecondsFormat::Micros, true));
            raw["Id"] = json!(id);
            raw["UpdatedAt"] = ts(updated_at);
            raw["CreatedAt"] = ts(updated_at - Duration::days(3));
            let f = normalize_finding(&raw).expect("corpus finding normalizes");
            assert_eq!(f.updated_at, updated_at);
            f
        })
        .collect()
}

/// A fresh real `SqliteStore` on a temporary file (the directory lives as long as
/// the store).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

pub fn new_store() -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("findings.db")).expect("open SQLite store");
    TestStore {
        store: Arc::new(store),
        _dir: dir,
    }
}

/// Every version in the store (through the archive index with a cutoff far ahead).
pub async fn store_versions(store: &dyn Store) -> BTreeSet<Version> {
    let far = Utc.with_ymd_and_hms(9000, 1, 1, 0, 0, 0).unwrap();
    let mut out = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = store
            .archive_candidates(far, 997, cursor.as_deref())
            .await
            .expect("candidates");
        out.extend(page.candidates.iter().map(|c| (c.id.clone(), c.updated_at)));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// Every version in every part object under `findings/` (listed or not by a manifest),
/// failing the test if a version appears twice or an object is not a verified part.
pub async fn archive_versions(sink: &dyn ArchiveSink) -> BTreeSet<Version> {
    let manifests = manifest::load_all(sink).await.expect("manifests");
    let verified: BTreeMap<String, String> = manifests
        .iter()
        .flat_map(|m| &m.parts)
        .filter(|p| p.is_verified())
        .map(|p| (p.key.clone(), p.sha256.clone()))
        .collect();
    let mut out = BTreeSet::new();
    for key in sink.list("findings/").await.expect("list") {
        let sha = verified.get(&key).unwrap_or_else(|| {
            panic!("{key} is in the archive but no manifest lists it as verified")
        });
        let body = sink
            .get(&key)
            .await
            .expect("get")
            .expect("listed object exists");
        assert_eq!(
            &cspm::archive::writer::sha256_hex(&body),
            sha,
            "{key} does not match its manifest"
        );
        for v in versions_of(&body).expect("part decodes") {
            let dt = cspm::archive::layout::dt_of_part_key(&key).expect("part key has dt");
            assert_eq!(
                v.updated_at.date_naive(),
                dt,
                "{} is in the wrong dt partition",
                v.id
            );
            assert!(
                out.insert((v.id.clone(), v.updated_at)),
                "version {v:?} archived twice"
            );
        }
    }
    out
}

/// Asserts that every finding of `original` is in exactly one of store and archive,
/// except the `updated` ones, whose old version may be archived while the new one is
/// in the store; and that no version is archived twice.
pub async fn assert_nothing_lost_nothing_twice(
    store: &dyn Store,
    sink: &dyn ArchiveSink,
    original: &[Finding],
    updated: &BTreeSet<String>,
) -> (usize, usize) {
    let in_store = store_versions(store).await;
    let in_archive = archive_versions(sink).await;
    let both: Vec<_> = in_store.intersection(&in_archive).collect();
    assert!(
        both.is_empty(),
        "versions both in store and archive: {both:?}"
    );
    for f in original {
        let v = (f.id.clone(), f.updated_at);
        let here = in_store.contains(&v) || in_archive.contains(&v);
        if updated.contains(&f.id) {
            assert!(
                in_store
                    .iter()
                    .any(|(id, t)| id == &f.id && *t > f.updated_at),
                "updated finding {} lost its new version",
                f.id
            );
        } else {
            assert!(here, "finding {} ({}) lost", f.id, f.updated_at);
        }
    }
    let store_ids: BTreeSet<_> = in_store.iter().map(|(id, _)| id.clone()).collect();
    let archive_ids: BTreeSet<_> = in_archive.iter().map(|(id, _)| id.clone()).collect();
    let in_both: BTreeSet<_> = store_ids.intersection(&archive_ids).cloned().collect();
    assert!(
        in_both.is_subset(updated),
        "ids both in store and archive: {in_both:?}"
    );
    let original_ids: BTreeSet<_> = original.iter().map(|f| f.id.clone()).collect();
    let union: BTreeSet<_> = store_ids.union(&archive_ids).cloned().collect();
    assert_eq!(union, original_ids, "ids appeared or vanished");
    (in_store.len(), in_archive.len())
}

/// S3 endpoint of the emulator, or `None` (after a loud skip line) when AWS tests
/// must skip; panics when `CI=true` (see [`crate::aws_env::endpoint`]).
pub fn s3_endpoint(test: &str) -> Option<String> {
    crate::aws_env::endpoint(test)
}

/// An S3 client on the emulator (path-style, static test credentials).
pub async fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    cspm::archive::S3Sink::client(&crate::aws_env::sdk_config(endpoint).await)
}

/// A fresh bucket on the emulator and a sink on it under `prefix`; with `kms_key`
/// the sink asks for SSE-KMS.
pub async fn s3_sink_with(
    endpoint: &str,
    prefix: &str,
    kms_key: Option<String>,
) -> Arc<dyn ArchiveSink> {
    let client = s3_client(endpoint).await;
    let bucket = crate::aws_env::unique("cspm-archive").to_lowercase();
    // Bucket names are at most 63 characters.
    let bucket: String = bucket.chars().take(63).collect();
    let bucket = bucket.trim_end_matches('-').to_owned();
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let loc = format!("s3://{bucket}/{prefix}").parse().expect("location");
    Arc::new(cspm::archive::S3Sink::new(client, loc, kms_key))
}

/// A fresh bucket on the emulator and a sink on it under `prefix` (SSE-S3).
pub async fn s3_sink(endpoint: &str, prefix: &str) -> Arc<dyn ArchiveSink> {
    s3_sink_with(endpoint, prefix, None).await
}
