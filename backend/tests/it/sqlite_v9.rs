//! A file from schema v8 opened by v9: its rows gain the amendment mark column
//! (empty: unknown), and its compliance results, folded under the standards' own
//! control ids, are folded again under the security control ids.

use super::helpers::{anchor, findings};
use cspm::compliance::daily::standard;
use cspm::store::{SqliteStore, Store, UpsertOutcome};
use rusqlite::Connection;
use serde_json::json;
use shared_types::{Finding, FindingSource, WorkflowStatus};

/// A CIS 1.2.0 rule 1.4 result as Security Hub wrote them before consolidated
/// control findings: the rule id, no `SecurityControlId`.
fn cis_rule_1_4() -> Finding {
    let mut f = findings(1, 31).remove(0);
    f.source = FindingSource::SecurityHub;
    f.workflow_status = WorkflowStatus::New;
    f.compliance_status = Some("FAILED".into());
    f.control_id = None;
    f.generator_id =
        "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.4".into();
    f.raw = json!({
        "GeneratorId": f.generator_id,
        "ProductFields": {
            "StandardsGuideArn": "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
            "RuleId": "1.4"
        },
        "Compliance": {"Status": "FAILED"}
    });
    f
}

#[tokio::test]
async fn a_v8_file_gains_amendment_marks_and_refolds_its_controls_under_security_ids() {
    let dir = tempfile::tempdir().unwrap();
    let f = cis_rule_1_4();
    let path = {
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        store.upsert(std::slice::from_ref(&f)).await.unwrap();
        let today = anchor().date_naive();
        let d = standard(&store, "cis-1.2", today).await.unwrap().unwrap();
        assert_eq!(d.controls[0].control_id, "IAM.3");
        store.path().to_path_buf()
    };
    // What v8 left: no mark column, the rule folded under its own id.
    let db = Connection::open(&path).unwrap();
    db.execute_batch(
        "ALTER TABLE findings DROP COLUMN amend_mark;
         UPDATE control_results SET control_id = '1.4';
         UPDATE control_tallies SET control_id = '1.4';
         PRAGMA user_version = 8;",
    )
    .unwrap();
    drop(db);

    let store = SqliteStore::open(&path).unwrap();
    let marks: Vec<Option<i64>> = Connection::open(&path)
        .unwrap()
        .prepare("SELECT amend_mark FROM findings")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(marks, vec![None], "a v8 row's mark is unknown");
    let d = standard(&store, "cis-1.2", anchor().date_naive())
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<&str> = d.controls.iter().map(|c| c.control_id.as_str()).collect();
    assert_eq!(ids, vec!["IAM.3"], "folded again from the documents");

    // Without a mark a re-delivery is unchanged, a suppression is applied, and
    // from then on the row has its mark.
    let again = store.upsert(std::slice::from_ref(&f)).await.unwrap();
    assert_eq!(again.outcomes[0].1, UpsertOutcome::Unchanged);
    let mut suppressed = f.clone();
    suppressed.workflow_status = WorkflowStatus::Suppressed;
    let r = store
        .upsert(std::slice::from_ref(&suppressed))
        .await
        .unwrap();
    assert!(matches!(r.outcomes[0].1, UpsertOutcome::Updated { .. }));
    let mark: Option<i64> = Connection::open(&path)
        .unwrap()
        .query_row("SELECT amend_mark FROM findings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mark, Some(cspm::store::amendment::mark(&suppressed) as i64));
}
