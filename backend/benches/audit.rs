//! Audit log figures (prints them; not a timed test):
//! 1. lines/s sustained locally: 200,000 records handed to the audit sink's outbox
//!    in batches of 1,000 (what the dispatcher gives it) while the one writer chains
//!    them into the day's file (fsync + SQLite commit per write), timed until the
//!    outbox is empty;
//! 2. `cspm audit verify` over 1,000,000 lines: a log written by the chain code in
//!    64 MB parts, checked by the same function the command runs (and the command
//!    itself when `CSPM_BENCH_BIN` names the `cspm` binary).
//!
//! `cargo bench -p backend --bench audit` (release build), or `scripts/bench_audit.sh`.

use chrono::Utc;
use cspm::archive::LocalDirSink;
use cspm::sinks::audit::chain::{link, Head};
use cspm::sinks::audit::local::{LocalWriter, Outbox, MAX_PART_BYTES};
use cspm::sinks::audit::read;
use cspm::sinks::audit::record::{AuditEvent, AuditRecord};
use cspm::sinks::audit::Journal;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A realistic line: a person's workflow change with a note.
fn record(i: usize) -> AuditRecord {
    let mut r = AuditRecord::new(AuditEvent::WorkflowChanged, Utc::now());
    r.actor = Some("alice@example.com".into());
    r.finding_id = Some(format!("k5UpJJZKBmcI4cuer-{i:06}"));
    r.key = Some(format!("k5UpJJZKBmcI4cuer-{i:06}:3"));
    r.severity = Some(shared_types::Severity::High);
    r.from = Some(shared_types::WorkflowStatus::New);
    r.to = Some(shared_types::WorkflowStatus::Resolved);
    r.note = Some("rotated the access key and removed the inline policy".into());
    r
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        sustained().await;
        verify_million().await;
    });
}

async fn sustained() {
    const N: usize = 200_000;
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("cspm.db");
    let dir = tmp.path().join("audit");
    let outbox = Outbox::open(&db).expect("outbox");
    let writer = LocalWriter::open(&dir, &db, &outbox).expect("writer");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = writer.spawn(Duration::from_millis(50), stopped);
    let records: Vec<AuditRecord> = (0..N).map(record).collect();
    let t = Instant::now();
    for chunk in records.chunks(1000) {
        outbox.record(chunk).await.expect("record");
    }
    let handed = t.elapsed();
    while outbox.pending().expect("pending") > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let total = t.elapsed();
    let _ = stop.send(true);
    let _ = task.await;
    let lines = read::verify(&LocalDirSink::new(&dir), None, None)
        .await
        .expect("verify");
    assert!(lines.broken.is_none() && lines.lines == N as u64);
    println!(
        "audit: {N} lines sustained locally in {:.2} s = {:.0} lines/s (outbox inserts done after {:.2} s; goal >= 20,000/s)",
        total.as_secs_f64(),
        N as f64 / total.as_secs_f64(),
        handed.as_secs_f64()
    );
}

async fn verify_million() {
    const N: usize = 1_000_000;
    let tmp = tempfile::tempdir().expect("tempdir");
    let day = tmp.path().join(format!("dt={}", Utc::now().date_naive()));
    std::fs::create_dir_all(&day).expect("day");
    let recs: Vec<String> = (0..10_000).map(|i| record(i).to_json()).collect();
    let mut head = Head::GENESIS;
    let mut part = Vec::with_capacity(MAX_PART_BYTES as usize + (1 << 22));
    let mut first = 1;
    let mut bytes = 0usize;
    for _ in 0..N / recs.len() {
        head = link(head, &recs, Utc::now(), &mut part);
        if part.len() as u64 >= MAX_PART_BYTES {
            bytes += part.len();
            std::fs::write(day.join(format!("part-{first:012}.jsonl")), &part).expect("write");
            part.clear();
            first = head.seq + 1;
        }
    }
    if !part.is_empty() {
        bytes += part.len();
        std::fs::write(day.join(format!("part-{first:012}.jsonl")), &part).expect("write");
    }
    let sink: Arc<dyn cspm::archive::ArchiveSink> = Arc::new(LocalDirSink::new(tmp.path()));
    let t = Instant::now();
    let v = read::verify(sink.as_ref(), None, None)
        .await
        .expect("verify");
    let took = t.elapsed();
    assert!(v.broken.is_none() && v.lines == N as u64, "{v:?}");
    println!(
        "audit verify: {N} lines ({:.0} MB, {} objects) in {:.2} s in-process (goal <= 10 s)",
        bytes as f64 / 1e6,
        v.objects,
        took.as_secs_f64()
    );
    if let Ok(bin) = std::env::var("CSPM_BENCH_BIN") {
        let t = Instant::now();
        let out = std::process::Command::new(bin)
            .args(["audit", "verify", "--from"])
            .arg(tmp.path())
            .output()
            .expect("run cspm");
        println!(
            "audit verify: `cspm audit verify` over the same log: exit {} in {:.2} s: {}",
            out.status.code().unwrap_or(-1),
            t.elapsed().as_secs_f64(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
}
