//! The `archiver` Lambda's handler (the binary in `src/bin/archiver.rs` only wires
//! it to the runtime). An EventBridge schedule invokes it daily; the event body is
//! ignored. Every environment variable it reads is named here and listed in
//! `backend/lambdas.json`.

use super::error::ArchiveError;
use super::options::ArchiveOptions;
use super::report::RunReport;
use super::run::run_archive;
use super::{ArchiveSink, S3Sink};
use crate::config::archiver::ArchiverConfig;
use crate::store::Store;
use chrono::{Duration, Utc};
use std::sync::Arc;

/// What the Lambda needs, built once per cold start.
pub struct ArchiverState {
    /// The hot store (DynamoDB on AWS).
    pub store: Arc<dyn Store>,
    /// The archive (S3 on AWS).
    pub sink: Arc<dyn ArchiveSink>,
    /// Findings not updated for this long are archived (`CSPM_RETENTION_DAYS`,
    /// read by [`crate::config::lambda::LambdaConfig`] like the store's TTL).
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
/// (`remaining`), then take the day's compliance snapshot and return; the next
/// invocation continues. Every error fails the
/// invocation (Lambda retries it, then the asynchronous DLQ and the "no success in
/// 26 hours" alarm take over); the log says whether retrying can help.
pub async fn handle(
    state: &ArchiverState,
    remaining: Option<std::time::Duration>,
) -> Result<RunReport, ArchiveError> {
    // The snapshot after the run must end before the invocation does.
    let deadline = remaining.map(|r| {
        tokio::time::Instant::now() + r.saturating_sub(std::time::Duration::from_secs(30))
    });
    let mut opts = ArchiveOptions::older_than(Utc::now(), state.retention);
    opts.time_budget = remaining.map(|r| r.saturating_sub(std::time::Duration::from_secs(120)));
    let result = run_archive(state.store.as_ref(), state.sink.as_ref(), &opts, None).await;
    // The day's compliance point, whether or not anyone opens the compliance
    // page (GET /compliance replaces it later in the day): a report costs a
    // few counter reads (a read of every finding on a table not yet
    // recounted). Neither a failure nor running out of time fails the run.
    let today = Utc::now().date_naive();
    let snapshot = crate::compliance::daily::take_snapshot(state.store.as_ref(), today);
    let taken = match deadline {
        Some(d) => tokio::time::timeout_at(d, snapshot).await.ok(),
        None => Some(snapshot.await),
    };
    match taken {
        Some(Ok(written)) => tracing::info!(%today, written, "compliance snapshot"),
        Some(Err(e)) => tracing::warn!(error = %e, "compliance snapshot failed"),
        None => tracing::warn!("compliance snapshot left: the invocation's time ran out"),
    }
    match &result {
        Ok(r) => tracing::info!(
            run = %r.run_id, parts = r.parts, archived = r.archived, deleted = r.deleted,
            kept = r.kept, already_archived = r.already_archived, stopped_early = r.stopped_early,
            recovered = r.recovered_runs.len(), tallies_dropped = r.tallies_dropped, "archive run done"
        ),
        Err(e) => tracing::error!(error = %e, retryable = e.is_retryable(), "archive run failed"),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::LocalDirSink;
    use crate::store::SqliteStore;

    /// The daily run stores today's compliance point: on AWS nothing else does
    /// on a day nobody opens the compliance page.
    #[tokio::test]
    async fn the_daily_run_takes_todays_compliance_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(&dir.path().join("store")).unwrap();
        let all: Vec<_> = crate::demo::generate(200, Utc::now(), 3).collect();
        store.upsert(&all).await.unwrap();
        let state = ArchiverState {
            store: Arc::new(store.clone()),
            sink: Arc::new(LocalDirSink::new(dir.path().join("archive"))),
            retention: Duration::days(90),
        };
        let today = Utc::now().date_naive();
        assert!(store
            .compliance_snapshots(today, today)
            .await
            .unwrap()
            .is_empty());
        handle(&state, None).await.unwrap();
        let points = store.compliance_snapshots(today, today).await.unwrap();
        assert!(!points.is_empty());
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
        use crate::config::{
            ENV_ARCHIVE_BUCKET, ENV_ARCHIVE_KMS_KEY, ENV_ARCHIVE_PREFIX, ENV_RETENTION_DAYS,
            ENV_TABLE_NAME,
        };
        for name in [
            ENV_ARCHIVE_BUCKET,
            ENV_ARCHIVE_PREFIX,
            ENV_ARCHIVE_KMS_KEY,
            ENV_TABLE_NAME,
            ENV_RETENTION_DAYS,
        ] {
            assert!(env.contains(&name), "{name} missing from lambdas.json");
        }
    }
}
