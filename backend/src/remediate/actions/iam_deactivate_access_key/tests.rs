//! Unit tests of `iam-deactivate-access-key`: targets (root keys are manual),
//! plans (the calls run against the emulator in `tests/it/remediate/iam.rs`).

use super::*;
use serde_json::Value;

fn action() -> IamDeactivateAccessKey {
    IamDeactivateAccessKey::new(aws_config::SdkConfig::builder().build())
}

const KEY: &str = "AKIAIOSFODNN7EXAMPLE";

/// A CreateAccessKey finding: the key and `user` (name or ARN), or the account.
fn key_finding(rule: &str, user: Option<(&str, &str)>) -> Finding {
    let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
        .next()
        .expect("one demo finding");
    f.generator_id = rule.into();
    f.account_id = "111122223333".into();
    f.region = "us-east-1".into();
    let res = |t: &str, id: &str| shared_types::Resource {
        resource_type: t.into(),
        id: id.into(),
        partition: None,
        region: None,
    };
    f.resources = vec![res("AwsIamAccessKey", KEY)];
    if let Some((t, id)) = user {
        f.resources.push(res(t, id));
    }
    f
}

#[test]
fn the_target_is_the_key_within_its_user() {
    let f = key_finding(
        "aws.iam.access-key-created-for-another-user",
        Some(("AwsIamUser", "alice")),
    );
    let t = action().target(&f).unwrap();
    assert_eq!(
        (t.resource.as_str(), t.parent.as_deref()),
        (KEY, Some("user/alice"))
    );
    assert_eq!(t.account, "111122223333");
}

#[test]
fn a_root_key_is_manual_with_the_steps() {
    for f in [
        key_finding(
            "aws.iam.root-access-key-created",
            Some(("AwsAccount", "arn:aws:iam::111122223333:root")),
        ),
        // aws.iam.access-key-created names the root caller's ARN as the user.
        key_finding(
            "aws.iam.access-key-created",
            Some(("AwsIamUser", "arn:aws:iam::111122223333:root")),
        ),
    ] {
        let err = action().target(&f).unwrap_err();
        assert!(matches!(err, NotApplicable::Manual { .. }), "{err}");
        assert!(err.to_string().contains("sign in as root"), "{err}");
    }
}

#[test]
fn a_finding_without_a_key_or_user_is_not_applicable() {
    let mut f = key_finding("aws.iam.access-key-created", None);
    assert_eq!(
        action().target(&f),
        Err(NotApplicable::NoResource("AwsIamUser"))
    );
    f.resources[0].id = "ASIATEMPORARYKEY0001".into();
    assert!(matches!(
        action().target(&f),
        Err(NotApplicable::ResourceId { .. })
    ));
}

fn observed(status: Value) -> Observed {
    Observed {
        state: json!({"user": "alice", "user_arn": "arn:aws:iam::111122223333:user/alice",
                      "access_key_id": KEY, "status": status}),
        ..Observed::default()
    }
}

#[test]
fn an_active_key_plans_one_update_to_inactive_and_nothing_else() {
    let t = Target::new(KEY, "us-east-1", "111122223333")
        .unwrap()
        .within("user/alice");
    let p = action().plan(&t, &observed(json!("Active")));
    assert_eq!(
        p.calls,
        vec![ApiCall {
            service: "iam".into(),
            operation: "UpdateAccessKey".into(),
            params: json!({"UserName": "alice", "AccessKeyId": KEY, "Status": "Inactive"}),
        }]
    );
    assert!(p.after.contains("not deleted"), "{}", p.after);
    for done in [json!("Inactive"), Value::Null] {
        let p = action().plan(&t, &observed(done));
        assert!(p.calls.is_empty());
        assert!(p.after.starts_with("nothing left to do"), "{}", p.after);
    }
}
