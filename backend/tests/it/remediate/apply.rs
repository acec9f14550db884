//! The whole path through the binary: plan (JSON), apply, read back, re-apply,
//! resolve; and the failures (a bucket gone: exit 3; bad input: exit 1).

use super::*;

#[tokio::test]
async fn a_public_bucket_is_planned_applied_verified_and_its_finding_resolved() {
    let Some(case) = public_bucket_with_finding("remediate_s3_end_to_end").await else {
        return;
    };
    let config = case.config("");

    let planned = case.cspm("plan", Some(&config), &["--json"]);
    assert!(
        planned.status.success(),
        "{}",
        String::from_utf8_lossy(&planned.stderr)
    );
    let plan: Value = serde_json::from_str(&stdout(&planned)).unwrap();
    let mut keys: Vec<&String> = plan.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "action",
            "after",
            "applicable",
            "calls",
            "current_state",
            "finding_id",
            "guards"
        ]
    );
    assert_eq!(plan["finding_id"], json!(case.finding_id));
    assert_eq!(plan["action"], "s3-block-public-access");
    assert_eq!(plan["applicable"], true);
    assert_eq!(
        plan["calls"],
        json!([{"service": "s3", "operation": "PutPublicAccessBlock", "params": {
            "Bucket": case.bucket,
            // The event's account: S3 refuses the call if the bucket is another's.
            "ExpectedBucketOwner": "123456789012",
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
                "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}}])
    );
    let hash = plan["current_state"]["state_hash"]
        .as_str()
        .expect("a state hash")
        .to_string();
    assert_eq!(hash.len(), 64, "{hash}");
    assert_eq!(
        plan["current_state"],
        json!({"bucket": case.bucket, "public_access_block": null, "state_hash": hash})
    );
    let guards: Vec<(&str, bool)> = plan["guards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        guards,
        [
            ("not-enabled", true),
            ("not-allowlisted", true),
            ("protected-principal", true),
            ("protected-tag", true),
            ("out-of-scope", true),
            ("rate-limited", true),
            ("changed-since-plan", true),
            ("suppressed-or-resolved", true),
        ]
    );
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        None,
        "plan changes nothing"
    );

    let applied = case.cspm("apply", Some(&config), &["--expect-state", &hash]);
    assert_eq!(
        applied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert!(
        stdout(&applied).contains("applied and verified"),
        "{}",
        stdout(&applied)
    );
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));

    let detail = case.store.get(&case.finding_id).await.unwrap().unwrap();
    assert_eq!(detail.finding.workflow_status, WorkflowStatus::Resolved);
    let last = detail.audit.last().expect("an audit entry");
    assert_eq!(last.actor, "remediation:s3-block-public-access");
    assert_eq!(last.to_status, WorkflowStatus::Resolved);
    let note = last.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("s3-block-public-access") && note.contains(&case.bucket),
        "{note}"
    );

    let ledger = std::fs::read_to_string(case.dir.path().join("remediations.jsonl")).unwrap();
    let steps: Vec<Value> = ledger
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcomes: Vec<&str> = steps
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["started", "verified"], "{ledger}");

    // Applying again to the RESOLVED finding: refused before anything is read.
    let again = case.cspm("apply", Some(&config), &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refused by suppressed-or-resolved"));

    // Reopened (say by a person who doubted it): the bucket is already fixed, so
    // no call is made and the finding is resolved again, saying so.
    let reopen = WorkflowUpdate {
        workflow_status: WorkflowStatus::New,
        note: Some("checking again".into()),
    };
    pipeline(case.store.clone())
        .set_workflow(&case.finding_id, &reopen, "alice", chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    let again = case.cspm("apply", Some(&config), &[]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        stdout(&again).starts_with("nothing left to do"),
        "{}",
        stdout(&again)
    );
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));
    let ledger = std::fs::read_to_string(case.dir.path().join("remediations.jsonl")).unwrap();
    assert_eq!(ledger.lines().count(), 2, "no second attempt: {ledger}");
    let detail = case.store.get(&case.finding_id).await.unwrap().unwrap();
    assert_eq!(detail.finding.workflow_status, WorkflowStatus::Resolved);
    let note = detail
        .audit
        .last()
        .unwrap()
        .note
        .clone()
        .unwrap_or_default();
    assert!(note.starts_with("Already fixed"), "{note}");
    let replanned: Value =
        serde_json::from_str(&stdout(&case.cspm("plan", Some(&config), &["--json"]))).unwrap();
    assert_eq!(replanned["calls"], json!([]));
    assert_eq!(
        replanned["current_state"]["public_access_block"],
        json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
               "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
    );

    // Each apply at the terminal is a remediation of GET /remediations (the
    // server's records, in the same SQLite file), newest first: verified with
    // no call, refused by its guard, verified on the planned state.
    use cspm::remediate::records::{RecordQuery, RemediationRecords};
    let records = cspm::remediate::local::SqliteRemediations::open_dir(case.dir.path()).unwrap();
    let listed = records
        .list(&RecordQuery {
            finding_id: Some(case.finding_id.clone()),
            status: None,
            limit: 10,
        })
        .await
        .unwrap();
    let seen: Vec<(&str, Option<&str>)> = listed
        .iter()
        .map(|r| (r.status.as_str(), r.guard.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("verified", None),
            ("refused", Some("suppressed-or-resolved")),
            ("verified", None)
        ]
    );
    assert!(listed
        .iter()
        .all(|r| r.requested_by == "local (cspm remediate apply)"
            && r.action.as_deref() == Some("s3-block-public-access")
            && r.worker_until.is_none()
            && r.plan.is_some()));
    assert!(
        listed[0]
            .reason
            .as_deref()
            .unwrap_or_default()
            .starts_with("already fixed"),
        "{:?}",
        listed[0].reason
    );
    assert_eq!(listed[2].expect_state.as_deref(), Some(hash.as_str()));
}

#[tokio::test]
async fn an_unknown_finding_or_a_bad_file_exits_1() {
    let Some(case) = public_bucket_with_finding("remediate_exit_1").await else {
        return;
    };
    let bad = case.config("enabeld: [s3-block-public-access]\n");
    let out = case.cspm("apply", Some(&bad), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("enabeld"), "{err}");

    let out = case
        .command("apply", "no-such-id", None, &[])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no finding"));
    assert_eq!(block(&case.s3, &case.bucket).await, None);
}

#[tokio::test]
async fn a_bucket_gone_since_the_finding_fails_with_exit_3_and_the_finding_stays_open() {
    let Some(case) = public_bucket_with_finding("remediate_bucket_gone").await else {
        return;
    };
    case.s3
        .delete_bucket_policy()
        .bucket(&case.bucket)
        .send()
        .await
        .unwrap();
    case.s3
        .delete_bucket()
        .bucket(&case.bucket)
        .send()
        .await
        .unwrap();
    let out = case.cspm("apply", Some(&case.config("")), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("NoSuchBucket") && err.contains("stays open"),
        "{err}"
    );
    assert_eq!(case.status().await, WorkflowStatus::New);
}
