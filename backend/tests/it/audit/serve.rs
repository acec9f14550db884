//! `cspm serve` writes the audit log where `--audit-dir` or `CSPM_AUDIT_DIR` says,
//! nothing under `DATA_DIR/audit`, and `cspm audit verify` finds it there the same
//! two ways.

use super::support::{cspm_audit, lines, CSPM};
use crate::events::compact_finding;
use crate::serve_e2e::{post_then_resolve_newest, serve, serve_with_env, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Stores one finding through `POST /events`, then resolves it: one audited
/// workflow change.
async fn resolve_one(server: &Server) {
    let mut doc = compact_finding();
    doc["Id"] = json!("audit-dir-moved");
    post_then_resolve_newest(server, &[doc], "moved log").await;
}

/// The log under `dir` once it holds a line (the writer drains every 500 ms),
/// waiting at most 15 s.
async fn wait_for_a_line(dir: &Path) -> Vec<Value> {
    let t = Instant::now();
    loop {
        let got = lines(dir);
        if !got.is_empty() || t.elapsed() > Duration::from_secs(15) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The one line of a moved log: the workflow change, and nothing in the default place.
fn assert_moved(data: &Path, got: &[Value]) {
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["event"], "workflow_changed");
    assert_eq!(got[0]["note"], "moved log");
    assert!(
        !data.join("audit").exists(),
        "DATA_DIR/audit was written although the log was moved"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_with_audit_dir_writes_the_log_there() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, moved) = (tmp.path().join("data"), tmp.path().join("elsewhere"));
    std::fs::create_dir_all(&data).unwrap();
    let m = moved.to_str().unwrap();
    let server = serve(&data, &["--no-archive", "--audit-dir", m]);
    resolve_one(&server).await;
    let got = wait_for_a_line(&moved).await;
    drop(server);
    assert_moved(&data, &got);
    let (code, out) = cspm_audit(&["verify", "--audit-dir", m]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 lines in 1 objects, seq 1-1"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_with_cspm_audit_dir_writes_the_log_there() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, moved) = (tmp.path().join("data"), tmp.path().join("elsewhere"));
    std::fs::create_dir_all(&data).unwrap();
    let m = moved.to_str().unwrap();
    let server = serve_with_env(&data, &["--no-archive"], &[("CSPM_AUDIT_DIR", m)]);
    resolve_one(&server).await;
    let got = wait_for_a_line(&moved).await;
    drop(server);
    assert_moved(&data, &got);
    // `cspm audit` reads the same variable (`cspm_audit` removes it, so run it here).
    let out = Command::new(CSPM)
        .args(["audit", "verify", "--data-dir"])
        .arg(&data)
        .env("CSPM_AUDIT_DIR", m)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 lines in 1 objects, seq 1-1"), "{stdout}");
}
