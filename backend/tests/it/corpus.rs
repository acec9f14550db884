//! Real recorded events: `../shared/corpus/` beside the project, and the sample
//! events shipped inside the `aws_lambda_events` crate.

use super::helpers::corpus_dir;
use serde_json::Value;
use std::path::PathBuf;

/// Every document of a corpus folder, with its file name, sorted by name.
pub fn corpus(folder: &str) -> Vec<(String, Value)> {
    let dir = corpus_dir().join(folder);
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus folder {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (
                name,
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A sample event from the `aws_lambda_events` crate's `src/fixtures/`, found in
/// cargo's registry (the crate is a dependency, so its source is always there).
pub fn lambda_fixture(name: &str) -> Value {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    let registry = home.join("registry/src");
    for index in std::fs::read_dir(&registry)
        .expect("cargo registry")
        .flatten()
    {
        let mut crates: Vec<_> = std::fs::read_dir(index.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|c| {
                c.file_name()
                    .to_string_lossy()
                    .starts_with("aws_lambda_events-")
            })
            .collect();
        crates.sort_by_key(|c| c.file_name());
        for c in crates.iter().rev() {
            let p = c.path().join("src/fixtures").join(name);
            if let Ok(text) = std::fs::read_to_string(&p) {
                return serde_json::from_str(&text).expect("fixture JSON");
            }
        }
    }
    panic!("fixture {name} not found under {}", registry.display());
}

/// The corpus envelopes wrapped as an SQS batch (the DLQ redrive shape), one
/// message per envelope, built on the crate's recorded SQS event.
pub fn sqs_batch(bodies: &[(String, String)]) -> Value {
    let sample = lambda_fixture("example-sqs-event.json");
    let template = sample["Records"][0].clone();
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| {
            let mut r = template.clone();
            r["messageId"] = Value::String(id.clone());
            r["body"] = Value::String(body.clone());
            r
        })
        .collect();
    serde_json::json!({ "Records": records })
}
