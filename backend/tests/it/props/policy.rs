//! The IAM policy analyzer against the IAM evaluation rules it follows
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html>),
//! on generated policies: never a panic, and what IAM says cannot matter does not
//! change the verdict — statement order, the case of action names, one statement
//! split into several with the same effect, and an explicit `Deny`, which can only
//! take permissions away, never add a risk.

use cspm::detect::policy::{analyze, PolicyIssue};
use proptest::prelude::*;
use serde_json::{json, Value};

const ACTIONS: &[&str] = &[
    "*",
    "iam:*",
    "iam:PassRole",
    "iam:CreatePolicyVersion",
    "iam:AttachUserPolicy",
    "iam:Get*",
    "s3:*",
    "s3:GetObject",
    "s3:PutBucketPolicy",
    "ec2:RunInstances",
    "ec2:Describe*",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameters",
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "kms:Decrypt",
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:iam::123456789012:role/app",
    "arn:aws:*:*:*",
    "arn:*",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-*",
];

fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::sample::select(items).prop_map(Value::from)
}

/// A single value or a list, as the grammar allows both.
fn one_or_many(items: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        one_of(items),
        prop::collection::vec(prop::sample::select(items), 1..4)
            .prop_map(|v| Value::from(v.into_iter().map(Value::from).collect::<Vec<_>>())),
    ]
}

fn principal() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(json!("*"))),
        1 => Just(Some(json!({"AWS": "arn:aws:iam::111122223333:root"}))),
        1 => Just(Some(json!({"Service": "lambda.amazonaws.com"}))),
        1 => Just(Some(json!({"Federated": "token.actions.githubusercontent.com"}))),
    ]
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}))),
        1 => Just(Some(json!({"StringEquals": {"sts:ExternalId": "x"}}))),
        1 => Just(Some(json!({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/*"}}))),
        1 => Just(Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
    ]
}

fn statement(effect: &'static str) -> impl Strategy<Value = Value> {
    (
        one_or_many(ACTIONS),
        one_or_many(RESOURCES),
        principal(),
        condition(),
    )
        .prop_map(move |(action, resource, principal, condition)| {
            let mut s = json!({"Effect": effect, "Action": action, "Resource": resource});
            if let Some(p) = principal {
                s["Principal"] = p;
            }
            if let Some(c) = condition {
                s["Condition"] = c;
            }
            s
        })
}

fn any_statement() -> impl Strategy<Value = Value> {
    prop_oneof![3 => statement("Allow"), 1 => statement("Deny")]
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn risks(doc: &Value) -> Vec<PolicyIssue> {
    analyze(doc).into_iter().filter(|i| i.is_risk()).collect()
}

/// Every action string of a statement list mapped by `f`.
fn map_actions(statements: &[Value], f: impl Fn(&str) -> String) -> Vec<Value> {
    statements
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s["Action"] = match &s["Action"] {
                Value::String(a) => Value::from(f(a)),
                Value::Array(list) => list
                    .iter()
                    .map(|a| Value::from(f(a.as_str().unwrap_or_default())))
                    .collect(),
                other => other.clone(),
            };
            s
        })
        .collect()
}

proptest! {
    #![proptest_config(super::config(256))]

    #[test]
    fn any_json_never_panics(doc in any_json()) {
        let _ = analyze(&doc);
    }

    #[test]
    fn statement_order_does_not_change_the_verdict(
        statements in prop::collection::vec(any_statement(), 1..6),
        rotate in 0usize..6,
    ) {
        let mut turned = statements.clone();
        let by = rotate % turned.len();
        turned.rotate_left(by);
        turned.reverse();
        prop_assert_eq!(analyze(&policy(statements)), analyze(&policy(turned)));
    }

    #[test]
    fn action_names_are_case_insensitive(
        statements in prop::collection::vec(any_statement(), 1..6),
        upper in any::<bool>(),
    ) {
        let changed = map_actions(&statements, |a| {
            if upper { a.to_ascii_uppercase() } else { a.to_ascii_lowercase() }
        });
        prop_assert_eq!(analyze(&policy(statements)), analyze(&policy(changed)));
    }

    #[test]
    fn an_allow_split_into_one_statement_per_action_grants_the_same(
        actions in prop::collection::vec(prop::sample::select(ACTIONS), 2..5),
        resource in one_or_many(RESOURCES),
        rest in prop::collection::vec(any_statement(), 0..3),
    ) {
        let joined: Vec<Value> = std::iter::once(json!({
            "Effect": "Allow", "Action": actions.clone(), "Resource": resource.clone()
        })).chain(rest.iter().cloned()).collect();
        let split: Vec<Value> = actions
            .iter()
            .map(|a| json!({"Effect": "Allow", "Action": a, "Resource": resource.clone()}))
            .chain(rest.iter().cloned())
            .collect();
        prop_assert_eq!(risks(&policy(joined)), risks(&policy(split)));
    }

    #[test]
    fn an_added_deny_never_adds_a_risk(
        statements in prop::collection::vec(any_statement(), 1..6),
        deny in statement("Deny"),
    ) {
        let before = risks(&policy(statements.clone()));
        let mut with_deny = statements;
        with_deny.push(deny);
        let after = risks(&policy(with_deny));
        prop_assert!(
            after.iter().all(|r| before.contains(r)),
            "a Deny added {:?} (before {:?})", after, before
        );
    }
}

/// JSON of any shape, shallow: objects with the grammar's own keys now and then.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[A-Za-z*:/-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(
                prop::sample::select(
                    &[
                        "Version",
                        "Statement",
                        "Effect",
                        "Action",
                        "NotAction",
                        "Resource",
                        "NotResource",
                        "Principal",
                        "NotPrincipal",
                        "Condition",
                        "Sid",
                        "AWS",
                    ][..]
                ),
                inner,
                0..5,
            )
            .prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}
