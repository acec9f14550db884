//! Unit tests of `ec2-revoke-world-ingress`: which rules offend, the plan's call
//! and words, targets (the calls themselves run against the emulator in
//! `tests/it/remediate/ec2.rs`).

use super::*;

fn action() -> Ec2RevokeWorldIngress {
    Ec2RevokeWorldIngress::new(aws_config::SdkConfig::builder().build(), vec![80, 443])
}

fn target() -> Target {
    Target::new("sg-0abc1234", "us-east-1", "111122223333").unwrap()
}

fn rule(id: &str, proto: &str, ports: (i32, i32), source: &str) -> IngressRule {
    let (v4, v6, pl, sg) = match source {
        s if s.starts_with("pl-") => (None, None, Some(s), None),
        s if s.starts_with("sg-") => (None, None, None, Some(s)),
        s if s.contains(':') => (None, Some(s), None, None),
        s => (Some(s), None, None, None),
    };
    IngressRule {
        security_group_rule_id: id.into(),
        ip_protocol: proto.into(),
        from_port: ports.0,
        to_port: ports.1,
        cidr_ipv4: v4.map(str::to_string),
        cidr_ipv6: v6.map(str::to_string),
        prefix_list_id: pl.map(str::to_string),
        referenced_group_id: sg.map(str::to_string),
    }
}

fn observed(rules: &[IngressRule]) -> Observed {
    Observed {
        state: json!({"group_id": "sg-0abc1234", "group_name": "web", "vpc_id": "vpc-1",
                      "ingress": rules}),
        ..Observed::default()
    }
}

#[test]
fn only_world_open_rules_on_ports_not_allowed_offend() {
    let allowed = [80, 443];
    let cases = [
        (rule("a", "tcp", (22, 22), "0.0.0.0/0"), true),
        (rule("b", "tcp", (22, 22), "::/0"), true),
        (rule("c", "tcp", (443, 443), "0.0.0.0/0"), false),
        (rule("d", "6", (80, 80), "::/0"), false),
        // A range through the allowed ports opens every port between them.
        (rule("e", "tcp", (80, 443), "0.0.0.0/0"), true),
        (rule("f", "-1", (-1, -1), "0.0.0.0/0"), true),
        (rule("g", "udp", (443, 443), "0.0.0.0/0"), true),
        (rule("h", "icmp", (8, -1), "0.0.0.0/0"), true),
        (rule("i", "tcp", (22, 22), "10.0.0.0/8"), false),
        (rule("j", "tcp", (22, 22), "0.0.0.0/1"), false),
        (rule("k", "-1", (-1, -1), "sg-0def5678"), false),
        (rule("l", "tcp", (22, 22), "pl-12345678"), false),
    ];
    for (r, offends) in cases {
        assert_eq!(r.offends(&allowed), offends, "{}", r.describe());
    }
    // A range wholly inside allowed ports is allowed.
    assert!(!rule("m", "tcp", (8080, 8081), "0.0.0.0/0").offends(&[8080, 8081]));
}

#[test]
fn the_plan_revokes_the_offending_rules_by_id_and_says_what_stays() {
    let rules = [
        rule("sgr-1", "tcp", (22, 22), "0.0.0.0/0"),
        rule("sgr-2", "tcp", (443, 443), "0.0.0.0/0"),
        rule("sgr-3", "tcp", (22, 22), "10.0.0.0/8"),
        rule("sgr-4", "tcp", (22, 22), "::/0"),
    ];
    let p = action().plan(&target(), &observed(&rules));
    assert_eq!(
        p.calls,
        vec![ApiCall {
            service: "ec2".into(),
            operation: "RevokeSecurityGroupIngress".into(),
            params: json!({"GroupId": "sg-0abc1234", "SecurityGroupRuleIds": ["sgr-1", "sgr-4"]}),
        }]
    );
    assert_eq!(
        p.after,
        "revoke ingress tcp/22 from 0.0.0.0/0 and tcp/22 from ::/0 on sg-0abc1234; \
         the rules tcp/443 from 0.0.0.0/0 and tcp/22 from 10.0.0.0/8 stay"
    );
}

