//! Parse + normalize throughput over the corpus's bare ASFF findings.
//!
//! Run: `cargo bench -p backend --bench parse`. Criterion reports the time to turn
//! every corpus finding (already parsed JSON) into `Finding`s; "thrpt" is findings/s,
//! and the time per finding is printed once before the measurements.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cspm::sources::security_hub::parse_document;
use serde_json::Value;
use std::hint::black_box;
use std::time::{Duration, Instant};

const ASFF_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus/asff");

/// The corpus's bare ASFF documents, as raw text and as parsed JSON.
fn corpus() -> Vec<(String, Value)> {
    let Ok(entries) = std::fs::read_dir(ASFF_DIR) else {
        eprintln!("corpus not found at {ASFF_DIR}");
        return Vec::new();
    };
    let mut docs: Vec<(String, Value)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|text| serde_json::from_str(&text).ok().map(|v| (text, v)))
        .collect();
    docs.sort_by(|a, b| a.0.cmp(&b.0));
    docs
}

fn count_findings(docs: &[(String, Value)]) -> usize {
    docs.iter()
        .map(|(_, v)| parse_document(v).findings.len())
        .sum()
}

fn bench_parse(c: &mut Criterion) {
    let docs = corpus();
    let findings = count_findings(&docs);
    if findings == 0 {
        eprintln!("no findings in {ASFF_DIR}: nothing to measure");
        return;
    }
    report_per_finding(&docs, findings);
    let mut group = c.benchmark_group("asff");
    group.sample_size(30);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(findings as u64));
    group.bench_function("normalize_corpus", |b| {
        b.iter(|| {
            for (_, doc) in &docs {
                black_box(parse_document(black_box(doc)));
            }
        })
    });
    group.bench_function("json_parse_and_normalize_corpus", |b| {
        b.iter(|| {
            for (text, _) in &docs {
                if let Ok(doc) = serde_json::from_str::<Value>(black_box(text)) {
                    black_box(parse_document(&doc));
                }
            }
        })
    });
    group.finish();
}

/// A quick figure printed up front, so the per-finding cost is readable without
/// dividing criterion's per-iteration time by hand.
fn report_per_finding(docs: &[(String, Value)], findings: usize) {
    let rounds = 200;
    let start = Instant::now();
    for _ in 0..rounds {
        for (text, _) in docs {
            if let Ok(doc) = serde_json::from_str::<Value>(text) {
                black_box(parse_document(&doc));
            }
        }
    }
    let per = start.elapsed() / (rounds * findings) as u32;
    println!("JSON parse + normalize: {per:?} per finding ({findings} findings, {rounds} rounds)");
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
