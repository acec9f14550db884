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
