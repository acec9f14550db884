//! The remediation actions, one file each; [`super::registry`] lists them.

#[cfg(feature = "aws")]
use super::action::Action;
#[cfg(feature = "aws")]
use super::config::RemediationConfig;
#[cfg(feature = "aws")]
use std::sync::Arc;

/// A failed SDK call as an action error (shared by the actions).
#[cfg(feature = "aws")]
pub mod call_error;
/// `cloudtrail-start-logging`: start a stopped trail again; a deleted one is manual.
#[cfg(feature = "aws")]
pub mod cloudtrail_start_logging;
/// `ec2-revoke-world-ingress`: revoke only a security group's world-open ingress
/// rules on ports that are not allowed, by rule id.
#[cfg(feature = "aws")]
pub mod ec2_revoke_world_ingress;
/// The CloudTrail record behind a detection finding (its raw document).
#[cfg(feature = "aws")]
pub mod event_record;
/// `iam-deactivate-access-key`: make an IAM user's access key inactive (never
/// delete it); a root user's key is manual.
#[cfg(feature = "aws")]
pub mod iam_deactivate_access_key;
/// `iam-delete-inline-policy`: delete a dangerous inline policy, its document kept.
#[cfg(feature = "aws")]
pub mod iam_delete_inline_policy;
/// `iam-detach-admin-policy`: detach a managed admin policy, its document kept.
#[cfg(feature = "aws")]
pub mod iam_detach_admin_policy;
/// IAM policy documents: decoded, kept, judged by the policy analyzer.
#[cfg(feature = "aws")]
pub mod iam_document;
/// IAM users, roles and groups as the IAM actions name and read them.
#[cfg(feature = "aws")]
pub mod iam_principal;
/// `kms-cancel-key-deletion`: cancel a key's scheduled deletion.
#[cfg(feature = "aws")]
pub mod kms_cancel_key_deletion;
/// `lambda-remove-public-access`: remove a function's public statements, URL auth to AWS_IAM.
#[cfg(feature = "aws")]
pub mod lambda_remove_public_access;
/// `s3-block-public-access`: put a bucket's public access block, all four settings on.
#[cfg(feature = "aws")]
pub mod s3_block_public_access;

/// Every implemented action, calling AWS with `sdk` and set up by `config`
/// (the ports a security group may leave open): what the registry holds, and
/// what it builds again per member account.
#[cfg(feature = "aws")]
pub fn all(sdk: &aws_config::SdkConfig, config: &RemediationConfig) -> Vec<Arc<dyn Action>> {
    use self::cloudtrail_start_logging::CloudtrailStartLogging;
    use self::ec2_revoke_world_ingress::Ec2RevokeWorldIngress;
    use self::iam_deactivate_access_key::IamDeactivateAccessKey;
    use self::iam_delete_inline_policy::IamDeleteInlinePolicy;
    use self::iam_detach_admin_policy::IamDetachAdminPolicy;
    use self::kms_cancel_key_deletion::KmsCancelKeyDeletion;
    use self::lambda_remove_public_access::LambdaRemovePublicAccess;
    use self::s3_block_public_access::S3BlockPublicAccess;
    vec![
        Arc::new(Ec2RevokeWorldIngress::new(
            sdk.clone(),
            config.allowed_ports.clone(),
        )),
        Arc::new(S3BlockPublicAccess::new(sdk.clone())),
        Arc::new(IamDeactivateAccessKey::new(sdk.clone())),
        Arc::new(IamDetachAdminPolicy::new(sdk.clone())),
        Arc::new(IamDeleteInlinePolicy::new(sdk.clone())),
        Arc::new(CloudtrailStartLogging::new(sdk.clone())),
        Arc::new(KmsCancelKeyDeletion::new(sdk.clone())),
        Arc::new(LambdaRemovePublicAccess::new(sdk.clone())),
    ]
}
