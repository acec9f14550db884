//! Configuration of the `archiver` Lambda: where the archive lives.

use super::{ConfigError, ENV_ARCHIVE_BUCKET, ENV_ARCHIVE_KMS_KEY, ENV_ARCHIVE_PREFIX};
use crate::archive::s3::S3Location;

/// Settings of the `archiver` Lambda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiverConfig {
    /// Where the archive lives.
    pub location: S3Location,
    /// KMS key id or ARN, when SSE-KMS is wanted.
    pub kms_key: Option<String>,
}

impl ArchiverConfig {
    /// Reads the configuration through `get` (`std::env::var` in production).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bucket = get(ENV_ARCHIVE_BUCKET)
            .filter(|b| !b.is_empty())
            .ok_or(ConfigError::Missing(ENV_ARCHIVE_BUCKET))?;
        let prefix = get(ENV_ARCHIVE_PREFIX).unwrap_or_default();
        let location: S3Location =
            format!("s3://{bucket}/{prefix}")
                .parse()
                .map_err(|e: crate::archive::SinkError| ConfigError::Invalid {
                    name: ENV_ARCHIVE_BUCKET,
                    message: e.to_string(),
                })?;
        Ok(ArchiverConfig {
            location,
            kms_key: get(ENV_ARCHIVE_KMS_KEY).filter(|k| !k.is_empty()),
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn config_reads_bucket_prefix_and_kms_key() {
        let env: HashMap<&str, &str> = [
            (ENV_ARCHIVE_BUCKET, "cspm-archive"),
            (ENV_ARCHIVE_PREFIX, "prod"),
            (
                ENV_ARCHIVE_KMS_KEY,
                "arn:aws:kms:us-east-1:123456789012:key/abc",
            ),
        ]
        .into();
        let c = ArchiverConfig::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(c.location.bucket, "cspm-archive");
        assert_eq!(c.location.prefix, "prod");
        assert_eq!(
            c.kms_key.as_deref(),
            Some("arn:aws:kms:us-east-1:123456789012:key/abc")
        );

        let only_bucket =
            ArchiverConfig::from_lookup(|k| (k == ENV_ARCHIVE_BUCKET).then(|| "b-1".to_string()))
                .unwrap();
        assert_eq!(
            (only_bucket.location.prefix.as_str(), only_bucket.kms_key),
            ("", None)
        );
        assert!(ArchiverConfig::from_lookup(|_| None).is_err());
        let bad =
            ArchiverConfig::from_lookup(|k| (k == ENV_ARCHIVE_BUCKET).then(|| "Bad_Bucket".into()));
        assert!(bad.is_err());
    }
}
