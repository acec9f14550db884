//! The `cspm` binary pointed at DynamoDB in the emulator: the same commands as on
//! SQLite, selected by `--store dynamodb` (or `CSPM_STORE`), table created on demand.

use crate::aws_env::{self, emulator_settings, sdk_config, unique};
use crate::corpus::corpus;
use cspm::sources::Normalizer;
use cspm::store::dynamo::DynamoStore;
use cspm::store::Store;
use std::collections::BTreeSet;
use std::process::Command;

const CSPM: &str = env!("CARGO_BIN_EXE_cspm");

/// `cspm <args>` against the emulator's table; returns stdout, panics on failure.
fn cspm(endpoint: &str, table: &str, args: &[&str]) -> String {
    let out = Command::new(CSPM)
        .args(args)
        .args([
            "--store",
            "dynamodb",
            "--table",
            table,
            "--aws-endpoint",
            endpoint,
        ])
        .args(["--aws-region", "us-east-1", "--dynamo-concurrency", "1"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run cspm");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "cspm {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn cspm_demo_and_ingest_write_to_dynamodb_when_pointed_at_it() {
    let Some(ep) = aws_env::endpoint("cli_dynamo") else {
        return;
    };
    let table = unique("cli");
    let demo = cspm(&ep, &table, &["demo", "--count", "120", "--create-table"]);
    assert!(demo.contains(&format!("dynamodb:{table}")), "{demo}");
    let folder = crate::helpers::corpus_dir().join("asff");
    let ingest = cspm(&ep, &table, &["ingest", folder.to_str().unwrap()]);

    let n = Normalizer::default();
    let corpus_ids: BTreeSet<String> = corpus("asff")
        .iter()
        .flat_map(|(_, d)| n.parse_document(d).findings)
        .map(|f| f.id)
        .collect();
    let store = DynamoStore::new(
        cspm::aws::dynamodb_client(&sdk_config(&ep).await),
        emulator_settings(&table),
    );
    let summary = store
        .summary(chrono::Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(summary.total as usize, 120 + corpus_ids.len(), "{ingest}");
    for id in &corpus_ids {
        assert!(store.get(id).await.unwrap().is_some(), "{id} in DynamoDB");
    }
    // A second run changes nothing (newer-wins upserts in DynamoDB itself).
    cspm(&ep, &table, &["ingest", folder.to_str().unwrap()]);
    let again = store
        .summary(chrono::Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(again.total, summary.total);
}
