//! `ec2-revoke-world-ingress` refusing or failing with the group left as it
//! was: a protected tag, ports the file allows, a group changed since the plan,
//! a group deleted since the finding.

use super::*;

#[tokio::test]
async fn a_group_tagged_cspm_remediate_false_is_refused_unchanged() {
    let Some(g) = open_group_with_finding("remediate_ec2_protected_tag").await else {
        return;
    };
    g.ec2
        .create_tags()
        .resources(&g.group)
        .tags(Tag::builder().key("cspm:remediate").value("false").build())
        .send()
        .await
        .unwrap();
    let before = rules(&g.ec2, &g.group).await;
    let out = g.cspm("apply", Some(&g.config("")), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused by protected-tag:"), "{err}");
    assert_eq!(rules(&g.ec2, &g.group).await, before, "nothing was changed");
    assert_eq!(g.status().await, WorkflowStatus::New);
    assert!(
        ledger_lines(g.dir.path()).is_empty(),
        "no attempt was recorded"
    );
}

#[tokio::test]
async fn allowing_ssh_in_the_file_leaves_nothing_to_revoke() {
    let Some(g) = open_group_with_finding("remediate_ec2_allowed_ssh").await else {
        return;
    };
    let before = rules(&g.ec2, &g.group).await;
    let plan: Value = serde_json::from_str(&stdout(&g.cspm(
        "plan",
        Some(&g.config("allowed_ports: [22, 443]\n")),
        &["--json"],
    )))
    .unwrap();
    assert_eq!(plan["calls"], json!([]), "{plan}");
    assert_eq!(rules(&g.ec2, &g.group).await, before);
}

#[tokio::test]
async fn a_group_changed_since_the_plan_is_refused_unchanged() {
    let Some(g) = open_group_with_finding("remediate_ec2_changed_since_plan").await else {
        return;
    };
    let config = g.config("");
    let plan: Value =
        serde_json::from_str(&stdout(&g.cspm("plan", Some(&config), &["--json"]))).unwrap();
    let hash = plan["current_state"]["state_hash"]
        .as_str()
        .unwrap()
        .to_string();
    // Someone opens RDP to the world after the plan was approved: the approved
    // plan does not cover it, so nothing is applied.
    g.ec2
        .authorize_security_group_ingress()
        .group_id(&g.group)
        .ip_permissions(tcp_from(3389, "0.0.0.0/0"))
        .send()
        .await
        .unwrap();
    let before = rules(&g.ec2, &g.group).await;
    let out = g.cspm("apply", Some(&config), &["--expect-state", &hash]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused by changed-since-plan:"), "{err}");
    assert_eq!(rules(&g.ec2, &g.group).await, before, "nothing was changed");
    assert_eq!(g.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn a_group_deleted_since_the_finding_fails_with_exit_3_and_stays_open() {
    let Some(g) = open_group_with_finding("remediate_ec2_group_gone").await else {
        return;
    };
    g.ec2
        .delete_security_group()
        .group_id(&g.group)
        .send()
        .await
        .unwrap();
    let out = g.cspm("apply", Some(&g.config("")), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("DescribeSecurityGroups") && err.contains("stays open"),
        "{err}"
    );
    assert_eq!(g.status().await, WorkflowStatus::New);
    assert!(
        ledger_lines(g.dir.path()).is_empty(),
        "nothing was attempted"
    );
}
