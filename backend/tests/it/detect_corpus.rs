//! The built-in rule pack on real CloudTrail events (`../shared/corpus/cloudtrail`
//! and `cloudtrail-records`), plus events for the corpus "Gaps", each built from the
//! closest real sample with only the fields that matter changed.

use super::helpers::corpus_dir;
use cspm::config::DetectionConfig;
use cspm::sources::Normalizer;
use serde_json::{json, Value};
use shared_types::{Finding, WorkflowStatus};
use std::collections::BTreeMap;

fn load(rel: &str) -> Value {
    let path = corpus_dir().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn fired(findings: &[Finding]) -> Vec<String> {
    findings.iter().map(|f| f.generator_id.clone()).collect()
}

/// Which rules fire on each corpus file; files not listed must fire nothing.
fn expected() -> BTreeMap<&'static str, Vec<&'static str>> {
    BTreeMap::from([
        // Root signs in without MFA: both rules; with MFA (-5): root use only.
        ("cloudtrail/awsdocs__cloudtrail_cloudtrail-event-reference-aws-console-sign-in-events_ConsoleLogin-4.json", vec!["aws.signin.console-login-without-mfa", "aws.iam.root-account-used"]),
        ("cloudtrail/awsdocs__cloudtrail_cloudtrail-event-reference-aws-console-sign-in-events_ConsoleLogin-5.json", vec!["aws.iam.root-account-used"]),
        // Root enabling MFA or changing its password is still root activity (and
        // enabling MFA is an IAM change).
        ("cloudtrail/awsdocs__cloudtrail_cloudtrail-event-reference-aws-console-sign-in-events_EnableMFADevice.json", vec!["aws.iam.changed", "aws.iam.root-account-used"]),
        ("cloudtrail/awsdocs__cloudtrail_cloudtrail-event-reference-aws-console-sign-in-events_PasswordUpdated.json", vec!["aws.iam.root-password-changed", "aws.iam.root-account-used"]),
        // A bucket deleted (its name can now be claimed by anyone).
        ("cloudtrail/awsdocs__iam_cloudtrail-integration_DeleteBucket.json", vec!["aws.s3.bucket-deleted"]),
        ("cloudtrail/awsdocs__iam_cloudtrail-integration_ConsoleLogin-2.json", vec!["aws.signin.console-login-failed"]),
        ("cloudtrail/awsdocs__config_cloudtrail-log-files-for-aws-config_DeleteDeliveryChannel.json", vec!["aws.security-service.disabled"]),
        ("cloudtrail/awsdocs__config_cloudtrail-log-files-for-aws-config_StopConfigurationRecorder.json", vec!["aws.security-service.disabled"]),
        // Restarting logging is a trail configuration change (informational).
        ("cloudtrail/awsdocs__cloudtrail_cloudtrail-event-reference_StartLogging.json", vec!["aws.cloudtrail.trail-changed"]),
        ("cloudtrail/reflex__AuthorizeSecurityGroupIngress_open_world_eventbridge.json", vec!["aws.ec2.security-group-open-to-world"]),
        ("cloudtrail/stratus__aws.defense-evasion.cloudtrail-delete_DeleteTrail.json", vec!["aws.cloudtrail.stopped-or-deleted"]),
        ("cloudtrail/stratus__aws.defense-evasion.cloudtrail-stop_StopLogging.json", vec!["aws.cloudtrail.stopped-or-deleted"]),
        // Stratus attack techniques the pack now recognises.
        ("cloudtrail/stratus__aws.execution.ec2-user-data_ModifyInstanceAttribute.json", vec!["aws.ec2.instance-user-data-modified"]),
        ("cloudtrail/stratus__aws.exfiltration.ec2-share-ami_ModifyImageAttribute.json", vec!["aws.ec2.snapshot-or-ami-shared-externally"]),
        ("cloudtrail/stratus__aws.exfiltration.ec2-share-ebs-snapshot_ModifySnapshotAttribute.json", vec!["aws.ec2.snapshot-or-ami-shared-externally"]),
        ("cloudtrail/stratus__aws.exfiltration.rds-share-snapshot_ModifyDBSnapshotAttribute.json", vec!["aws.rds.snapshot-shared-externally"]),
        // The backdoored trust names another account without sts:ExternalId.
        ("cloudtrail/stratus__aws.persistence.iam-backdoor-role_UpdateAssumeRolePolicy.json", vec!["aws.iam.dangerous-policy-written", "aws.iam.changed"]),
        // Lambda code updated by a human: inert while the shipped automation_principals
        // list is empty (detect::ruleset tests it on this event with the list set).
        ("cloudtrail/stratus__aws.persistence.lambda-overwrite-code_UpdateFunctionCode20150331v2.json", vec![]),
        ("cloudtrail/stratus__aws.privilege-escalation.iam-update-user-login-profile_UpdateLoginProfile.json", vec!["aws.iam.login-profile-set-for-another-user", "aws.iam.changed"]),
        ("cloudtrail/stratus__aws.initial-access.console-login-without-mfa_ConsoleLogin.json", vec!["aws.signin.console-login-without-mfa"]),
        // Stratus grants lambda:InvokeFunction to principal "*": public, and a grant.
        ("cloudtrail/stratus__aws.persistence.lambda-backdoor-function_AddPermission20150331v2.json", vec!["aws.lambda.made-public", "aws.lambda.permission-added"]),
        ("cloudtrail-records/awsdocs__cloudtrail_cloudtrail-event-reference-aws-console-sign-in-events_ConsoleLogin.json", vec!["aws.signin.console-login-without-mfa"]),
        // Created from the console: also outside IaC, and an IAM change.
        ("cloudtrail-records/awsdocs__cloudtrail_cloudtrail-log-file-examples_CreateUser.json", vec!["aws.iam.user-created", "aws.iam.changed"]),
        // PutBucketAcl is a bucket access change (informational).
        ("cloudtrail-records/awsdocs__s3_cloudtrail-logging-understanding-s3-entries_GetBucketVersioning-ListBuckets-PutBucketAc.json", vec!["aws.s3.bucket-access-changed"]),
        // Two root calls in the same hour from one IP: two matches, one dedup id.
        ("cloudtrail-records/awsdocs__lambda_with-cloudtrail_CreateTopic-GetTopicAttributes.json", vec!["aws.iam.root-account-used", "aws.iam.root-account-used"]),
        // Stratus attaches AdministratorAccess to a role it creates trusting an
        // outside account: admin attached, dangerous trust (created outside IaC only
        // once automation_principals is configured).
        ("cloudtrail-records/stratus__aws.persistence.iam-create-backdoor-role.json", vec!["aws.iam.admin-policy-attached", "aws.iam.changed", "aws.iam.dangerous-policy-written", "aws.iam.changed"]),
        ("cloudtrail-records/stratus__aws.persistence.iam-create-user-login-profile.json", vec!["aws.iam.login-profile-set-for-another-user", "aws.iam.changed"]),
    ])
}

#[test]
fn builtin_rules_fire_exactly_as_expected_on_every_real_cloudtrail_event() {
    let norm = Normalizer::default();
    let want = expected();
    let mut mismatches = Vec::new();
    let mut seen = 0;
    for folder in ["cloudtrail", "cloudtrail-records"] {
        let mut files: Vec<_> = std::fs::read_dir(corpus_dir().join(folder))
            .expect("corpus folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for p in files {
            let rel = format!("{folder}/{}", p.file_name().unwrap().to_string_lossy());
            let out = norm.parse_document(&load(&rel));
            assert!(out.rejected.is_empty(), "{rel}: {:?}", out.rejected);
            let got = fired(&out.findings);
            let exp: Vec<String> = want
                .get(rel.as_str())
                .map(|v| v.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            if got != exp {
                mismatches.push(format!("{rel}: got {got:?}, want {exp:?}"));
            }
            seen += 1;
        }
    }
    assert!(seen >= 60, "only {seen} corpus files");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn access_key_finding_carries_user_key_ip_region_agent_and_the_event_time() {
    // Panther's real CreateAccessKey case (the rule-case wraps the event).
    let doc = load(
        "rule-case/panther__AWS.CloudTrail.RootAccessKeyCreated_T_Root-Access-Key-Created.json",
    );
    let event = &doc["event"];
    let out = Normalizer::default().parse_document(event);
    let f = out
        .findings
        .iter()
        .find(|f| f.generator_id == "aws.iam.access-key-created")
        .expect("access key rule fires");
    let key = event["responseElements"]["accessKey"]["accessKeyId"]
        .as_str()
        .expect("key id in the sample");
    assert!(f.description.contains(key), "{}", f.description);
    for field in ["sourceIPAddress", "awsRegion", "userAgent"] {
        let v = event[field].as_str().expect("field in the sample");
        assert!(
            f.description.contains(v),
            "{field} missing: {}",
            f.description
        );
    }
    assert!(f
        .description
        .contains(event["userIdentity"]["arn"].as_str().unwrap()));
    assert_eq!(f.resources[0].id, key);
    let when: chrono::DateTime<chrono::Utc> = event["eventTime"].as_str().unwrap().parse().unwrap();
    assert_eq!(f.created_at, when);
    assert_eq!(f.updated_at, when);
    assert_eq!(&f.raw, event, "the raw event is kept");
    assert!(
        f.product_arn.ends_with(":product/123456789012/default")
            || f.product_arn.contains(":product/")
    );
    assert_eq!(
        f.asff_id,
        format!(
            "aws.iam.access-key-created/{}",
            event["eventID"].as_str().unwrap()
        )
    );
    // Deterministic: the same event gives the same finding.
    assert_eq!(
        Normalizer::default().parse_document(event).findings,
        out.findings
    );
}

/// Builds a gap event from a real record: same identity, time, IPs and ids; only
/// eventSource/eventName/requestParameters replaced.
fn from_sample(rel: &str, source: &str, name: &str, params: Value) -> Value {
    let mut ev = load(rel);
    ev["eventSource"] = json!(source);
    ev["eventName"] = json!(name);
    ev["requestParameters"] = params;
    ev["responseElements"] = Value::Null;
    ev
}

const IAM_SAMPLE: &str =
    "cloudtrail/stratus__aws.persistence.iam-backdoor-role_UpdateAssumeRolePolicy.json";

#[test]
fn gap_events_built_from_real_samples_fire_their_rules() {
    let admin_doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let cases: Vec<(&str, Value, &str)> = vec![
        // Gap: PutRolePolicy (from the UpdateAssumeRolePolicy sample).
        ("PutRolePolicy admin", from_sample(IAM_SAMPLE, "iam.amazonaws.com", "PutRolePolicy", json!({"roleName": "r", "policyName": "p", "policyDocument": admin_doc})), "aws.iam.dangerous-policy-written"),
        // Gap: CreatePolicy / CreatePolicyVersion.
        ("CreatePolicy admin", from_sample(IAM_SAMPLE, "iam.amazonaws.com", "CreatePolicy", json!({"policyName": "p", "policyDocument": admin_doc})), "aws.iam.dangerous-policy-written"),
        ("CreatePolicyVersion admin", from_sample(IAM_SAMPLE, "iam.amazonaws.com", "CreatePolicyVersion", json!({"policyArn": "arn:aws:iam::1:policy/p", "policyDocument": admin_doc, "setAsDefault": true})), "aws.iam.dangerous-policy-written"),
        // Gap: PutPublicAccessBlock (account) turning a setting off.
        ("PutAccountPublicAccessBlock off", from_sample(IAM_SAMPLE, "s3.amazonaws.com", "PutAccountPublicAccessBlock", json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": false, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}})), "aws.s3.public-access-block-removed"),
        // Gap: CreateLoadBalancer / CreateListener.
        ("CreateLoadBalancer internet-facing", from_sample(IAM_SAMPLE, "elasticloadbalancing.amazonaws.com", "CreateLoadBalancer", json!({"name": "web", "scheme": "internet-facing", "type": "application"})), "aws.elb.internet-facing-or-plain-http"),
        ("CreateListener HTTP", from_sample(IAM_SAMPLE, "elasticloadbalancing.amazonaws.com", "CreateListener", json!({"loadBalancerArn": "arn:lb", "protocol": "HTTP", "port": 80, "defaultActions": [{"type": "forward"}]})), "aws.elb.internet-facing-or-plain-http"),
        // Gap: internet route (CreateInternetGateway alone exposes nothing; the route does).
        ("CreateRoute to igw", from_sample(IAM_SAMPLE, "ec2.amazonaws.com", "CreateRoute", json!({"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"})), "aws.ec2.route-table-changed aws.vpc.exposure"),
        // Gap: DisableSecurityHub, DeleteDetector.
        ("DisableSecurityHub", from_sample("cloudtrail/awsdocs__securityhub_securityhub-ct_CreateInsight.json", "securityhub.amazonaws.com", "DisableSecurityHub", json!({})), "aws.security-service.disabled"),
        ("DeleteDetector", from_sample(IAM_SAMPLE, "guardduty.amazonaws.com", "DeleteDetector", json!({"detectorId": "d1"})), "aws.security-service.disabled"),
        // Gap: CreateFunctionUrlConfig without auth.
        ("Function URL auth NONE", from_sample("cloudtrail/stratus__aws.persistence.lambda-backdoor-function_AddPermission20150331v2.json", "lambda.amazonaws.com", "CreateFunctionUrlConfig20211031", json!({"functionName": "f", "authType": "NONE"})), "aws.lambda.made-public"),
    ];
    let norm = Normalizer::default();
    for (name, ev, rules) in cases {
        let out = norm.parse_document(&ev);
        // Every IAM write is also an informational IAM change.
        let got: Vec<String> = fired(&out.findings)
            .into_iter()
            .filter(|r| r != "aws.iam.changed")
            .collect();
        // "Created outside IaC" stays inert here: the shipped automation_principals list is empty.
        let want: Vec<String> = rules.split(' ').map(str::to_string).collect();
        assert_eq!(got, want, "{name}");
    }
    // And the safe variants stay quiet.
    let narrow = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    let quiet = from_sample(
        IAM_SAMPLE,
        "iam.amazonaws.com",
        "PutRolePolicy",
        json!({"roleName": "r", "policyName": "p", "policyDocument": narrow}),
    );
    assert_eq!(
        fired(&norm.parse_document(&quiet).findings),
        vec!["aws.iam.changed"]
    );
}

#[test]
fn repeated_failed_logins_within_the_window_update_one_finding() {
    let base = load("cloudtrail/awsdocs__iam_cloudtrail-integration_ConsoleLogin-2.json");
    let at = |t: &str, id: &str| {
        let mut e = base.clone();
        e["eventTime"] = json!(t);
        e["eventID"] = json!(id);
        e
    };
    let norm = Normalizer::default();
    let one = |e: &Value| norm.parse_document(e).findings.remove(0);
    let a = one(&at("2024-03-01T10:05:00Z", "a"));
    let b = one(&at("2024-03-01T10:50:00Z", "b"));
    let c = one(&at("2024-03-01T11:05:00Z", "c"));
    assert_eq!(a.id, b.id, "same user, IP and hour: one finding");
    assert!(
        b.updated_at > a.updated_at,
        "the repeat is the newer version"
    );
    assert_ne!(a.id, c.id, "next window: a new finding");
}

#[test]
fn suppressions_and_the_account_override_apply_to_rule_findings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("suppressions.yaml");
    std::fs::write(
        &path,
        r#"
suppressions:
  - id: lab-logins
    reason: the lab account's test user logs in without MFA by design
    owner: secops@example.com
    expires: 2099-01-01T00:00:00Z
    match: {path: generator_id, equals: aws.signin.console-login-without-mfa}
  - id: expired
    reason: old exception
    owner: secops@example.com
    expires: 2001-01-01T00:00:00Z
    match: {path: generator_id, equals: aws.cloudtrail.stopped-or-deleted}
"#,
    )
    .unwrap();
    let norm = DetectionConfig {
        suppressions: Some(path),
        account_override: Some("999988887777".into()),
        ..Default::default()
    }
    .normalizer()
    .expect("valid settings");
    let login =
        load("cloudtrail/stratus__aws.initial-access.console-login-without-mfa_ConsoleLogin.json");
    let f = norm.parse_document(&login).findings.remove(0);
    assert_eq!(f.workflow_status, WorkflowStatus::Suppressed);
    assert!(f.description.contains("lab-logins") && f.description.contains("secops@"));
    assert_eq!(f.account_id, "999988887777");
    let stop = load("cloudtrail/stratus__aws.defense-evasion.cloudtrail-stop_StopLogging.json");
    let f = norm.parse_document(&stop).findings.remove(0);
    assert_eq!(
        f.workflow_status,
        WorkflowStatus::New,
        "expired suppressions do nothing"
    );
    assert!(DetectionConfig {
        account_override: Some("12345".into()),
        ..Default::default()
    }
    .normalizer()
    .is_err());
}
