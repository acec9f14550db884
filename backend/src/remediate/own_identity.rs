//! The remediator's own identity as protected principals. No action may take
//! away the permissions the remediation itself runs with, whatever credentials
//! it was started with: on AWS Terraform lists the remediator Lambda's role in
//! the file; locally the identity comes from the SDK's default chain, so it is
//! asked of STS (`GetCallerIdentity`, which needs no permission) at start.

use super::config::RemediationConfig;

/// The patterns that protect the principal `caller_arn` (as `GetCallerIdentity`
/// gives it): an IAM user's own ARN; for a role session
/// (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`) the role `NAME` at any
/// path, since the session ARN does not carry the role's path. None for the
/// account root, which no action can change, or an ARN of another form.
pub fn patterns(caller_arn: &str) -> Vec<String> {
    let parts: Vec<&str> = caller_arn.splitn(6, ':').collect();
    let [_, partition, service, _, account, resource] = parts[..] else {
        return Vec::new();
    };
    match (service, resource.split_once('/')) {
        ("sts", Some(("assumed-role", rest))) => match rest.split_once('/') {
            Some((role, _session)) if !role.is_empty() => vec![
                format!("arn:{partition}:iam::{account}:role/{role}"),
                format!("arn:{partition}:iam::{account}:role/*/{role}"),
            ],
            _ => Vec::new(),
        },
        // AWS names a user `iam`; the emulator (moto) answers `sts`: the same user.
        ("iam" | "sts", Some(("user", name))) if !name.is_empty() => {
            vec![format!("arn:{partition}:iam::{account}:user/{name}")]
        }
        _ => Vec::new(),
    }
}

/// Adds the caller's own patterns to `config`'s protected principals.
pub fn protect(config: &mut RemediationConfig, caller_arn: &str) {
    for p in patterns(caller_arn) {
        if !config.protected_principals.contains(&p) {
            config.protected_principals.push(p);
        }
    }
}

/// Asks STS who the credentials of `sdk` are and protects that principal in
/// `config`. Fails when STS cannot say: a remediation that does not know whom
/// it must not change does not start.
#[cfg(feature = "aws")]
pub async fn protect_caller(
    sdk: &aws_config::SdkConfig,
    config: &mut RemediationConfig,
) -> Result<String, String> {
    let out = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| format!("STS GetCallerIdentity: {}", crate::aws::error_text(&e)))?;
    let arn = out
        .arn
        .ok_or_else(|| "STS GetCallerIdentity gave no ARN".to_string())?;
    protect(config, &arn);
    Ok(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_session_protects_its_role_at_any_path_and_a_user_itself() {
        assert_eq!(
            patterns("arn:aws:sts::111122223333:assumed-role/cspm-remediator/i-0abc"),
            [
                "arn:aws:iam::111122223333:role/cspm-remediator",
                "arn:aws:iam::111122223333:role/*/cspm-remediator"
            ]
        );
        assert_eq!(
            patterns("arn:aws-us-gov:iam::111122223333:user/ops/alice"),
            ["arn:aws-us-gov:iam::111122223333:user/ops/alice"]
        );
        assert_eq!(
            patterns("arn:aws:sts::123456789012:user/moto"),
            ["arn:aws:iam::123456789012:user/moto"]
        );
        assert!(patterns("arn:aws:iam::111122223333:root").is_empty());
        assert!(patterns("not an arn").is_empty());
        assert!(patterns("arn:aws:sts::111122223333:assumed-role/").is_empty());
        let mut c = RemediationConfig::default();
        protect(&mut c, "arn:aws:iam::123456789012:user/moto");
        protect(&mut c, "arn:aws:iam::123456789012:user/moto");
        assert_eq!(
            c.protected_principals,
            ["arn:aws:iam::123456789012:user/moto"]
        );
        assert_eq!(
            c.protecting_pattern("arn:aws:iam::123456789012:user/moto")
                .as_deref(),
            Some("arn:aws:iam::123456789012:user/moto")
        );
        let mut c = RemediationConfig::default();
        protect(&mut c, "arn:aws:sts::1:assumed-role/fixer/s");
        assert!(c
            .protecting_pattern("arn:aws:iam::1:role/team/fixer")
            .is_some());
        assert!(c
            .protecting_pattern("arn:aws:iam::1:role/other-fixer")
            .is_none());
    }
}
