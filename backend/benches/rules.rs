//! Rule-evaluation throughput: the whole built-in pack on every real CloudTrail
//! record of the corpus (`cloudtrail/`, `cloudtrail-records/` and the CloudTrail
//! events of `rule-case/`). "thrpt" is records/s on one core.
//!
//! The parse + evaluate figure takes the path `cspm ingest` takes for a streamed
//! log record: parse, then hand the record over (`parse_log_value`).
//!
//! Run: `cargo bench -p backend --bench rules` (or `scripts/bench_rules.sh`, which
//! also measures peak memory streaming a large `.json.gz` log through `cspm ingest`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cspm::sources::Normalizer;
use serde_json::Value;
use std::hint::black_box;
use std::time::{Duration, Instant};

// The allocator `cspm` runs with (bin/cspm.rs): parsing and findings are mostly
// small allocations, so measuring with the system allocator would measure glibc,
// not the path `cspm ingest` takes.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");

/// Every CloudTrail record in the corpus, as parsed JSON and as text.
fn records() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for folder in ["cloudtrail", "cloudtrail-records", "rule-case"] {
        let Ok(entries) = std::fs::read_dir(format!("{CORPUS}/{folder}")) else {
            eprintln!("corpus folder {folder} not found under {CORPUS}");
            continue;
        };
        let mut paths: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let Some(doc) = std::fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            else {
                continue;
            };
            let doc = doc.get("event").cloned().unwrap_or(doc);
            let list = match doc.get("Records").cloned().unwrap_or(doc) {
                Value::Array(items) => items,
                one => vec![one.get("detail").cloned().unwrap_or(one)],
            };
            out.extend(
                list.into_iter()
                    .filter(|r| r.get("eventName").is_some())
                    .map(|r| (r.to_string(), r)),
            );
        }
    }
    out
}

fn bench_rules(c: &mut Criterion) {
    let recs = records();
    if recs.is_empty() {
        eprintln!("no CloudTrail records found: nothing to measure");
        return;
    }
    let norm = Normalizer::default();
    report(&norm, &recs);
    let mut group = c.benchmark_group("rules");
    group.sample_size(30);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(recs.len() as u64));
    group.bench_function("evaluate_pack_on_records", |b| {
        b.iter(|| {
            for (i, (_, r)) in recs.iter().enumerate() {
                black_box(norm.parse_log_record(black_box(r), i));
            }
        })
    });
    group.bench_function("json_parse_and_evaluate_pack", |b| {
        b.iter(|| {
            for (i, (text, _)) in recs.iter().enumerate() {
                if let Ok(r) = serde_json::from_str::<Value>(black_box(text)) {
                    black_box(norm.parse_log_value(r, i));
                }
            }
        })
    });
    group.finish();
}

/// Plain events/s figures printed up front (criterion's own output follows).
fn report(norm: &Normalizer, recs: &[(String, Value)]) {
    let rounds = 300;
    let matches: usize = recs
        .iter()
        .map(|(_, r)| norm.parse_log_record(r, 0).findings.len())
        .sum();
    let start = Instant::now();
    for _ in 0..rounds {
        for (i, (_, r)) in recs.iter().enumerate() {
            black_box(norm.parse_log_record(r, i));
        }
    }
    let eval = (rounds * recs.len()) as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    for _ in 0..rounds {
        for (i, (text, _)) in recs.iter().enumerate() {
            if let Ok(r) = serde_json::from_str::<Value>(text) {
                black_box(norm.parse_log_value(r, i));
            }
        }
    }
    let parsed = (rounds * recs.len()) as f64 / start.elapsed().as_secs_f64();
    // The floor under "parse + evaluate": what parsing alone allows.
    let start = Instant::now();
    for _ in 0..rounds {
        for (text, _) in recs {
            black_box(serde_json::from_str::<Value>(text).ok());
        }
    }
    let parse_only = (rounds * recs.len()) as f64 / start.elapsed().as_secs_f64();
    println!(
        "{} rules, {} records ({matches} matches per pass): evaluate {eval:.0} events/s; JSON parse + evaluate {parsed:.0} events/s; JSON parse alone {parse_only:.0} events/s (one core)",
        norm.rules.get().rules().len(),
        recs.len()
    );
}

criterion_group!(benches, bench_rules);
criterion_main!(benches);
