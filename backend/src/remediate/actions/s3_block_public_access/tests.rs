//! Unit tests of `s3-block-public-access`: names, plans and targets (the calls
//! themselves are tested against the emulator in `tests/it/remediate.rs`).

use super::*;

fn action() -> S3BlockPublicAccess {
    S3BlockPublicAccess::new(aws_config::SdkConfig::builder().build())
}

#[test]
fn bucket_names_come_from_arns_or_bare_names() {
    let cases = [
        ("arn:aws:s3:::example-bucket", Some("example-bucket")),
        ("arn:aws-cn:s3:::logs.example", Some("logs.example")),
        ("example-bucket", Some("example-bucket")),
        ("", None),
        ("ab", None),
        ("Upper-Case", None),
        ("arn:aws:s3:::b/key", None),
        ("not-an-arn:s3:::b", None),
        ("-dash-first", None),
    ];
    for (id, want) in cases {
        assert_eq!(bucket_name(id), want, "{id:?}");
    }
}

fn observed(block: Value) -> Observed {
    Observed {
        state: json!({"bucket": "b-1", "public_access_block": block}),
        ..Observed::default()
    }
}

fn target() -> Target {
    Target::new("b-1", "us-east-1", "111122223333").unwrap()
}

#[test]
fn a_missing_or_partial_block_plans_one_put_with_all_four() {
    let partial = json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
                         "BlockPublicPolicy": false, "RestrictPublicBuckets": true});
    for (block, named) in [
        (Value::Null, "BlockPublicAcls"),
        (partial, "BlockPublicPolicy"),
    ] {
        let p = action().plan(&target(), &observed(block));
        assert_eq!(p.calls.len(), 1);
        assert_eq!(p.calls[0].operation, "PutPublicAccessBlock");
        assert_eq!(
            p.calls[0].params,
            json!({"Bucket": "b-1", "ExpectedBucketOwner": "111122223333",
                "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": true, "IgnorePublicAcls": true,
                "BlockPublicPolicy": true, "RestrictPublicBuckets": true}})
        );
        assert!(p.after.contains(named), "{}", p.after);
    }
}

#[test]
fn all_four_on_plans_no_call() {
    let on = json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
                    "BlockPublicPolicy": true, "RestrictPublicBuckets": true});
    let p = action().plan(&target(), &observed(on));
    assert!(p.calls.is_empty());
    assert!(p.after.starts_with("nothing left to do"), "{}", p.after);
}

/// A finding in account 111122223333 recorded in us-west-2 about `bucket`.
fn bucket_finding(bucket: &str, bucket_region: Option<&str>) -> Finding {
    let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
        .next()
        .expect("one demo finding");
    f.account_id = "111122223333".into();
    f.region = "us-west-2".into();
    f.resources = vec![shared_types::Resource {
        resource_type: "AwsS3Bucket".into(),
        id: bucket.into(),
        partition: None,
        region: bucket_region.map(str::to_string),
    }];
    f
}

#[test]
fn the_target_is_the_bucket_in_the_finding_account_and_region() {
    let f = bucket_finding("arn:aws:s3:::example-bucket", None);
    assert_eq!(
        action().target(&f),
        Target::new("example-bucket", "us-west-2", "111122223333")
    );
}

#[test]
fn the_target_region_is_the_bucket_region_when_it_differs_from_the_finding() {
    // A CloudTrail event is recorded in one region about a bucket in another:
    // the calls (and the region scope) follow the bucket.
    let f = bucket_finding("arn:aws:s3:::example-bucket", Some("eu-west-1"));
    let t = action().target(&f).unwrap();
    assert_eq!(
        (t.region.as_str(), f.region.as_str()),
        ("eu-west-1", "us-west-2")
    );
}

#[test]
fn an_unknown_account_or_region_is_not_applicable() {
    let mut f = bucket_finding("example-bucket", None);
    f.account_id = "unknown".into();
    assert_eq!(
        action().target(&f),
        Err(NotApplicable::Account("unknown".into()))
    );
    let mut f = bucket_finding("example-bucket", Some("unknown"));
    assert_eq!(
        action().target(&f),
        Err(NotApplicable::Region("unknown".into()))
    );
    f.resources[0].region = None;
    f.region = String::new();
    assert_eq!(
        action().target(&f),
        Err(NotApplicable::Region(String::new()))
    );
}

#[test]
fn a_finding_without_a_bucket_is_not_applicable() {
    let mut f = bucket_finding("", None);
    assert!(matches!(
        action().target(&f),
        Err(NotApplicable::ResourceId { .. })
    ));
    f.resources[0].resource_type = "AwsEc2SecurityGroup".into();
    assert_eq!(
        action().target(&f),
        Err(NotApplicable::NoResource("AwsS3Bucket"))
    );
}

#[tokio::test]
async fn apply_refuses_a_proposal_it_did_not_plan_for_this_bucket() {
    // Planned for b-1 in account 111122223333, applied to another owner: no call
    // (the client has no endpoint or credentials, so a call could not pass either).
    let p = action().plan(&target(), &observed(Value::Null));
    let other = Target::new("b-1", "us-east-1", "444455556666").unwrap();
    let err = action().apply(&other, &p).await.unwrap_err();
    assert!(!err.retryable);
    assert!(err.detail.contains("not this action's plan"), "{err}");
}
