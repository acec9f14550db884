//! `cspm recount` on DynamoDB in the emulator: a table whose counter items are
//! missing (written before the view counters) or wrong (a stale summary
//! attribute) gets them back from its findings; a dry run reports the
//! differences and writes nothing; a recount of a correct table changes nothing.

use crate::aws_env::{self, dynamo_store_at};
use crate::cli_dynamo::cspm_command;
use crate::dynamo::{finding, recount, t0};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Duration;
use cspm::store::dynamo::counters::all_view_ids;
use cspm::store::dynamo::DynamoStore;
use cspm::store::Store;
use shared_types::{FindingFilter, Severity, WorkflowStatus, WorkflowUpdate};

/// `cspm recount [--dry-run]` against the store's table: (exit code, stdout).
fn cspm_recount(endpoint: &str, store: &DynamoStore, dry_run: bool) -> (i32, String) {
    let args: &[&str] = if dry_run {
        &["recount", "--dry-run"]
    } else {
        &["recount"]
    };
    let out = cspm_command(endpoint, store.table(), args)
        .output()
        .expect("run cspm");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 2,
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, stdout)
}

/// The view counts the test checks, from the counters and from listing.
async fn counts(store: &DynamoStore) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for pairs in [
        vec![("severity", "HIGH")],
        vec![("status", "RESOLVED")],
        vec![
            ("account", "111122220001"),
            ("resource_type", "AwsS3Bucket"),
        ],
    ] {
        let f = FindingFilter::from_pairs(pairs).unwrap();
        let listed = crate::dynamo::list_all(store, &f, 500).await.len() as u64;
        let counted = store.count(&f).await.unwrap();
        assert!(counted.exact);
        out.push((counted.total, listed));
    }
    out
}

#[tokio::test]
async fn a_table_with_missing_or_wrong_counters_is_recounted_from_its_findings() {
    let Some(ep) = aws_env::endpoint("dynamo_recount") else {
        return;
    };
    let store = dynamo_store_at(&ep).await;
    let today = t0().date_naive();
    let fs: Vec<_> = (0..90)
        .map(|n| {
            let sev = [Severity::High, Severity::Low, Severity::Critical][n % 3];
            finding(n, sev, t0() + Duration::seconds(n as i64))
        })
        .collect();
    store.upsert(&fs).await.unwrap();
    for f in fs.iter().take(7) {
        let update = WorkflowUpdate {
            workflow_status: WorkflowStatus::Resolved,
            note: None,
        };
        store
            .set_workflow(&f.id, &update, "analyst", t0() + Duration::hours(1))
            .await
            .unwrap();
    }
    let right = counts(&store).await;
    assert!(right.iter().all(|(c, l)| c == l), "{right:?}");

    // As a table from before the view counters: none of them; and one summary
    // attribute off by five.
    let client = store.client();
    for id in all_view_ids() {
        client
            .delete_item()
            .table_name(store.table())
            .key("id", AttributeValue::S(id))
            .send()
            .await
            .unwrap();
    }
    client
        .update_item()
        .table_name(store.table())
        .key("id", AttributeValue::S("#counts#00".into()))
        .update_expression("ADD #t :five")
        .expression_attribute_names("#t", "t")
        .expression_attribute_values(":five", AttributeValue::N("5".into()))
        .send()
        .await
        .unwrap();
    assert!(counts(&store).await.iter().all(|(c, _)| *c == 0));

    // A dry run names the differences and writes nothing.
    let (code, out) = cspm_recount(&ep, &store, true);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("90 findings counted"), "{out}");
    assert!(out.contains("#counts#00 t: stored"), "{out}");
    assert!(out.contains("nothing written (dry run)"), "{out}");
    assert!(counts(&store).await.iter().all(|(c, _)| *c == 0));

    let report = store.recount_counters(false).await.unwrap();
    assert_eq!(report.findings, 90);
    // Only the differing items are written: the view items of shards that
    // hold findings, and the one summary item.
    assert_eq!(report.items_written, report.items_differing);
    assert!(
        report.items_written > 1 && report.items_written < 16 + 64,
        "{report:?}"
    );
    assert!(report.differences.len() > 5, "{report:?}");
    assert_eq!(counts(&store).await, right);
    assert_eq!(
        store.summary(today).await.unwrap(),
        recount(&store, today).await
    );

    // Now nothing differs: the dry run exits 0.
    let (code, out) = cspm_recount(&ep, &store, true);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 counter attributes differed"), "{out}");
}
