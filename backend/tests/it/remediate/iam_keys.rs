//! The access-key action through the binary against the emulator: a user's
//! key deactivated (never deleted, the user's other key untouched), a root key
//! planned as manual, a key already deleted left alone, and the
//! protected-principal guard (a listed user, the remediation's own user)
//! refusing with the emulator unchanged.

use super::iam::iam;
use super::stored::{case_event, store_finding, Stored};
use super::*;
use aws_sdk_iam::types::StatusType;

/// Every key of `user` with its status, sorted.
async fn keys(iam: &aws_sdk_iam::Client, user: &str) -> Vec<(String, String)> {
    let out = iam.list_access_keys().user_name(user).send().await.unwrap();
    let mut k: Vec<(String, String)> = out
        .access_key_metadata()
        .iter()
        .map(|k| {
            (
                k.access_key_id().unwrap().to_string(),
                k.status().unwrap().as_str().to_string(),
            )
        })
        .collect();
    k.sort();
    k
}

/// A user with two keys and the finding of the first one's creation.
struct KeyCase {
    stored: Stored,
    iam: aws_sdk_iam::Client,
    user: String,
    key: String,
    other_key: String,
}

/// Panther's real "user1 creates keys for user2" CreateAccessKey event, changed
/// where needed: the account 123456789 (not a 12-digit id) to the emulator's
/// 123456789012, user2 to this test's user and the key id ABCDEFG to the key the
/// emulator created.
async fn key_case(test: &str, user_prefix: &str) -> Option<KeyCase> {
    key_case_of(test, unique(user_prefix)).await
}

/// [`key_case`] for the user named `user` (created unless it exists).
async fn key_case_of(test: &str, user: String) -> Option<KeyCase> {
    let endpoint = endpoint(test)?;
    let iam = iam(&endpoint).await;
    if let Err(e) = iam.create_user().user_name(&user).send().await {
        let exists = e
            .as_service_error()
            .is_some_and(|s| s.is_entity_already_exists_exception());
        assert!(exists, "{e:?}");
    }
    let mut made = Vec::new();
    for _ in 0..2 {
        let out = iam
            .create_access_key()
            .user_name(&user)
            .send()
            .await
            .unwrap();
        made.push(out.access_key().unwrap().access_key_id().to_string());
    }
    let text = serde_json::to_string(&case_event(
        "panther__AWS.IAM.Backdoor.User.Keys_T_user1-create-keys-for-user2.json",
    ))
    .unwrap()
    .replace("123456789", "123456789012");
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["requestParameters"]["userName"] = json!(user);
    event["responseElements"]["accessKey"]["userName"] = json!(user);
    event["responseElements"]["accessKey"]["accessKeyId"] = json!(made[0]);
    let stored = store_finding(
        endpoint,
        &event,
        "aws.iam.access-key-created-for-another-user",
    )
    .await;
    Some(KeyCase {
        stored,
        iam,
        user,
        key: made[0].clone(),
        other_key: made[1].clone(),
    })
}

