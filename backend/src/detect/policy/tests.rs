//! Known vectors for the analyzer: each check with its look-alikes, written from
//! the IAM documentation (expected kinds are stated, not computed).

use super::PolicyIssue::*;
use super::*;
use serde_json::json;

fn kinds(doc: Value) -> Vec<PolicyIssue> {
    analyze(&doc)
}

fn allow(action: Value, resource: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

#[test]
fn administrator_and_service_wildcards_need_star_in_effect() {
    assert_eq!(kinds(allow(json!("*"), "*")), vec![FullAdmin]);
    assert_eq!(kinds(allow(json!("*"), "arn:aws:*:*:*:*")), vec![FullAdmin]);
    assert_eq!(
        kinds(allow(json!(["s3:*", "ec2:*"]), "arn:*")),
        vec![ServiceWildcard]
    );
    // `S3*` is no ARN: it matches nothing, so it grants nothing (but is malformed).
    assert_eq!(kinds(allow(json!("*"), "S3*")), vec![Malformed]);
    assert!(kinds(allow(json!("s3:*"), "arn:aws:s3:::own-bucket")).is_empty());
    assert!(kinds(allow(json!(["s3:List*", "ec2:Describe*"]), "*")).is_empty());
}

#[test]
fn a_deny_takes_back_exactly_what_it_covers() {
    let all_denied = json!({"Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]});
    assert!(kinds(all_denied).is_empty());
    // The Deny removes bucket policies but leaves ACLs writable.
    let acl_left = json!({"Statement": [
        {"Effect": "Allow", "Action": ["s3:Put*", "s3:Get*"], "Resource": "*"},
        {"Effect": "Deny", "Action": ["s3:*Policy*"], "Resource": "*"}]});
    assert_eq!(kinds(acl_left), vec![PermissionsManagement, DataReadAll]);
    let escalation_denied = json!({"Statement": [
        {"Effect": "Allow", "Action": ["iam:AttachUserPolicy", "iam:PutUserPolicy"], "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]});
    assert!(kinds(escalation_denied).is_empty());
    // A conditional Deny (only without MFA) does not take the grant back.
    let conditional = json!({"Statement": [
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ec2:*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]});
    assert_eq!(kinds(conditional), vec![ServiceWildcard]);
}

#[test]
fn escalation_passrole_secrets_and_credentials_on_any_resource() {
    assert_eq!(
        kinds(allow(json!(["iam:PutUserPolicy"]), "*")),
        vec![PrivilegeEscalation]
    );
    assert_eq!(
        kinds(allow(
            json!(["iam:AttachRolePolicy"]),
            "arn:aws:iam::111122223333:role/*"
        )),
        vec![PrivilegeEscalation]
    );
    // Managing one's own MFA device or keys is scoped to the caller.
    assert!(kinds(allow(
        json!(["iam:CreateVirtualMFADevice"]),
        "arn:aws:iam::*:mfa/${aws:username}"
    ))
    .is_empty());
    assert_eq!(kinds(allow(json!("iam:PassRole"), "*")), vec![PassRoleStar]);
    assert!(kinds(allow(
        json!("iam:PassRole"),
        "arn:aws:iam::111122223333:role/lambda-exec"
    ))
    .is_empty());
    let pass_and_run = json!({"Statement": [
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/*"},
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}]});
    assert_eq!(kinds(pass_and_run), vec![PassRoleStar, PrivilegeEscalation]);
    assert_eq!(
        kinds(allow(json!("ssm:GetParameters"), "*")),
        vec![SecretsReadAll]
    );
    assert!(kinds(allow(
        json!("ssm:GetParameters"),
        "arn:aws:ssm:us-east-1:111122223333:parameter/app/*"
    ))
    .is_empty());
    assert_eq!(
        kinds(allow(json!("ec2:GetPasswordData"), "*")),
        vec![CredentialExposure]
    );
    assert_eq!(
        kinds(allow(json!(["s3:GetObject"]), "arn:aws:s3:::*/*")),
        vec![DataReadAll]
    );
    assert!(kinds(allow(json!(["s3:GetObject"]), "arn:aws:s3:::reports/*")).is_empty());
    // Registry and bearer tokens are the caller's own and cannot be scoped.
    assert!(kinds(allow(
        json!(["ecr:GetAuthorizationToken", "sts:GetServiceBearerToken"]),
        "*"
    ))
    .is_empty());
}

#[test]
fn policy_writers_count_when_named_or_reached_by_a_wildcard_on_star() {
    assert_eq!(
        kinds(allow(json!("s3:PutBucketPolicy"), "arn:aws:s3:::b")),
        vec![PermissionsManagement]
    );
    assert_eq!(
        kinds(allow(
            json!("kms:PutKeyPolicy"),
            "arn:aws:kms:us-west-2:111122223333:key/1"
        )),
        vec![PermissionsManagement]
    );
    assert!(kinds(allow(json!("s3:PutObjectAcl"), "arn:aws:s3:::b/*")).is_empty());
    assert_eq!(
        kinds(allow(json!(["s3:PutObject", "s3:PutObjectAcl"]), "*")),
        vec![PermissionsManagement]
    );
    assert_eq!(
        kinds(allow(json!("s3:Put*"), "*")),
        vec![PermissionsManagement]
    );
}

#[test]
fn not_action_not_resource_and_not_principal_with_allow() {
    let power_user = json!({"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}]});
    assert_eq!(kinds(power_user), vec![NotActionAllow]);
    assert_eq!(
        kinds(
            json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::hr/*"}})
        ),
        vec![NotResourceAllow, DataReadAll]
    );
    let not_principal = json!({"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}});
    assert_eq!(kinds(not_principal), vec![NotPrincipalAllow]);
    let deny_not_principal = json!({"Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}});
    assert!(kinds(deny_not_principal).is_empty());
}

#[test]
fn a_public_principal_is_confined_only_by_specific_positive_conditions() {
    let public = |cond: Value| json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": cond}});
    for confining in [
        json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b"}}),
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
        json!({"StringEquals": {"aws:SourceAccount": "111122223333"}}),
        json!({"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}}),
        json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
    ] {
        assert!(kinds(public(confining.clone())).is_empty(), "{confining}");
    }
    for open in [
        json!({}),
        json!({"Bool": {"aws:SecureTransport": "true"}}),
        json!({"StringLike": {"aws:Referer": "https://example.com/*"}}),
        json!({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
        json!({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b"}}),
        json!({"StringLike": {"aws:SourceAccount": "*"}}),
        json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
        json!({"StringEquals": {"sts:ExternalId": "12345"}}),
    ] {
        assert_eq!(kinds(public(open.clone())), vec![PublicPrincipal], "{open}");
    }
    let denied = json!({"Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}});
    assert!(kinds(denied).is_empty());
}

#[test]
fn github_and_other_oidc_trusts_need_their_own_specific_claims() {
    let trust = |federated: &str, cond: Value| json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": federated}, "Condition": cond}]});
    let gh = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
    let aud = "token.actions.githubusercontent.com:aud";
    let sub = "token.actions.githubusercontent.com:sub";
    let ok = trust(
        gh,
        json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:org/repo:*"}}),
    );
    assert!(kinds(ok).is_empty());
    let env = trust(
        gh,
        json!({"StringEquals": {aud: "sts.amazonaws.com", sub: "repo:org/repo:environment:prod"}}),
    );
    assert!(kinds(env).is_empty());
    for loose in [
        json!({"StringEquals": {aud: "sts.amazonaws.com"}}),
        json!({"StringLike": {sub: "repo:org/repo:*"}}),
        json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "*"}}),
        json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:org/*"}}),
        json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringNotLike": {sub: "repo:evil/*"}}),
    ] {
        assert_eq!(
            kinds(trust(gh, loose.clone())),
            vec![OidcTrustUnrestricted],
            "{loose}"
        );
    }
    let star = trust(
        "*",
        json!({"StringEquals": {aud: "sts.amazonaws.com"}, "StringLike": {sub: "repo:org/repo:*"}}),
    );
    assert_eq!(kinds(star), vec![OidcTrustUnrestricted]);
    // Conditions on GitHub's keys never apply to Google's tokens.
    let google = "arn:aws:iam::111122223333:oidc-provider/accounts.google.com";
    assert_eq!(
        kinds(trust(
            google,
            json!({"StringEquals": {aud: "sts.amazonaws.com"}})
        )),
        vec![OidcTrustUnrestricted]
    );
    assert!(kinds(trust(
        "accounts.google.com",
        json!({"StringEquals": {"accounts.google.com:aud": "1234.apps.googleusercontent.com"}})
    ))
    .is_empty());
    let saml = json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRoleWithSAML", "Principal": {"Federated": "arn:aws:iam::111122223333:saml-provider/Okta"}}});
    assert!(kinds(saml).is_empty());
}

#[test]
fn external_account_trust_needs_an_external_id_org_or_mfa_condition() {
    let trust = |principals: Value, cond: Value| json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": principals}, "Condition": cond}]});
    let two = json!([
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::444455556666:role/ops"
    ]);
    assert_eq!(
        kinds(trust(two.clone(), json!({}))),
        vec![ExternalAccountTrust]
    );
    assert!(kinds(trust(
        two.clone(),
        json!({"StringEquals": {"sts:ExternalId": "Example987"}})
    ))
    .is_empty());
    assert!(kinds(trust(
        two.clone(),
        json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    ))
    .is_empty());
    assert!(kinds(trust(
        two.clone(),
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})
    ))
    .is_empty());
    // One account: external or not depends on the role's own account.
    let one = trust(json!("arn:aws:iam::444455556666:root"), json!({}));
    assert!(kinds(one.clone()).is_empty());
    let own = PolicyContext {
        own_account: Some("111122223333"),
        trusted_accounts: &[],
    };
    assert_eq!(analyze_with(&one, &own), vec![ExternalAccountTrust]);
    let trusted = ["444455556666".to_string()];
    let partner = PolicyContext {
        own_account: Some("111122223333"),
        trusted_accounts: &trusted,
    };
    assert!(analyze_with(&one, &partner).is_empty());
    let same = trust(json!("arn:aws:iam::111122223333:role/admin"), json!({}));
    assert!(analyze_with(&same, &own).is_empty());
    // Granting another account read access to a bucket is no role trust.
    let bucket = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
    assert!(kinds(bucket).is_empty());
}

#[test]
fn service_principals_need_a_source_condition_except_in_trusts() {
    let deputy = json!({"Statement": {"Effect": "Allow", "Action": "s3:PutObject", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Resource": "arn:aws:s3:::b/*"}});
    assert_eq!(kinds(deputy), vec![ConfusedDeputy]);
    let pinned = json!({"Statement": {"Effect": "Allow", "Action": "s3:PutObject", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}});
    assert!(kinds(pinned).is_empty());
    let ec2_trust = json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}});
    assert!(kinds(ec2_trust).is_empty());
}

#[test]
fn malformed_policies_are_their_own_kind_and_details_name_the_statement() {
    assert_eq!(
        kinds(json!({"Statement": {"Effect": "Allow", "Resource": "*"}})),
        vec![Malformed]
    );
    assert_eq!(kinds(json!("not a policy")), vec![Malformed]);
    let both = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "maybe"}}}});
    assert_eq!(kinds(both.clone()), vec![FullAdmin, Malformed]);
    let details = analyze_detailed(&both, &PolicyContext::default());
    assert!(
        details.iter().all(|d| d.detail.starts_with("statement 1")),
        "{details:?}"
    );
    assert!(!Malformed.is_risk() && FullAdmin.is_risk());
}
