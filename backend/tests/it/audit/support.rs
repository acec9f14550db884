//! Reading an audit folder back, saying what its lines say, and running `cspm audit`.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `cspm` binary.
pub const CSPM: &str = env!("CARGO_BIN_EXE_cspm");

/// Every object of the log under `dir`, in chain order (by first seq).
pub fn objects(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for day in std::fs::read_dir(dir).unwrap().flatten() {
        if !day.file_name().to_string_lossy().starts_with("dt=") {
            continue;
        }
        for f in std::fs::read_dir(day.path()).unwrap().flatten() {
            out.push(f.path());
        }
    }
    out.sort_by_key(|p| p.file_name().unwrap().to_owned());
    out
}

/// Every line of the log under `dir`, parsed, in chain order.
pub fn lines(dir: &Path) -> Vec<Value> {
    if !dir.exists() {
        return Vec::new();
    }
    objects(dir)
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs `cspm audit <args>`; exit code and stdout.
pub fn cspm_audit(args: &[&str]) -> (i32, String) {
    let out = Command::new(CSPM)
        .arg("audit")
        .args(args)
        .env_remove("CSPM_AUDIT_DIR")
        .output()
        .expect("run cspm audit");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// What a line says, without times and hashes: event, finding, sink, actor, from, to, rule.
pub fn gist(v: &Value) -> String {
    let f = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
    format!(
        "{} {} sink={} actor={} {}->{} rule={}",
        f("event"),
        f("finding_id"),
        f("sink"),
        f("actor"),
        f("from"),
        f("to"),
        f("rule")
    )
}

/// The gists of one phase, whose order inside it is the sinks' race.
pub fn set(items: &[String]) -> BTreeSet<String> {
    items.iter().cloned().collect()
}
