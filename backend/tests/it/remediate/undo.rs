//! A remediation's `undo` through the API against the emulator: an analyst's
//! approval of a policy action, run by the worker, leaves in `GET
//! /remediations/{rid}` the policy as it was read and `restore`, the call that
//! puts it back — and making that call with the SDK really puts it back; for
//! `lambda-remove-public-access` the removed statements. (An action that keeps
//! none, `s3-block-public-access`, has no `undo`: checked in `api.rs`.)

use super::api::{call, server_over, ANALYST, VIEWER};
use super::iam::{admin_attached_finding, attached, iam, inline_case, role_with, ADMIN};
use super::lambda::{public_function, sids};
use super::stored::Stored;
use super::*;
use axum::http::{Method, StatusCode};
use cspm::remediate::worker::WorkerSettings;

/// AdministratorAccess's document as AWS publishes it: the expected `undo`
/// comes from here, not from what the action read.
fn admin_access_document() -> Value {
    json!({"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

/// Approves `s`'s finding through the API as an analyst with the remediation
/// file `config`, lets the worker run it, and answers its record as a viewer
/// reads it.
async fn approve_and_run(s: &Stored, config: &str) -> Value {
    let (app, worker) = server_over(
        s.dir.path(),
        &s.endpoint,
        &s.store,
        config,
        WorkerSettings::default(),
    )
    .await;
    let id = &s.finding_id;
    let uri = format!("/findings/{id}/remediation");
    let (status, queued) = call(&app, Method::POST, &uri, ANALYST, None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let record_uri = format!("/remediations/{}", queued["id"].as_str().unwrap());
    let (_, before) = call(&app, Method::GET, &record_uri, VIEWER, None).await;
    assert!(before.get("undo").is_none(), "nothing read yet: {before}");
    assert_eq!(worker.drain().await.unwrap(), 1);
    let (status, record) = call(&app, Method::GET, &record_uri, VIEWER, None).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["status"], "verified", "{record}");
    assert_eq!(s.status().await, WorkflowStatus::Resolved);
    // The same undo as the ledger's `started` line, written before the call.
    let ledger = ledger_lines(s.dir.path());
    assert_eq!(ledger[0]["outcome"], "started");
    assert_eq!(ledger[0]["record"], record["undo"], "{record}");
    record
}

/// Makes `restore` (a record's call that puts a change back) with the SDK, as
/// a person undoing the remediation would: only its service, operation and
/// params are used.
async fn perform(iam: &aws_sdk_iam::Client, restore: &Value) {
    assert_eq!(restore["service"], "iam", "{restore}");
    let p = &restore["params"];
    let param = |k: &str| {
        p[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {restore}"))
            .to_string()
    };
    match restore["operation"].as_str().unwrap_or_default() {
        "AttachRolePolicy" => {
            iam.attach_role_policy()
                .role_name(param("RoleName"))
                .policy_arn(param("PolicyArn"))
                .send()
                .await
                .unwrap();
        }
        "PutUserPolicy" => {
            iam.put_user_policy()
                .user_name(param("UserName"))
                .policy_name(param("PolicyName"))
                .policy_document(param("PolicyDocument"))
                .send()
                .await
                .unwrap();
        }
        other => panic!("this test cannot make {other:?}: {restore}"),
    }
}

/// A document as IAM returns it: URL-encoded JSON on AWS, plain JSON from the
/// emulator.
fn document(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| {
        let decoded = percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .unwrap();
        serde_json::from_str(&decoded).unwrap()
    })
}

#[tokio::test]
async fn a_detached_admin_policy_keeps_its_document_and_a_restore_that_reattaches_it() {
    let Some(endpoint) = endpoint("remediate_undo_detach") else {
        return;
    };
    let iam = iam(&endpoint).await;
    let role = unique("rem-undo-role");
    const READ_ONLY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    role_with(&iam, &role, &[ADMIN, READ_ONLY]).await;
    let s = admin_attached_finding(endpoint, &role).await;

    let record = approve_and_run(&s, "enabled: [iam-detach-admin-policy]\n").await;
    assert_eq!(attached(&iam, &role).await, [READ_ONLY], "detached");
    let undo = &record["undo"];
    assert_eq!(undo["policy_document"], admin_access_document(), "{undo}");
    assert_eq!(undo["policy_arn"], ADMIN);
    assert_eq!(undo["policy_version"], "v1", "AWS's only version of it");
    assert_eq!(undo["principal"], format!("role/{role}"));
    assert_eq!(undo["attached"], true, "the state before the call");
    assert_eq!(
        undo["restore"],
        json!({"service": "iam", "operation": "AttachRolePolicy",
               "params": {"RoleName": role, "PolicyArn": ADMIN}})
    );

    perform(&iam, &undo["restore"]).await;
    assert_eq!(
        attached(&iam, &role).await,
        [ADMIN, READ_ONLY],
        "the restore puts the attachment back"
    );
}

#[tokio::test]
async fn a_deleted_inline_policy_keeps_its_document_and_a_restore_that_puts_it_back() {
    let Some(endpoint) = endpoint("remediate_undo_inline") else {
        return;
    };
    let c = inline_case(endpoint).await;
    let record = approve_and_run(&c.stored, "enabled: [iam-delete-inline-policy]\n").await;
    let names = |out: aws_sdk_iam::operation::list_user_policies::ListUserPoliciesOutput| {
        let mut n = out.policy_names().to_vec();
        n.sort();
        n
    };
    let list = || c.iam.list_user_policies().user_name(&c.user).send();
    assert_eq!(names(list().await.unwrap()), ["narrow"], "deleted");
    let undo = &record["undo"];
    assert_eq!(undo["policy_document"], c.doc, "as it was put: {undo}");
    assert_eq!(undo["policy_name"], json!(c.name));
    let restore = &undo["restore"];
    assert_eq!(restore["operation"], "PutUserPolicy", "{restore}");
    let mut keys: Vec<&String> = restore["params"].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["PolicyDocument", "PolicyName", "UserName"]);

    perform(&c.iam, restore).await;
    let mut want = vec![c.name.clone(), "narrow".to_string()];
    want.sort();
    assert_eq!(names(list().await.unwrap()), want);
    let back = c
        .iam
        .get_user_policy()
        .user_name(&c.user)
        .policy_name(&c.name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        document(back.policy_document()),
        c.doc,
        "the restore puts the document back as it was"
    );
}

#[tokio::test]
async fn a_lambdas_removed_public_statement_is_kept_as_it_was_read() {
    let Some(f) = public_function("remediate_undo_lambda").await else {
        return;
    };
    // The grant as the function's policy holds it before the remediation.
    let policy = f
        .lambda
        .get_policy()
        .function_name(&f.function)
        .send()
        .await
        .unwrap();
    let policy: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let public: Vec<Value> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|st| st["Sid"] == "backdoor")
        .cloned()
        .collect();
    assert_eq!(public.len(), 1, "{policy}");

    let record = approve_and_run(&f.stored, "enabled: [lambda-remove-public-access]\n").await;
    assert_eq!(sids(&f.lambda, &f.function).await, ["s3-one-bucket"]);
    let undo = &record["undo"];
    assert_eq!(undo["removed_statements"], json!(public), "{undo}");
    assert_eq!(undo["function"], json!(f.function));
    assert_eq!(undo["url_auth_type"], "NONE", "the URL's auth before");
}
