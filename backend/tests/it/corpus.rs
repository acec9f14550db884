//! The sample events shipped inside the `aws_lambda_events` crate.

use serde_json::Value;
use std::path::PathBuf;

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
