//! The built-in rule pack: every rule file of `backend/rules/`, embedded at
//! compile time. Adding a rule is adding its file there and one line here (a test
//! checks that the two agree).

/// Embeds rule files as `(file name, text)` pairs.
macro_rules! rule_files {
    ($($f:literal),* $(,)?) => {
        &[$(($f, include_str!(concat!("../../rules/", $f)))),*]
    };
}

/// The built-in rule pack, embedded at compile time (file name, text). A test checks
/// that every file in `backend/rules/` is listed here.
pub const BUILTIN: &[(&str, &str)] = rule_files![
    "access-key-created.yaml",
    "cloudtrail-stopped-or-deleted.yaml",
    "cloudtrail-trail-changed.yaml",
    "cloudtrail-weakened.yaml",
    "console-login-failed.yaml",
    "console-login-without-mfa.yaml",
    "ec2-ebs-default-encryption-disabled.yaml",
    "ec2-instance-user-data-modified.yaml",
    "ec2-network-acl-changed.yaml",
    "ec2-network-acl-open-to-world.yaml",
    "ec2-network-gateway-changed.yaml",
    "ec2-route-table-changed.yaml",
    "ec2-security-group-changed-manually.yaml",
    "ec2-snapshot-or-ami-public.yaml",
    "ec2-snapshot-or-ami-shared-externally.yaml",
    "ec2-unusual-instance-type.yaml",
    "ec2-vpc-changed.yaml",
    "elb-internet-facing.yaml",
    "honeytoken-accessed.yaml",
    "iam-access-key-created-for-another-user.yaml",
    "iam-admin-policy-attached.yaml",
    "iam-changed.yaml",
    "iam-compromised-key-quarantined.yaml",
    "iam-dangerous-policy.yaml",
    "iam-entity-created-outside-iac.yaml",
    "iam-login-profile-for-another-user.yaml",
    "iam-root-access-key-created.yaml",
    "iam-user-created.yaml",
    "kms-key-scheduled-for-deletion.yaml",
    "lambda-code-updated-by-human.yaml",
    "lambda-made-public.yaml",
    "rds-database-deleted.yaml",
    "rds-deletion-protection-disabled.yaml",
    "rds-made-public.yaml",
    "rds-master-password-changed.yaml",
    "rds-snapshot-shared-externally.yaml",
    "resource-policy-public.yaml",
    "root-account-used.yaml",
    "s3-access-logging-disabled.yaml",
    "s3-bucket-access-changed.yaml",
    "s3-bucket-acl-public.yaml",
    "s3-bucket-policy-public.yaml",
    "s3-encryption-removed.yaml",
    "s3-lifecycle-expires-objects.yaml",
    "s3-mfa-delete-disabled.yaml",
    "s3-public-access-block-removed.yaml",
    "s3-versioning-suspended.yaml",
    "security-group-open-to-world.yaml",
    "security-service-disabled.yaml",
    "signin-console-token-minted.yaml",
    "vpc-exposure.yaml",
];
