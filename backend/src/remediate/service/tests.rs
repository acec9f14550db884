use super::*;
use crate::remediate::action_id::ActionId;
use crate::remediate::plan::{ApiCall, GuardName};
use crate::remediate::target::NotApplicable;
use serde_json::json;

fn guards() -> Vec<GuardResult> {
    vec![
        GuardResult {
            name: GuardName::NotEnabled,
            passed: false,
            reason: "plan only".into(),
        },
        GuardResult {
            name: GuardName::ChangedSincePlan,
            passed: true,
            reason: "as planned".into(),
        },
    ]
}

fn plans() -> Vec<Plan> {
    let call = ApiCall {
        service: "iam".into(),
        operation: "DetachRolePolicy".into(),
        params: json!({"RoleName": "ops", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    };
    vec![
        Plan::applicable(
            "f1",
            "iam-detach-admin-policy",
            vec![call],
            &json!({"role": "ops", "policy_document": {"Statement": [{"Effect": "Allow", "Action": "*"}]}}),
            "the role keeps its other policies".into(),
            guards(),
        ),
        Plan::unread("f1", "s3-block-public-access", guards()),
        Plan::not_applicable(
            "f1",
            Some("kms-cancel-key-deletion".into()),
            &NotApplicable::NotAvailable(ActionId::KmsCancelKeyDeletion),
        ),
        Plan::not_applicable("f1", None, &NotApplicable::NoAction("IAM.1".into())),
    ]
}

#[test]
fn the_wire_plan_is_the_same_json_as_the_plan() {
    for plan in plans() {
        let original = serde_json::to_value(&plan).unwrap();
        let wired = wire(&plan);
        assert_eq!(serde_json::to_value(&wired).unwrap(), original);
        assert_eq!(wired.state_hash(), plan.state_hash());
        assert_eq!(
            wired.refused_by().map(|g| g.name.as_str()),
            plan.refused_by().map(|g| g.name.as_str())
        );
    }
}

#[test]
fn remediation_ids_are_32_lowercase_hex_digits() {
    let id = new_id();
    assert!(is_remediation_id(&id), "{id}");
    assert_ne!(new_id(), id);
    for bad in [
        "",
        "0123",
        &"A".repeat(32),
        &"g".repeat(32),
        &"a".repeat(33),
    ] {
        assert!(!is_remediation_id(bad), "{bad}");
    }
}
