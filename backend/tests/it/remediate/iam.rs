//! The IAM policy actions through the binary against the emulator (started
//! with `MOTO_IAM_LOAD_MANAGED_POLICIES=true` by `scripts/with_moto.sh`, so
//! AdministratorAccess exists): an admin policy detached from one role only, a
//! dangerous inline policy deleted with its document kept in the ledger; the
//! protected-principal guard refusing a break-glass role with the emulator
//! unchanged.

use super::stored::{case_event, store_finding, Stored};
use super::*;

/// An IAM client of the emulator at `endpoint`.
pub(super) async fn iam(endpoint: &str) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config(endpoint).await)
}

pub(super) const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A new role `name` with `policies` attached.
pub(super) async fn role_with(iam: &aws_sdk_iam::Client, name: &str, policies: &[&str]) {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(EC2_TRUST)
        .send()
        .await
        .unwrap();
    for p in policies {
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(*p)
            .send()
            .await
            .unwrap();
    }
}

/// The ARNs of the managed policies attached to `role`, sorted.
pub(super) async fn attached(iam: &aws_sdk_iam::Client, role: &str) -> Vec<String> {
    let out = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let mut arns: Vec<String> = out
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap().to_string())
        .collect();
    arns.sort();
    arns
}

/// Panther's real AttachRolePolicy AdministratorAccess event, stored; only the
/// role name new-role is changed, to `role`.
pub(super) async fn admin_attached_finding(endpoint: String, role: &str) -> Stored {
    let mut event = case_event(
        "panther__AWS.IAM.AttachAdminRolePolicy_T_IAM-Role-Policy-Attached-with-Administrator-Access.json",
    );
    event["requestParameters"]["roleName"] = json!(role);
    store_finding(endpoint, &event, "aws.iam.admin-policy-attached").await
}

#[tokio::test]
async fn an_admin_policy_is_detached_from_that_role_only_with_its_document_kept() {
    let Some(endpoint) = endpoint("remediate_iam_detach") else {
        return;
    };
    let iam = iam(&endpoint).await;
    let role = unique("rem-role");
    let bystander = unique("rem-other");
    role_with(&iam, &role, &[ADMIN, READ_ONLY]).await;
    role_with(&iam, &bystander, &[ADMIN]).await;
    let s = admin_attached_finding(endpoint, &role).await;
    let config = s.config("iam-detach-admin-policy", "");

    let plan = s.plan(&config);
    assert_eq!(
        plan["calls"],
        json!([{"service": "iam", "operation": "DetachRolePolicy",
                "params": {"RoleName": role, "PolicyArn": ADMIN}}])
    );
    assert_eq!(plan["current_state"]["attached"], true);
    s.apply(&config);
    assert_eq!(
        attached(&iam, &role).await,
        [READ_ONLY],
        "only the admin policy went"
    );
    assert_eq!(
        attached(&iam, &bystander).await,
        [ADMIN],
        "other roles keep theirs"
    );
    assert_eq!(s.status().await, WorkflowStatus::Resolved);

    let ledger = ledger_lines(s.dir.path());
    let record = &ledger[0]["record"];
    assert_eq!(ledger[0]["outcome"], "started");
    assert_eq!(record["policy_arn"], ADMIN);
    assert_eq!(record["policy_document"]["Statement"][0]["Action"], "*");
    assert_eq!(
        record["restore"],
        json!({"service": "iam", "operation": "AttachRolePolicy",
               "params": {"RoleName": role, "PolicyArn": ADMIN}})
    );

    s.reopen().await;
    assert!(s.apply(&config).starts_with("nothing left to do"));
    assert_eq!(
        ledger_lines(s.dir.path()).len(),
        2,
        "no call the second time"
    );
}

