//! Unit tests of `iam-delete-inline-policy`: targets from the written policy,
//! plans (only while it is still dangerous) and the record.

use super::*;

fn action() -> IamDeleteInlinePolicy {
    IamDeleteInlinePolicy::new(aws_config::SdkConfig::builder().build())
}

/// A finding of `eventName` writing policy `p` to role `ops`, the record
/// wrapped in an EventBridge envelope when `envelope`.
fn put_finding(event_name: &str, envelope: bool) -> Finding {
    let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
        .next()
        .expect("one demo finding");
    f.account_id = "111122223333".into();
    f.region = "us-east-1".into();
    f.resources = vec![shared_types::Resource {
        resource_type: "AwsIamRole".into(),
        id: "ops".into(),
        partition: None,
        region: None,
    }];
    let record = json!({"eventName": event_name,
        "requestParameters": {"roleName": "ops", "policyName": "p"}});
    f.raw = if envelope {
        json!({"detail": record})
    } else {
        record
    };
    f
}

#[test]
fn the_target_is_the_written_policy_within_its_principal() {
    for envelope in [false, true] {
        let t = action()
            .target(&put_finding("PutRolePolicy", envelope))
            .unwrap();
        assert_eq!(
            (t.resource.as_str(), t.parent.as_deref()),
            ("p", Some("role/ops"))
        );
    }
    // A managed policy or a trust policy is not an inline policy.
    for other in ["CreatePolicy", "UpdateAssumeRolePolicy", "CreateRole"] {
        assert!(matches!(
            action().target(&put_finding(other, false)),
            Err(NotApplicable::NoResource(_))
        ));
    }
    // A user's policy needs the finding to name the user.
    assert!(action()
        .target(&put_finding("PutUserPolicy", false))
        .is_err());
}

fn observed(doc: Value, risks: &[&str]) -> Observed {
    Observed {
        state: json!({"principal": "role/ops", "principal_arn": "arn:aws:iam::111122223333:role/ops",
                      "policy_name": "p", "policy_document": doc, "risks": risks}),
        ..Observed::default()
    }
}

#[test]
fn a_dangerous_policy_is_deleted_with_its_document_recorded() {
    let t = Target::new("p", "us-east-1", "111122223333")
        .unwrap()
        .within("role/ops");
    let doc = json!({"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*:*", "Resource": "*"}]});
    let o = observed(doc.clone(), &["full_admin"]);
    let p = action().plan(&t, &o);
    assert_eq!(
        p.calls,
        vec![ApiCall {
            service: "iam".into(),
            operation: "DeleteRolePolicy".into(),
            params: json!({"RoleName": "ops", "PolicyName": "p"}),
        }]
    );
    let record = action().record(&t, &o).unwrap();
    assert_eq!(record["policy_document"], doc);
    assert_eq!(record["restore"]["operation"], "PutRolePolicy");
    let restored: Value = serde_json::from_str(
        record["restore"]["params"]["PolicyDocument"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(restored, doc);
    // Rewritten to a safe policy since, or gone: nothing to do.
    for (doc, risks) in [(json!({"Statement": []}), &[][..]), (Value::Null, &[][..])] {
        let p = action().plan(&t, &observed(doc, risks));
        assert!(
            p.calls.is_empty() && p.after.starts_with("nothing left to do"),
            "{}",
            p.after
        );
    }
}
