//! Export jobs on AWS: the archive bucket their files go to (the archive's own
//! settings) and the queue the `api` Lambda hands them to the `exporter` Lambda
//! through.

use super::archiver::ArchiverConfig;
use super::{ConfigError, ENV_ARCHIVE_BUCKET, ENV_EXPORT_QUEUE_URL};

/// Where export jobs are kept and queued on AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportsConfig {
    /// The archive bucket, prefix and KMS key (files under `exports/`).
    pub archive: ArchiverConfig,
    /// The SQS queue the `exporter` Lambda reads.
    pub queue_url: String,
}

impl ExportsConfig {
    /// The configuration, `None` when the deployment has no exports (neither
    /// variable set); one without the other is a mistake worth stopping for.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let set = |k: &str| get(k).filter(|v| !v.is_empty());
        match (set(ENV_ARCHIVE_BUCKET), set(ENV_EXPORT_QUEUE_URL)) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(ConfigError::Missing(ENV_EXPORT_QUEUE_URL)),
            (None, Some(_)) => Err(ConfigError::Missing(ENV_ARCHIVE_BUCKET)),
            (Some(_), Some(queue_url)) => Ok(Some(ExportsConfig {
                archive: ArchiverConfig::from_lookup(&get)?,
                queue_url,
            })),
        }
    }

    /// The configuration from the process environment.
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(env: &[(&str, &str)]) -> Result<Option<ExportsConfig>, ConfigError> {
        let env: HashMap<&str, &str> = env.iter().copied().collect();
        ExportsConfig::from_lookup(|k| env.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn exports_need_both_the_bucket_and_the_queue() {
        assert_eq!(read(&[]), Ok(None));
        let q = "https://sqs.us-east-1.amazonaws.com/123456789012/cspm-exports";
        let c = read(&[
            (ENV_ARCHIVE_BUCKET, "cspm-archive"),
            (ENV_EXPORT_QUEUE_URL, q),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.archive.location.bucket, "cspm-archive");
        assert_eq!(c.queue_url, q);
        assert_eq!(
            read(&[(ENV_ARCHIVE_BUCKET, "cspm-archive")]),
            Err(ConfigError::Missing(ENV_EXPORT_QUEUE_URL))
        );
        assert_eq!(
            read(&[(ENV_EXPORT_QUEUE_URL, q)]),
            Err(ConfigError::Missing(ENV_ARCHIVE_BUCKET))
        );
    }

    #[test]
    fn lambdas_json_gives_the_api_and_the_exporter_every_variable_exports_read() {
        use crate::config::{ENV_ARCHIVE_KMS_KEY, ENV_ARCHIVE_PREFIX};
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../lambdas.json")).unwrap();
        for lambda in ["api", "exporter"] {
            let env = &spec["lambdas"][lambda]["env"];
            for name in [
                ENV_ARCHIVE_BUCKET,
                ENV_ARCHIVE_PREFIX,
                ENV_ARCHIVE_KMS_KEY,
                ENV_EXPORT_QUEUE_URL,
            ] {
                assert!(
                    env.as_array().unwrap().iter().any(|v| v == name),
                    "{name} missing from {lambda} in lambdas.json"
                );
            }
        }
    }
}
