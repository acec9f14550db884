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

/// `cspm <args>` pointed at the emulator's `table`, with test credentials.
pub fn cspm_command(endpoint: &str, table: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(CSPM);
    cmd.args(args)
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
        .env_remove("AWS_PROFILE");
    cmd
}

/// `cspm <args>` against the emulator's table; returns stdout, panics on failure.
fn cspm(endpoint: &str, table: &str, args: &[&str]) -> String {
    let out = cspm_command(endpoint, table, args)
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

#[tokio::test]
async fn the_retention_sets_dynamodbs_ttl_after_the_archive_cutoff() {
    let Some(ep) = aws_env::endpoint("cli_dynamo_ttl") else {
        return;
    };
    let table = unique("ttl");
    let folder = crate::helpers::corpus_dir().join("asff");
    cspm(
        &ep,
        &table,
        &[
            "ingest",
            "--create-table",
            "--retention-days",
            "200",
            folder.to_str().unwrap(),
        ],
    );
    let client = cspm::aws::dynamodb_client(&sdk_config(&ep).await);
    let items = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let mut checked = 0;
    for item in &items {
        let (Some(exp), Some(upd)) = (item.get("expires_at"), item.get("updated_exact")) else {
            continue; // the summary counters have no TTL
        };
        let expires: i64 = exp.as_n().unwrap().parse().unwrap();
        let updated: chrono::DateTime<chrono::Utc> = upd.as_s().unwrap().parse().unwrap();
        let cutoff = updated + chrono::Duration::days(200);
        assert!(
            expires > cutoff.timestamp(),
            "TTL {expires} before the cutoff {cutoff}"
        );
        checked += 1;
    }
    assert!(checked > 10, "{checked} findings checked");

    // Archiving later than the retention would let TTL win the race: refused.
    let out = Command::new(CSPM)
        .args([
            "archive",
            "--older-than",
            "300d",
            "--archive-dir",
            "/tmp/never-used",
        ])
        .args([
            "--store",
            "dynamodb",
            "--table",
            &table,
            "--aws-endpoint",
            &ep,
        ])
        .args(["--aws-region", "us-east-1", "--retention-days", "200"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--retention-days"), "{err}");
}

#[test]
fn without_credentials_the_dynamodb_store_says_so_and_how_to_fix_it() {
    let empty = tempfile::tempdir().unwrap();
    let none = empty.path().join("none");
    let out = Command::new(CSPM)
        .args(["ingest", "--store", "dynamodb", "--table", "cspm-findings"])
        .args(["--aws-region", "us-east-1"])
        .arg(crate::helpers::corpus_dir().join("asff"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no AWS credentials found"), "{err}");
    assert!(
        err.contains("AWS_ACCESS_KEY_ID") && err.contains("AWS_PROFILE"),
        "{err}"
    );
    assert!(!err.contains("unhandled error"), "{err}");
}
