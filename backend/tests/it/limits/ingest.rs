//! `cspm ingest` on hostile files: each is rejected with its reason (or read in
//! full, for the 1,000,000-record log file) and the process's peak memory stays
//! under the README's bound of 96 MiB. Peaks of the debug build these tests run
//! (2026-12-02, the same alone or beside the suite): 44 MiB for the deep document,
//! 43 MiB for the million records, 46 MiB for the 1 GiB gzip bomb, 84 MiB for the
//! 50 MB string (one document's 16 MiB of text, its growth buffer and the parse).

use super::{gzip_bomb, nested_json, run_measured, Run, MIB};

/// The README's bound: a document held whole and parsed would need several times
/// its 50 MB-1 GiB size, a log file held whole over 1 GiB.
const BOUND: u64 = 96 * MIB;
use cspm::documents::limits::{MAX_DEPTH, MAX_DOCUMENT_BYTES};
use std::path::Path;
use std::process::Command;

/// `cspm ingest FILE` into a fresh data directory, with the bundled rules only.
fn ingest(file: &Path) -> Run {
    let data = tempfile::tempdir().unwrap();
    run_measured(
        Command::new(env!("CARGO_BIN_EXE_cspm"))
            .arg("ingest")
            .arg("--data-dir")
            .arg(data.path())
            .arg(file)
            .env_remove("CSPM_RULES_DIR")
            .env_remove("CSPM_SUPPRESSIONS")
            .env_remove("CSPM_ACCOUNT_ID_OVERRIDE")
            .env_remove("CSPM_DATA_DIR"),
    )
}

/// Asserts a clean exit, the reason in the report and the memory bound.
fn assert_run(run: &Run, reason: &str, bound: u64) {
    assert_eq!(
        run.code,
        Some(0),
        "cspm ingest did not exit cleanly:\n{}",
        run.output
    );
    assert!(
        run.output.contains(reason),
        "expected {reason:?} in:\n{}",
        run.output
    );
    assert!(
        run.peak_rss < bound,
        "peak memory {} MiB over the bound of {} MiB",
        run.peak_rss / MIB,
        bound / MIB
    );
    eprintln!(
        "peak memory {} MiB (bound {} MiB)",
        run.peak_rss / MIB,
        bound / MIB
    );
}

#[test]
fn ingest_rejects_a_10000_deep_document_with_its_reason_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.json");
    std::fs::write(&file, nested_json(10_000)).unwrap();
    let run = ingest(&file);
    assert_run(
        &run,
        &format!("nested deeper than {MAX_DEPTH} levels"),
        BOUND,
    );
    assert!(run.output.contains("1 rejected"), "{}", run.output);
}

#[test]
fn ingest_rejects_a_50_mb_string_field_at_the_document_limit_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.json");
    let mut text = b"{\"detail-type\":\"x\",\"detail\":\"".to_vec();
    text.resize(text.len() + 50_000_000, b'a');
    text.extend_from_slice(b"\"}");
    std::fs::write(&file, text).unwrap();
    let run = ingest(&file);
    // Reading stops at the limit: one document's text (16 MiB) and its growth
    // buffer, never the 50 MB field and its copy.
    assert_run(
        &run,
        &format!("a document is larger than {MAX_DOCUMENT_BYTES} bytes"),
        BOUND,
    );
}

#[test]
fn ingest_rejects_a_50_mb_json_lines_line_and_reads_the_next_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.jsonl");
    let mut text = b"{\"detail\":\"".to_vec();
    text.resize(text.len() + 50_000_000, b'a');
    text.extend_from_slice(b"\"}\n{\"not\":\"a finding\"}\n");
    std::fs::write(&file, text).unwrap();
    let run = ingest(&file);
    assert_run(
        &run,
        &format!("[0]  id=-  line 1: a document is larger than {MAX_DOCUMENT_BYTES} bytes"),
        BOUND,
    );
    // The second line is read and rejected for what it is, not for its size.
    assert!(
        run.output.contains("2 document(s)") || run.output.contains("[1]"),
        "{}",
        run.output
    );
}

#[test]
fn ingest_reads_a_1000000_record_log_file_one_record_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge-trail.json");
    // Real CloudTrail records no rule matches: read, evaluated, dropped.
    let record = r#"{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventName":"DescribeRegions","eventTime":"2024-01-01T00:00:00Z","awsRegion":"us-east-1"}"#;
    let mut text = String::with_capacity(1_000_000 * (record.len() + 1) + 16);
    text.push_str("{\"Records\":[");
    for i in 0..1_000_000 {
        if i > 0 {
            text.push(',');
        }
        text.push_str(record);
    }
    text.push_str("]}");
    let file_len = text.len() as u64;
    std::fs::write(&file, text).unwrap();
    let run = ingest(&file);
    // The file is ~140 MB; held whole as JSON values it would take over 1 GiB.
    assert!(file_len > 100 * MIB);
    assert_run(&run, "1000000 document(s)", BOUND);
    assert!(run.output.contains("0 rejected"), "{}", run.output);
}

#[test]
fn ingest_stops_a_gzip_bomb_at_the_expansion_bound_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bomb.json.gz");
    // 1 GiB of whitespace in about 1 MiB.
    let bomb = gzip_bomb(1024 * MIB);
    assert!((bomb.len() as u64) < 2 * MIB);
    std::fs::write(&file, bomb).unwrap();
    let run = ingest(&file);
    // The bomb expands to one document: the per-document limit stops it first.
    assert_run(&run, "a document is larger than", BOUND);
}
