//! `ingest` over the real corpus: folders, `.json.gz`, `.jsonl`, idempotent re-runs.

use super::helpers::corpus_dir;
use cspm::ingest::ingest_paths;
use cspm::pipeline::Pipeline;
use cspm::sources::Normalizer;
use cspm::store::{SqliteStore, Store};
use indicatif::ProgressBar;
use std::io::Write;
use std::sync::Arc;

#[tokio::test]
async fn ingesting_the_corpus_twice_stores_once_and_reports_rejections_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let pipeline = Pipeline::new(Arc::new(Normalizer::default()), store.clone());
    let paths = [
        corpus_dir().join("asff"),
        corpus_dir().join("asff-envelope"),
    ];
    let report = ingest_paths(&pipeline, &paths, &ProgressBar::hidden())
        .await
        .unwrap();
    assert!(report.files >= 60, "{report:?}");
    let first = report.outcome;
    assert!(first.stored > 40, "{first:?}");
    assert!(first.failed.is_empty());
    // The folders' MANIFEST.jsonl lines describe files, not findings: each is
    // rejected with a reason. The one invalid finding in the corpus is the SHARR
    // sample without a GeneratorId.
    for r in &first.rejected {
        let known = r.input.ends_with("MANIFEST.jsonl")
            || (r.input.ends_with("sharr__CIS-bad.json") && r.reason.contains("GeneratorId"));
        assert!(known, "unexpected rejection {r:?}");
        assert!(!r.reason.is_empty());
    }
    assert!(first
        .rejected
        .iter()
        .any(|r| r.input.ends_with("sharr__CIS-bad.json")));
    assert_eq!(
        first.noted.len(),
        1,
        "the Insight Results event holds no findings"
    );
    let today = chrono::Utc::now().date_naive();
    let total = store.summary(today).await.unwrap().total as usize;
    assert_eq!(total, first.stored);

    let second = ingest_paths(&pipeline, &paths, &ProgressBar::hidden())
        .await
        .unwrap()
        .outcome;
    assert_eq!(second.stored, 0);
    assert_eq!(second.updated, 0);
    assert_eq!(
        second.unchanged,
        first.stored + first.updated + first.unchanged
    );
    assert_eq!(second.rejected.len(), first.rejected.len());
}

#[tokio::test]
async fn gzip_and_json_lines_inputs_give_the_same_findings_as_plain_files() {
    let src = corpus_dir().join("asff");
    let mut docs = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names.iter().take(12) {
        let v: serde_json::Value = match serde_json::from_slice(&std::fs::read(p).unwrap()) {
            Ok(v) => v,
            Err(_) => continue,
        };
        docs.push(v);
    }
    let tmp = tempfile::tempdir().unwrap();
    let gz = tmp.path().join("batch.json.gz");
    let mut enc =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
    enc.write_all(serde_json::to_string(&docs).unwrap().as_bytes())
        .unwrap();
    enc.finish().unwrap();
    let jsonl = tmp.path().join("batch.jsonl");
    let lines: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    std::fs::write(&jsonl, lines.join("\n")).unwrap();

    let norm = Arc::new(Normalizer::default());
    let mut reports = Vec::new();
    for input in [&gz, &jsonl] {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
        let pipeline = Pipeline::new(norm.clone(), store);
        reports.push(
            ingest_paths(
                &pipeline,
                std::slice::from_ref(input),
                &ProgressBar::hidden(),
            )
            .await
            .unwrap()
            .outcome,
        );
    }
    assert!(reports[0].stored > 0);
    assert_eq!(reports[0].stored, reports[1].stored);
    assert_eq!(reports[0].rejected.len(), reports[1].rejected.len());
}
