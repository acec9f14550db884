//! Every guard the binary can reach refuses with exit 2, its name on stderr,
//! and leaves the bucket as it was; the one it cannot (`not-allowlisted`, an
//! automatic approval) refuses through the library the same way.

use super::*;

#[tokio::test]
async fn a_zero_rate_limit_is_refused_as_rate_limited() {
    let Some(case) = public_bucket_with_finding("remediate_rate_limited").await else {
        return;
    };
    let config = case.config("max_per_account_per_hour: 0\n");
    case.assert_refused(Some(&config), "rate-limited").await;
}

#[tokio::test]
async fn a_bucket_changed_since_the_plan_is_refused_unchanged() {
    let Some(case) = public_bucket_with_finding("remediate_changed_since_plan").await else {
        return;
    };
    let config = case.config("");
    let plan: Value =
        serde_json::from_str(&stdout(&case.cspm("plan", Some(&config), &["--json"]))).unwrap();
    let hash = plan["current_state"]["state_hash"]
        .as_str()
        .unwrap()
        .to_string();
    // Someone turns one setting on after the plan was approved.
    let one_on = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .build();
    case.s3
        .put_public_access_block()
        .bucket(&case.bucket)
        .public_access_block_configuration(one_on)
        .send()
        .await
        .unwrap();
    let out = case.cspm("apply", Some(&config), &["--expect-state", &hash]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused by changed-since-plan:"), "{err}");
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        Some([true, false, false, false]),
        "left as the person left it"
    );
    assert_eq!(case.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn without_a_remediation_file_apply_is_refused_as_not_enabled() {
    let Some(case) = public_bucket_with_finding("remediate_not_enabled").await else {
        return;
    };
    case.assert_refused(None, "not-enabled").await;
    // The plan is still shown, saying why it would not run.
    let plan: Value = serde_json::from_str(&stdout(&case.cspm("plan", None, &["--json"]))).unwrap();
    assert_eq!(plan["guards"][0]["name"], "not-enabled");
    assert_eq!(plan["guards"][0]["passed"], false);
}

#[tokio::test]
async fn a_bucket_tagged_cspm_remediate_false_is_refused() {
    let Some(case) = public_bucket_with_finding("remediate_protected_tag").await else {
        return;
    };
    let tag = aws_sdk_s3::types::Tag::builder()
        .key("cspm:remediate")
        .value("false")
        .build()
        .unwrap();
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(tag)
        .build()
        .unwrap();
    case.s3
        .put_bucket_tagging()
        .bucket(&case.bucket)
        .tagging(tagging)
        .send()
        .await
        .unwrap();
    case.assert_refused(Some(&case.config("")), "protected-tag")
        .await;
}

#[tokio::test]
async fn a_finding_in_an_account_out_of_scope_is_refused() {
    let Some(case) = public_bucket_with_finding("remediate_out_of_scope").await else {
        return;
    };
    // The event's account is 123456789012.
    let config = case.config("accounts: [\"111122223333\"]\n");
    case.assert_refused(Some(&config), "out-of-scope").await;
}

#[tokio::test]
async fn a_suppressed_finding_is_refused() {
    let Some(case) = public_bucket_with_finding("remediate_suppressed").await else {
        return;
    };
    let update = WorkflowUpdate {
        workflow_status: WorkflowStatus::Suppressed,
        note: Some("public on purpose: a static website".into()),
    };
    pipeline(case.store.clone())
        .set_workflow(&case.finding_id, &update, "alice", chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    case.assert_refused(Some(&case.config("")), "suppressed-or-resolved")
        .await;
}

/// An automatic approval (the `remediation` sink's) of a finding whose rule is
/// not in `auto` cannot come from the binary, which approves as a person: the
/// library is driven here with the real action against the emulator.
#[tokio::test]
async fn an_automatic_approval_of_a_rule_not_in_auto_is_refused_as_not_allowlisted() {
    use cspm::remediate::config::RemediationConfig;
    use cspm::remediate::guards::Approval;
    use cspm::remediate::ledger::Ledger;
    use cspm::remediate::outcome::ApplyOutcome;
    use cspm::remediate::registry::Registry;
    use cspm::remediate::run::Remediator;
    let Some(case) = public_bucket_with_finding("remediate_not_allowlisted").await else {
        return;
    };
    let config = RemediationConfig::load(&case.config("auto: [some.other-rule]\n")).unwrap();
    let sdk = sdk_config(&case.endpoint).await;
    let remediator = Remediator {
        registry: Registry::new(&sdk, &config),
        config,
        pipeline: pipeline(case.store.clone()),
        ledger: Arc::new(Ledger::in_dir(case.dir.path())),
    };
    let before = case.status().await;
    let outcome = remediator
        .apply(&case.finding_id, &Approval::Auto, None, chrono::Utc::now())
        .await
        .unwrap();
    let ApplyOutcome::Refused { guard, .. } = outcome else {
        panic!("not refused: {outcome:?}")
    };
    assert_eq!(guard.name.to_string(), "not-allowlisted", "{guard:?}");
    assert!(guard.reason.contains("not in `auto`"), "{}", guard.reason);
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        None,
        "nothing was changed"
    );
    assert_eq!(case.status().await, before);
    assert!(ledger_lines(case.dir.path()).is_empty(), "no attempt");
    // The same approval by a person goes through.
    let person = Approval::Person("alice".into());
    let done = remediator
        .apply(&case.finding_id, &person, None, chrono::Utc::now())
        .await
        .unwrap();
    assert!(matches!(done, ApplyOutcome::Verified { .. }), "{done:?}");
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));
}