#[test]
fn a_group_without_offending_rules_plans_no_call() {
    let rules = [
        rule("sgr-2", "tcp", (443, 443), "0.0.0.0/0"),
        rule("sgr-3", "tcp", (22, 22), "10.0.0.0/8"),
    ];
    let p = action().plan(&target(), &observed(&rules));
    assert!(p.calls.is_empty());
    assert!(p.after.starts_with("nothing left to do"), "{}", p.after);
    assert!(p.after.contains("tcp/22 from 10.0.0.0/8"), "{}", p.after);
    // A group whose every rule goes says nothing stays.
    let p = action().plan(
        &target(),
        &observed(&[rule("sgr-9", "-1", (-1, -1), "::/0")]),
    );
    assert_eq!(
        p.after,
        "revoke ingress all traffic from ::/0 on sg-0abc1234; no other ingress rule"
    );
}

#[test]
fn allowed_ports_come_from_the_configuration() {
    let only_ssh = Ec2RevokeWorldIngress::new(aws_config::SdkConfig::builder().build(), vec![22]);
    let rules = [
        rule("sgr-1", "tcp", (22, 22), "0.0.0.0/0"),
        rule("sgr-2", "tcp", (443, 443), "0.0.0.0/0"),
    ];
    let p = only_ssh.plan(&target(), &observed(&rules));
    assert_eq!(p.calls[0].params["SecurityGroupRuleIds"], json!(["sgr-2"]));
}

#[test]
fn group_ids_come_from_ids_or_arns() {
    let cases = [
        ("sg-0abc1234", Some(("sg-0abc1234", None, None))),
        (
            "sg-00000bd0bf00f0000",
            Some(("sg-00000bd0bf00f0000", None, None)),
        ),
        (
            "arn:aws:ec2:eu-west-1:522536594833:security-group/sg-0daf160f08dfed499",
            Some((
                "sg-0daf160f08dfed499",
                Some("eu-west-1"),
                Some("522536594833"),
            )),
        ),
        ("default", None),
        ("sg-XYZ12345", None),
        ("sg-123", None),
        ("arn:aws:ec2:us-east-1:1:instance/i-0abc1234", None),
        ("arn:aws:s3:::sg-0abc1234", None),
    ];
    for (id, want) in cases {
        assert_eq!(group_id(id), want, "{id:?}");
    }
}

fn group_finding(id: &str) -> Finding {
    let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
        .next()
        .expect("one demo finding");
    f.account_id = "111122223333".into();
    f.region = "us-west-2".into();
    f.resources = vec![shared_types::Resource {
        resource_type: "AwsEc2SecurityGroup".into(),
        id: id.into(),
        partition: None,
        region: None,
    }];
    f
}

#[test]
fn the_target_is_the_group_where_its_arn_says_else_the_finding() {
    assert_eq!(
        action().target(&group_finding("sg-0abc1234")),
        Target::new("sg-0abc1234", "us-west-2", "111122223333")
    );
    let arn = "arn:aws:ec2:eu-west-1:444455556666:security-group/sg-0abc1234";
    assert_eq!(
        action().target(&group_finding(arn)),
        Target::new("sg-0abc1234", "eu-west-1", "444455556666")
    );
    assert!(matches!(
        action().target(&group_finding("default")),
        Err(NotApplicable::ResourceId { .. })
    ));
    let mut f = group_finding("sg-0abc1234");
    f.resources[0].resource_type = "AwsAccount".into();
    assert_eq!(
        action().target(&f),
        Err(NotApplicable::NoResource("AwsEc2SecurityGroup"))
    );
}

#[tokio::test]
async fn apply_refuses_a_proposal_it_did_not_plan_for_this_group() {
    // The client has no endpoint or credentials: a call could not pass either.
    let p = action().plan(
        &target(),
        &observed(&[rule("sgr-1", "tcp", (22, 22), "0.0.0.0/0")]),
    );
    let other = Target::new("sg-0fff0000", "us-east-1", "111122223333").unwrap();
    let err = action().apply(&other, &p).await.unwrap_err();
    assert!(err.detail.contains("not this action's plan"), "{err}");
    let mut extra = p.clone();
    extra.calls[0].params["IpPermissions"] = json!([{"IpProtocol": "-1"}]);
    let err = action().apply(&target(), &extra).await.unwrap_err();
    assert!(!err.retryable && err.detail.contains("not this action's plan"));
}
