//! The `archiver` Lambda's handler (the binary in `src/bin/archiver.rs` only wires
//! it to the runtime). An EventBridge schedule invokes it daily; the event body is
//! ignored. Every environment variable it reads is named here and listed in
//! `backend/lambdas.json`.

use super::run::{run_archive, ArchiveError, ArchiveOptions, RunReport};
use super::s3::S3Location;
use super::{ArchiveSink, S3Sink};
use crate::store::Store;
use chrono::{Duration, Utc};
use std::sync::Arc;

/// Bucket the parts and manifests go to.
pub const ENV_BUCKET: &str = "CSPM_ARCHIVE_BUCKET";
/// Key prefix inside the bucket (optional).
pub const ENV_PREFIX: &str = "CSPM_ARCHIVE_PREFIX";
/// KMS key for SSE-KMS (optional; SSE-S3 without it).
pub const ENV_KMS_KEY: &str = "CSPM_ARCHIVE_KMS_KEY_ARN";
/// Settings of the `archiver` Lambda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiverConfig {
    /// Where the archive lives.
    pub location: S3Location,
    /// KMS key id or ARN, when SSE-KMS is wanted.
    pub kms_key: Option<String>,
}

/// A missing or malformed environment variable.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl ArchiverConfig {
    /// Reads the configuration through `get` (`std::env::var` in production).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bucket = get(ENV_BUCKET)
            .filter(|b| !b.is_empty())
            .ok_or(ConfigError {
                name: ENV_BUCKET,
                reason: "required".into(),
            })?;
        let prefix = get(ENV_PREFIX).unwrap_or_default();
        let location: S3Location =
            format!("s3://{bucket}/{prefix}")
                .parse()
                .map_err(|e| ConfigError {
                    name: ENV_BUCKET,
                    reason: format!("{e}"),
                })?;
        Ok(ArchiverConfig {
            location,
            kms_key: get(ENV_KMS_KEY).filter(|k| !k.is_empty()),
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

/// What the Lambda needs, built once per cold start.
pub struct ArchiverState {
    /// The hot store (DynamoDB on AWS).
    pub store: Arc<dyn Store>,
    /// The archive (S3 on AWS).
    pub sink: Arc<dyn ArchiveSink>,
    /// Findings not updated for this long are archived (`CSPM_RETENTION_DAYS`,
    /// read by [`crate::aws::config::LambdaConfig`] like the store's TTL).
    pub retention: Duration,
}

impl ArchiverState {
    /// The S3 sink for `config` over the Lambda's SDK configuration.
    pub fn s3_sink(config: &ArchiverConfig, sdk: &aws_config::SdkConfig) -> Arc<dyn ArchiveSink> {
        Arc::new(S3Sink::new(
            S3Sink::client(sdk),
            config.location.clone(),
            config.kms_key.clone(),
        ))
    }
}

/// One invocation: archive until done or until 2 minutes before the Lambda deadline
/// (`remaining`), then return; the next invocation continues. Every error fails the
/// invocation (Lambda retries it, then the asynchronous DLQ and the "no success in
/// 26 hours" alarm take over); the log says whether retrying can help.
pub async fn handle(
    state: &ArchiverState,
    remaining: Option<std::time::Duration>,
) -> Result<RunReport, ArchiveError> {
    let mut opts = ArchiveOptions::older_than(Utc::now(), state.retention);
    opts.time_budget = remaining.map(|r| r.saturating_sub(std::time::Duration::from_secs(120)));
    let result = run_archive(state.store.as_ref(), state.sink.as_ref(), &opts, None).await;
    match &result {
        Ok(r) => tracing::info!(
            run = %r.run_id, parts = r.parts, archived = r.archived, deleted = r.deleted,
            kept = r.kept, already_archived = r.already_archived, stopped_early = r.stopped_early,
            recovered = r.recovered_runs.len(), "archive run done"
        ),
        Err(e) => tracing::error!(error = %e, retryable = e.is_retryable(), "archive run failed"),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn config_reads_bucket_prefix_and_kms_key() {
        let env: HashMap<&str, &str> = [
            (ENV_BUCKET, "cspm-archive"),
            (ENV_PREFIX, "prod"),
            (ENV_KMS_KEY, "arn:aws:kms:us-east-1:123456789012:key/abc"),
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
            ArchiverConfig::from_lookup(|k| (k == ENV_BUCKET).then(|| "b-1".to_string())).unwrap();
        assert_eq!(
            (only_bucket.location.prefix.as_str(), only_bucket.kms_key),
            ("", None)
        );
        assert!(ArchiverConfig::from_lookup(|_| None).is_err());
        let bad = ArchiverConfig::from_lookup(|k| (k == ENV_BUCKET).then(|| "Bad_Bucket".into()));
        assert!(bad.is_err());
    }

    #[test]
    fn lambdas_json_gives_the_archiver_every_variable_it_reads() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../lambdas.json")).unwrap();
        let env: Vec<&str> = spec["lambdas"]["archiver"]["env"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        use crate::aws::config::{ENV_RETENTION_DAYS, ENV_TABLE_NAME};
        for name in [
            ENV_BUCKET,
            ENV_PREFIX,
            ENV_KMS_KEY,
            ENV_TABLE_NAME,
            ENV_RETENTION_DAYS,
        ] {
            assert!(env.contains(&name), "{name} missing from lambdas.json");
        }
    }
}