#[tokio::test]
async fn a_users_new_key_is_deactivated_not_deleted_and_the_other_key_stays() {
    let Some(c) = key_case("remediate_iam_key", "rem-user").await else {
        return;
    };
    let s = &c.stored;
    let config = s.config("iam-deactivate-access-key", "");
    let plan = s.plan(&config);
    assert_eq!(
        plan["calls"],
        json!([{"service": "iam", "operation": "UpdateAccessKey",
                "params": {"UserName": c.user, "AccessKeyId": c.key, "Status": "Inactive"}}])
    );
    assert_eq!(plan["current_state"]["status"], "Active");
    let guard = plan["guards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "protected-principal")
        .unwrap();
    assert_eq!(guard["passed"], true, "{guard}");

    s.apply(&config);
    let mut want = vec![
        (c.key.clone(), "Inactive".to_string()),
        (c.other_key.clone(), "Active".to_string()),
    ];
    want.sort();
    assert_eq!(
        keys(&c.iam, &c.user).await,
        want,
        "deactivated, not deleted"
    );
    assert_eq!(s.status().await, WorkflowStatus::Resolved);
    assert_eq!(ledger_lines(s.dir.path()).len(), 2);

    s.reopen().await;
    assert!(s.apply(&config).starts_with("nothing left to do"));
    assert_eq!(keys(&c.iam, &c.user).await, want);
    assert_eq!(
        ledger_lines(s.dir.path()).len(),
        2,
        "no call the second time"
    );
}

#[tokio::test]
async fn a_protected_users_key_is_refused_and_stays_active() {
    let Some(c) = key_case("remediate_iam_key_protected", "rem-protected").await else {
        return;
    };
    let s = &c.stored;
    let config = s.config(
        "iam-deactivate-access-key",
        "protected_principals: [\"arn:aws:iam::*:user/rem-protected-*\"]\n",
    );
    let before = keys(&c.iam, &c.user).await;
    let out = s.cspm("apply", Some(&config), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused by protected-principal:"), "{err}");
    assert!(err.contains(&c.user), "names the user: {err}");
    assert_eq!(keys(&c.iam, &c.user).await, before, "nothing was changed");
    assert!(before.iter().all(|(_, st)| st == "Active"));
    assert_eq!(s.status().await, WorkflowStatus::New);
    assert!(ledger_lines(s.dir.path()).is_empty());
}

#[tokio::test]
async fn the_user_the_remediation_runs_as_is_protected_without_being_listed() {
    // The emulator's caller (STS GetCallerIdentity) is the user `moto`: the
    // principal the remediation runs as, which no file lists.
    let Some(c) = key_case_of("remediate_iam_key_self", "moto".into()).await else {
        return;
    };
    let s = &c.stored;
    let config = s.config("iam-deactivate-access-key", "");
    let before = keys(&c.iam, &c.user).await;
    let out = s.cspm("apply", Some(&config), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("refused by protected-principal:")
            && err.contains("arn:aws:iam::123456789012:user/moto"),
        "{err}"
    );
    assert_eq!(keys(&c.iam, &c.user).await, before, "nothing was changed");
    assert_eq!(s.status().await, WorkflowStatus::New);
    assert!(ledger_lines(s.dir.path()).is_empty());
}

#[tokio::test]
async fn a_root_key_is_plan_only_with_the_manual_steps() {
    let Some(endpoint) = endpoint("remediate_iam_root_key") else {
        return;
    };
    // Panther's real root CreateAccessKey event, as published.
    let event =
        case_event("panther__AWS.CloudTrail.RootAccessKeyCreated_T_Root-Access-Key-Created.json");
    let s = store_finding(endpoint, &event, "aws.iam.root-access-key-created").await;
    let config = s.config("iam-deactivate-access-key", "");
    let plan = s.plan(&config);
    assert_eq!(plan["action"], "iam-deactivate-access-key");
    assert_eq!(plan["applicable"], false);
    assert_eq!(plan["calls"], json!([]));
    let after = plan["after"].as_str().unwrap();
    assert!(
        after.contains("sign in as root") && after.contains("Security credentials"),
        "{after}"
    );
    let out = s.cspm("apply", Some(&config), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not applicable"));
    assert_eq!(s.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn a_key_unknown_to_the_user_fails_nothing_when_already_deleted() {
    // The key deleted by a person since the finding: nothing left, no call.
    let Some(c) = key_case("remediate_iam_key_deleted", "rem-deleted").await else {
        return;
    };
    c.iam
        .delete_access_key()
        .user_name(&c.user)
        .access_key_id(&c.key)
        .send()
        .await
        .unwrap();
    let config = c.stored.config("iam-deactivate-access-key", "");
    assert!(c.stored.apply(&config).starts_with("nothing left to do"));
    assert_eq!(
        keys(&c.iam, &c.user).await,
        [(c.other_key.clone(), StatusType::Active.as_str().to_string())]
    );
    assert!(ledger_lines(c.stored.dir.path()).is_empty());
}