#[tokio::test]
async fn a_break_glass_roles_admin_policy_is_refused_by_the_built_in_pattern() {
    let Some(endpoint) = endpoint("remediate_iam_detach_break_glass") else {
        return;
    };
    let iam = iam(&endpoint).await;
    // arn:aws:iam::*:role/break-glass-* is protected whatever the file says.
    let role = unique("break-glass");
    role_with(&iam, &role, &[ADMIN]).await;
    let s = admin_attached_finding(endpoint, &role).await;
    let out = s.cspm("apply", Some(&s.config("iam-detach-admin-policy", "")), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refused by protected-principal:") && err.contains("break-glass-*"),
        "{err}"
    );
    assert_eq!(attached(&iam, &role).await, [ADMIN], "nothing was changed");
    assert_eq!(s.status().await, WorkflowStatus::New);
    assert!(ledger_lines(s.dir.path()).is_empty());
}

/// A user with a dangerous inline policy (and a narrow one beside it) and the
/// finding of its writing.
pub(super) struct InlineCase {
    /// The finding.
    pub stored: Stored,
    /// The emulator's IAM.
    pub iam: aws_sdk_iam::Client,
    /// The user holding the policies.
    pub user: String,
    /// The dangerous policy's name.
    pub name: String,
    /// Its document, as put.
    pub doc: Value,
}

/// Panther's real PutUserPolicy event (the corpus has no dangerous one): the
/// user name changed to a new user of the emulator, and its Deny-all document
/// turned into the Allow "*:*" this case is about, put for real.
pub(super) async fn inline_case(endpoint: String) -> InlineCase {
    let iam = iam(&endpoint).await;
    let user = unique("rem-inline");
    iam.create_user().user_name(&user).send().await.unwrap();
    let mut event = case_event(
        "panther__AWS.CloudTrail.IAMCompromisedKeyQuarantine_F_PutUserPolicy-false.json",
    );
    let doc = json!({"Version": "2012-10-17",
        "Statement": [{"Sid": "TestUserDenyAll", "Effect": "Allow", "Action": "*:*", "Resource": "*"}]});
    event["requestParameters"]["userName"] = json!(user);
    event["requestParameters"]["policyDocument"] = json!(doc.to_string());
    let name = event["requestParameters"]["policyName"]
        .as_str()
        .unwrap()
        .to_string();
    iam.put_user_policy()
        .user_name(&user)
        .policy_name(&name)
        .policy_document(doc.to_string())
        .send()
        .await
        .unwrap();
    let narrow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("narrow")
        .policy_document(narrow)
        .send()
        .await
        .unwrap();
    let stored = store_finding(endpoint, &event, "aws.iam.dangerous-policy-written").await;
    InlineCase {
        stored,
        iam,
        user,
        name,
        doc,
    }
}

#[tokio::test]
async fn a_dangerous_inline_policy_is_deleted_and_kept_in_the_ledger() {
    let Some(endpoint) = endpoint("remediate_iam_inline") else {
        return;
    };
    let InlineCase {
        stored: s,
        iam,
        user,
        name,
        doc,
    } = inline_case(endpoint).await;
    let config = s.config("iam-delete-inline-policy", "");

    let plan = s.plan(&config);
    assert_eq!(
        plan["calls"],
        json!([{"service": "iam", "operation": "DeleteUserPolicy",
                "params": {"UserName": user, "PolicyName": name}}])
    );
    let risks = plan["current_state"]["risks"].as_array().unwrap();
    assert!(risks.contains(&json!("full_admin")), "{risks:?}");
    s.apply(&config);
    let left = iam
        .list_user_policies()
        .user_name(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(
        left.policy_names(),
        ["narrow"],
        "only the dangerous policy went"
    );
    assert_eq!(s.status().await, WorkflowStatus::Resolved);

    let ledger = ledger_lines(s.dir.path());
    assert_eq!(ledger[0]["record"]["policy_document"], doc);
    let restore = &ledger[0]["record"]["restore"];
    assert_eq!(restore["operation"], "PutUserPolicy");
    let kept: Value =
        serde_json::from_str(restore["params"]["PolicyDocument"].as_str().unwrap()).unwrap();
    assert_eq!(kept, doc, "the ledger can put it back as it was");

    s.reopen().await;
    assert!(s.apply(&config).starts_with("nothing left to do"));
    assert_eq!(
        ledger_lines(s.dir.path()).len(),
        2,
        "no call the second time"
    );
}
