//! Remediation on AWS: the table of records and attempt counts, the queue of
//! approvals, and the remediation file's text (Terraform writes it from its
//! variables into `CSPM_REMEDIATION_CONFIG`; a Lambda has no file to point at).
//! All three or none: a deployment with only some of them would show plans it
//! cannot queue, or queue approvals nobody records.

use super::{
    ConfigError, ENV_REMEDIATION_CONFIG, ENV_REMEDIATION_QUEUE_URL, ENV_REMEDIATION_TABLE,
};
use crate::remediate::config::RemediationConfig;

/// Remediation as an AWS deployment configures it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemediationEnv {
    /// The records and attempt counts (`<prefix>-remediations`).
    pub table: String,
    /// The queue the `remediator` Lambda reads.
    pub queue_url: String,
    /// The remediation file, parsed and checked.
    pub config: RemediationConfig,
}

impl RemediationEnv {
    /// The configuration, `None` when the deployment has no remediation (none
    /// of the variables set).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let set = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let (table, queue_url, text) = (
            set(ENV_REMEDIATION_TABLE),
            set(ENV_REMEDIATION_QUEUE_URL),
            set(ENV_REMEDIATION_CONFIG),
        );
        if table.is_none() && queue_url.is_none() && text.is_none() {
            return Ok(None);
        }
        let table = table.ok_or(ConfigError::Missing(ENV_REMEDIATION_TABLE))?;
        let queue_url = queue_url.ok_or(ConfigError::Missing(ENV_REMEDIATION_QUEUE_URL))?;
        let text = text.ok_or(ConfigError::Missing(ENV_REMEDIATION_CONFIG))?;
        let config = RemediationConfig::parse(ENV_REMEDIATION_CONFIG, &text).map_err(|e| {
            ConfigError::Invalid {
                name: ENV_REMEDIATION_CONFIG,
                message: e.to_string(),
            }
        })?;
        Ok(Some(RemediationEnv {
            table,
            queue_url,
            config,
        }))
    }

    /// The configuration from the process environment.
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediate::action_id::ActionId;
    use std::collections::HashMap;

    fn read(env: &[(&str, &str)]) -> Result<Option<RemediationEnv>, ConfigError> {
        let env: HashMap<&str, &str> = env.iter().copied().collect();
        RemediationEnv::from_lookup(|k| env.get(k).map(|v| v.to_string()))
    }

    const QUEUE: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/cspm-remediations";

    #[test]
    fn all_three_or_none() {
        assert_eq!(read(&[]), Ok(None));
        // What Terraform's yamlencode writes.
        let yaml = "\"allowed_ports\":\n- 80\n- 443\n\"auto\": []\n\"enabled\":\n- \"ec2-revoke-world-ingress\"\n\"max_per_account_per_hour\": 20\n\"protected_principals\":\n- \"arn:aws:iam::*:role/cspm-remediator\"\n";
        let env = read(&[
            (ENV_REMEDIATION_TABLE, "cspm-remediations"),
            (ENV_REMEDIATION_QUEUE_URL, QUEUE),
            (ENV_REMEDIATION_CONFIG, yaml),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(env.table, "cspm-remediations");
        assert!(env.config.is_enabled(ActionId::Ec2RevokeWorldIngress));
        assert!(!env.config.is_enabled(ActionId::S3BlockPublicAccess));
        assert_eq!(
            read(&[
                (ENV_REMEDIATION_TABLE, "t"),
                (ENV_REMEDIATION_QUEUE_URL, QUEUE)
            ]),
            Err(ConfigError::Missing(ENV_REMEDIATION_CONFIG))
        );
        assert_eq!(
            read(&[(ENV_REMEDIATION_CONFIG, "enabled: []")]),
            Err(ConfigError::Missing(ENV_REMEDIATION_TABLE))
        );
    }

    #[test]
    fn a_bad_file_names_the_variable() {
        let e = read(&[
            (ENV_REMEDIATION_TABLE, "t"),
            (ENV_REMEDIATION_QUEUE_URL, QUEUE),
            (ENV_REMEDIATION_CONFIG, "enabled: [rm-rf]"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains(ENV_REMEDIATION_CONFIG), "{e}");
    }

    #[test]
    fn lambdas_json_gives_the_api_remediator_and_fanout_every_variable() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../lambdas.json")).unwrap();
        for lambda in ["api", "remediator", "fanout"] {
            let env = &spec["lambdas"][lambda]["env"];
            for name in [
                ENV_REMEDIATION_TABLE,
                ENV_REMEDIATION_QUEUE_URL,
                ENV_REMEDIATION_CONFIG,
            ] {
                assert!(
                    env.as_array().is_some_and(|a| a.iter().any(|v| v == name)),
                    "{name} missing from {lambda} in lambdas.json"
                );
            }
        }
    }
}
