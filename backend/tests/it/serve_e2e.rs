//! The real `cspm` binary: `serve` on port 0 answering over TCP, `ingest` from
//! stdin, `demo`, and the refusal to expose data without a token.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

const CSPM: &str = env!("CARGO_BIN_EXE_cspm");

/// A running `cspm serve`, killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cspm serve` on port 0 over `data_dir` with `extra` flags.
pub fn serve(data_dir: &std::path::Path, extra: &[&str]) -> Server {
    serve_with_env(data_dir, extra, &[])
}

/// [`serve`] with `env` added to its environment (settings read from variables).
pub fn serve_with_env(data_dir: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(CSPM)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--dashboard-dir",
            "/nonexistent",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra)
        .env_remove("CSPM_API_TOKEN")
        // A variable from the runner's shell must not move a test's audit log.
        .env_remove("CSPM_AUDIT_DIR")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cspm serve");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Server { child, base }
}

/// Posts `docs` to `POST /events`, then resolves the newest finding listed with
/// `note` through `PATCH` (a known ingest and one workflow change).
pub async fn post_then_resolve_newest(server: &Server, docs: &[serde_json::Value], note: &str) {
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/events", server.base))
        .json(docs)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let list: serde_json::Value = client
        .get(format!("{}/findings", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    let r = client
        .patch(format!("{}/findings/{id}", server.base))
        .json(&serde_json::json!({"workflow_status": "RESOLVED", "note": note}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn serve_with_demo_data_answers_findings_over_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &["--demo", "--demo-count", "800"]);
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let get_json = |path: &str| {
        let req = client.get(format!("{}{path}", server.base));
        async move {
            req.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let page = get_json("/findings?severity=CRITICAL").await;
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["severity"] == "CRITICAL"));
    let summary = get_json("/summary").await;
    assert_eq!(summary["total"], 800);
}

#[test]
fn serve_refuses_a_public_address_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(CSPM)
        .args(["serve", "--addr", "0.0.0.0:0"])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("CSPM_API_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without authentication"));
}

#[test]
fn ingest_reads_stdin_and_reports_counts() {
    let dir = tempfile::tempdir().unwrap();
    let findings: Vec<serde_json::Value> = super::helpers::findings(3, 21)
        .into_iter()
        .map(|f| f.raw)
        .collect();
    let run = |input: &[u8]| {
        let mut child = Command::new(CSPM)
            .args(["ingest", "-", "--data-dir"])
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let body = serde_json::json!({ "Findings": findings }).to_string();
    let first = run(body.as_bytes());
    assert!(
        first.contains("3 stored, 0 updated, 0 unchanged, 0 skipped as older, 0 rejected"),
        "{first}"
    );
    let again = run(body.as_bytes());
    assert!(
        again.contains("0 stored, 0 updated, 3 unchanged"),
        "{again}"
    );
}

#[test]
fn demo_command_fills_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(CSPM)
        .args(["demo", "--count", "1500", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote 1500 demo findings"));
}
