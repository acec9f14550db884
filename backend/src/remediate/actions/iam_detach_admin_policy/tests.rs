//! Unit tests of `iam-detach-admin-policy`: targets, plans and the record (the
//! calls run against the emulator in `tests/it/remediate/iam.rs`).

use super::*;

const ADMIN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn action() -> IamDetachAdminPolicy {
    IamDetachAdminPolicy::new(aws_config::SdkConfig::builder().build())
}

fn attach_finding(principal: (&str, &str), policy: &str) -> Finding {
    let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
        .next()
        .expect("one demo finding");
    f.account_id = "111122223333".into();
    f.region = "us-east-1".into();
    let res = |t: &str, id: &str| shared_types::Resource {
        resource_type: t.into(),
        id: id.into(),
        partition: None,
        region: None,
    };
    f.resources = vec![res(principal.0, principal.1), res("AwsIamPolicy", policy)];
    f
}

#[test]
fn the_target_is_the_policy_within_its_principal() {
    let t = action()
        .target(&attach_finding(("AwsIamRole", "ops"), ADMIN))
        .unwrap();
    assert_eq!(
        (t.resource.as_str(), t.parent.as_deref()),
        (ADMIN, Some("role/ops"))
    );
    let t = action()
        .target(&attach_finding(
            ("AwsIamGroup", "arn:aws:iam::444455556666:group/admins"),
            "arn:aws:iam::444455556666:policy/AdministratorAccess",
        ))
        .unwrap();
    assert_eq!(
        (t.account.as_str(), t.parent.as_deref()),
        ("444455556666", Some("group/admins"))
    );
    assert!(matches!(
        action().target(&attach_finding(
            ("AwsIamRole", "ops"),
            "AdministratorAccess"
        )),
        Err(NotApplicable::ResourceId { .. })
    ));
    assert!(matches!(
        action().target(&attach_finding(("AwsAccount", "111122223333"), ADMIN)),
        Err(NotApplicable::NoResource(_))
    ));
}

fn observed(attached: bool) -> Observed {
    Observed {
        state: json!({"principal": "role/ops", "principal_arn": "arn:aws:iam::111122223333:role/ops",
                      "policy_arn": ADMIN, "attached": attached, "policy_version": "v1",
                      "policy_document": {"Version": "2012-10-17",
                          "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}),
        ..Observed::default()
    }
}

#[test]
fn an_attached_policy_plans_one_detach_and_records_how_to_restore_it() {
    let t = Target::new(ADMIN, "us-east-1", "111122223333")
        .unwrap()
        .within("role/ops");
    let p = action().plan(&t, &observed(true));
    assert_eq!(
        p.calls,
        vec![ApiCall {
            service: "iam".into(),
            operation: "DetachRolePolicy".into(),
            params: json!({"RoleName": "ops", "PolicyArn": ADMIN}),
        }]
    );
    let record = action().record(&t, &observed(true)).unwrap();
    assert_eq!(record["policy_document"]["Statement"][0]["Action"], "*");
    assert_eq!(
        record["restore"],
        json!({"service": "iam", "operation": "AttachRolePolicy",
               "params": {"RoleName": "ops", "PolicyArn": ADMIN}})
    );
    let p = action().plan(&t, &observed(false));
    assert!(p.calls.is_empty() && p.after.starts_with("nothing left to do"));
}
