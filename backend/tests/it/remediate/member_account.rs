//! Remediation in another account: a security group opened to the world in a
//! member account (the emulator keeps each account's EC2 resources apart, and
//! credentials from STS `AssumeRole` act in the role's account), its finding
//! naming that account. Without `assume_role` the worker's own credentials do
//! not find the group and the apply fails, changing nothing; with it, the plan
//! reads and the apply revokes as the role in the finding's account.

use super::ec2::{open_group_as, rules, world_ssh};
use super::*;
use aws_config::SdkConfig;

const MEMBER: &str = "222233334444";
const ROLE_PATTERN: &str = "arn:aws:iam::{account}:role/cspm-remediator";

/// `base` acting as the remediator role in `account`.
async fn as_role_in(base: &SdkConfig, account: &str) -> SdkConfig {
    let provider =
        aws_config::sts::AssumeRoleProvider::builder(ROLE_PATTERN.replace("{account}", account))
            .session_name("test-setup")
            .configure(base)
            .build()
            .await;
    base.to_builder()
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(provider))
        .build()
}

#[tokio::test]
async fn a_finding_in_a_member_account_is_fixed_as_the_role_assumed_there() {
    let Some(endpoint) = endpoint("remediate_member_account") else {
        return;
    };
    let home = sdk_config(&endpoint).await;
    let member = as_role_in(&home, MEMBER).await;
    let g = open_group_as(endpoint, &member, MEMBER).await;
    let home_ec2 = aws_sdk_ec2::Client::new(&home);
    assert!(
        rules(&home_ec2, &g.group).await.is_empty(),
        "the group is the member account's, out of the home credentials' sight"
    );
    let before = rules(&g.ec2, &g.group).await;
    assert_eq!(world_ssh(&before).len(), 2, "{before:?}");

    // The worker's own credentials: the member's group is not theirs.
    let own = g.cspm("apply", Some(&g.config("")), &[]);
    let why = String::from_utf8_lossy(&own.stderr);
    assert_eq!(own.status.code(), Some(3), "the action failed: {why}");
    assert!(why.contains(&g.group), "{why}");
    assert_eq!(rules(&g.ec2, &g.group).await, before, "nothing changed");
    assert_eq!(g.status().await, WorkflowStatus::New);

    let with_role = g.config(&format!("assume_role: \"{ROLE_PATTERN}\"\n"));
    let plan = g.cspm("plan", Some(&with_role), &["--json"]);
    let err = String::from_utf8_lossy(&plan.stderr).into_owned();
    let plan: Value = serde_json::from_str(&stdout(&plan)).expect(&err);
    assert_eq!(plan["calls"].as_array().map(Vec::len), Some(1), "{plan}");
    let out = g.cspm("apply", Some(&with_role), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = rules(&g.ec2, &g.group).await;
    assert!(world_ssh(&after).is_empty(), "{after:?}");
    assert_eq!(
        after.len(),
        before.len() - 2,
        "only the two world-open SSH rules went"
    );
    assert_eq!(g.status().await, WorkflowStatus::Resolved);
}

#[tokio::test]
async fn a_refused_assume_role_is_a_422_and_is_not_tried_again() {
    use super::api::{call, server_over, ANALYST};
    use crate::fault_proxy::Fault;
    use axum::http::{Method, StatusCode};
    use cspm::remediate::worker::WorkerSettings;
    let Some(endpoint) = endpoint("remediate_member_denied") else {
        return;
    };
    let home = sdk_config(&endpoint).await;
    let member = as_role_in(&home, MEMBER).await;
    let g = open_group_as(endpoint.clone(), &member, MEMBER).await;
    let before = rules(&g.ec2, &g.group).await;
    // The member account has no such role, or it does not trust us.
    let proxy = crate::fault_proxy::start(&endpoint).await;
    proxy.inject("AssumeRole", Fault::Deny, u32::MAX);
    let config = format!("enabled: [ec2-revoke-world-ingress]\nassume_role: \"{ROLE_PATTERN}\"\n");
    let settings = WorkerSettings {
        retry_after: std::time::Duration::ZERO,
        ..WorkerSettings::default()
    };
    let (app, worker) =
        server_over(g.dir.path(), &proxy.endpoint, &g.store, &config, settings).await;

    let plan_path = format!("/findings/{}/remediation/plan", g.finding_id);
    let (status, body) = call(&app, Method::GET, &plan_path, ANALYST, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "resource_unreadable", "{body}");
    let said = body["error"]["message"].as_str().unwrap();
    assert!(said.contains("AccessDenied"), "{said}");

    let approve = format!("/findings/{}/remediation", g.finding_id);
    let (status, queued) = call(&app, Method::POST, &approve, ANALYST, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(worker.drain().await.unwrap(), 1);
    assert_eq!(
        worker.drain().await.unwrap(),
        0,
        "not released for another try"
    );
    let rid = queued["id"].as_str().unwrap();
    let (_, record) = call(
        &app,
        Method::GET,
        &format!("/remediations/{rid}"),
        ANALYST,
        None,
    )
    .await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["attempts"], 1, "{record}");
    assert!(
        record["reason"].as_str().unwrap().contains("AccessDenied"),
        "{record}"
    );
    assert_eq!(rules(&g.ec2, &g.group).await, before, "nothing changed");
    assert_eq!(g.status().await, WorkflowStatus::New);
}
