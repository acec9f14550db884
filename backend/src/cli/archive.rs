//! `cspm archive`: move findings older than the retention window to the archive
//! (a local folder or S3), `cspm archive restore` to load them back, and
//! `cspm archive ls` to list runs and parts.

use super::{AwsArgs, CliError, StoreArgs};
use crate::archive::age::parse_older_than;
use crate::archive::ls::{list_runs, render};
use crate::archive::restore::{restore, RestoreRange};
use crate::archive::s3::S3Location;
use crate::archive::schedule::{run_daily, DailySchedule};
use crate::archive::{run_archive, ArchiveOptions, ArchiveSink, LocalDirSink, SinkError};
use crate::aws::AwsTarget;
use crate::pipeline::Pipeline;
use crate::sources::Normalizer;
use crate::store::Store;
use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// `cspm archive [--older-than 90d] [--archive-dir DIR | --archive-s3 s3://bucket/prefix]`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ArchiveArgs {
    /// `restore` or `ls`; without one, runs the archiver.
    #[command(subcommand)]
    pub action: Option<ArchiveAction>,
    /// Archive findings not updated for this long (`90d`, `36h`, or days: `90`;
    /// default: the store's --retention-days).
    #[arg(long, value_parser = parse_older_than)]
    pub older_than: Option<Duration>,
    /// Where the archive goes.
    #[command(flatten)]
    pub target: ArchiveTarget,
    /// Most findings per part (1-50000).
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u32).range(1..=50_000))]
    pub max_part_findings: u32,
    /// Store options.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The archive location (one of the two).
#[derive(Debug, Clone, Args)]
#[group(multiple = false)]
pub struct ArchiveTarget {
    /// A local folder (same layout as S3).
    #[arg(long, env = crate::config::ENV_ARCHIVE_DIR)]
    pub archive_dir: Option<PathBuf>,
    /// An S3 location, `s3://bucket/prefix`.
    #[arg(long, env = crate::config::ENV_ARCHIVE_S3)]
    pub archive_s3: Option<String>,
}

/// The archive's other subcommands.
#[derive(Debug, Subcommand)]
pub enum ArchiveAction {
    /// Load archived findings back into the store (newer versions in the store win).
    Restore {
        /// The archive: a folder or `s3://bucket/prefix`.
        #[arg(long)]
        from: String,
        /// First `updated_at` day to restore (YYYY-MM-DD).
        #[arg(long)]
        since: Option<NaiveDate>,
        /// Last `updated_at` day to restore (YYYY-MM-DD).
        #[arg(long)]
        until: Option<NaiveDate>,
        /// Store options.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List archive runs (and their parts with `--parts`).
    Ls {
        /// The archive: a folder or `s3://bucket/prefix`.
        #[arg(long)]
        from: String,
        /// Show every part with its count and SHA-256.
        #[arg(long)]
        parts: bool,
        /// Where AWS calls go (for `s3://`).
        #[command(flatten)]
        aws: AwsArgs,
    },
}

/// Opens an archive location: `s3://…` is S3 through `aws` (`--aws-endpoint`
/// points it at an emulator; SSE-KMS when `CSPM_ARCHIVE_KMS_KEY_ARN` is set),
/// anything else a local folder.
pub async fn open_sink(location: &str, aws: &AwsTarget) -> Result<Arc<dyn ArchiveSink>, SinkError> {
    if location.starts_with("s3://") {
        s3_sink(location.parse()?, aws).await
    } else {
        Ok(Arc::new(local_dir(Path::new(location))?))
    }
}

/// The S3 sink at `loc`.
#[cfg(feature = "aws")]
async fn s3_sink(loc: S3Location, aws: &AwsTarget) -> Result<Arc<dyn ArchiveSink>, SinkError> {
    use crate::archive::S3Sink;
    let client = S3Sink::client(&crate::aws::sdk_config(aws).await);
    let kms = std::env::var(crate::config::ENV_ARCHIVE_KMS_KEY).ok();
    Ok(Arc::new(S3Sink::new(client, loc, kms)))
}

/// Without the AWS adapters an `s3://` archive cannot be opened.
#[cfg(not(feature = "aws"))]
async fn s3_sink(_: S3Location, _: &AwsTarget) -> Result<Arc<dyn ArchiveSink>, SinkError> {
    Err(crate::aws::NotBuilt("an S3 archive (s3://…)").into())
}

/// A local archive folder, refusing an empty path or one that is not a directory.
fn local_dir(dir: &Path) -> Result<LocalDirSink, SinkError> {
    let bad = |reason| SinkError::InvalidLocation {
        location: dir.display().to_string(),
        reason,
    };
    if dir.as_os_str().is_empty() {
        return Err(bad("the archive folder must not be empty"));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(bad("exists and is not a folder"));
    }
    Ok(LocalDirSink::new(dir))
}

impl ArchiveTarget {
    /// The sink these flags name, or `None` when neither is given.
    pub async fn open(&self, aws: &AwsTarget) -> Result<Option<Arc<dyn ArchiveSink>>, SinkError> {
        match (&self.archive_dir, &self.archive_s3) {
            (Some(dir), _) => Ok(Some(Arc::new(local_dir(dir)?))),
            (None, Some(s3)) if s3.starts_with("s3://") => open_sink(s3, aws).await.map(Some),
            (None, Some(s3)) => Err(SinkError::InvalidLocation {
                location: s3.clone(),
                reason: "must start with s3://",
            }),
            (None, None) => Ok(None),
        }
    }
}

fn spinner(what: &'static str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {elapsed} {pos} findings {msg} ({per_sec})")
    {
        pb.set_style(style);
    }
    pb.set_message(what);
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb
}

/// Runs `cspm archive …`; returns the exit code.
pub async fn run(args: ArchiveArgs) -> Result<ExitCode, CliError> {
    execute(args).await?;
    Ok(ExitCode::SUCCESS)
}

async fn execute(args: ArchiveArgs) -> Result<(), CliError> {
    match args.action {
        Some(ArchiveAction::Ls { from, parts, aws }) => {
            let sink = open_sink(&from, &aws.target()).await?;
            let runs = list_runs(sink.as_ref()).await?;
            print!("{}", render(&runs, parts));
            Ok(())
        }
        Some(ArchiveAction::Restore {
            from,
            since,
            until,
            store,
        }) => restore_from(&from, RestoreRange { since, until }, &store).await,
        None => {
            let sink = args
                .target
                .open(&args.store.aws.target())
                .await?
                .ok_or("give --archive-dir DIR or --archive-s3 s3://bucket/prefix")?;
            let age = archive_age(args.older_than, &args.store)?;
            let mut opts = ArchiveOptions::older_than(Utc::now(), age);
            opts.caps.max_findings = args.max_part_findings as usize;
            archive_to(sink.as_ref(), &opts, &args.store).await
        }
    }
}

async fn restore_from(from: &str, range: RestoreRange, store: &StoreArgs) -> Result<(), CliError> {
    if let (Some(s), Some(u)) = (range.since, range.until) {
        if s > u {
            return Err(format!("--since {s} is after --until {u}").into());
        }
    }
    let sink = open_sink(from, &store.aws.target()).await?;
    let store = store.store_config().build().await?;
    let pb = spinner("restored");
    let cb = |n: u64| pb.set_position(n);
    // Restored findings are stored records: nothing to normalize.
    let pipeline = Pipeline::new(Arc::new(Normalizer::default()), store);
    let r = restore(&pipeline, sink.as_ref(), range, Some(&cb)).await?;
    pb.finish_and_clear();
    println!(
        "restored from {}: {} parts, {} findings read: {} inserted, {} updated, {} unchanged, {} kept (store newer), {} failed",
        sink.location(), r.parts, r.read, r.inserted, r.updated, r.unchanged, r.skipped_older, r.failed
    );
    if r.failed > 0 {
        return Err(format!(
            "{} findings could not be written; run the restore again",
            r.failed
        )
        .into());
    }
    Ok(())
}

async fn archive_to(
    sink: &dyn ArchiveSink,
    opts: &ArchiveOptions,
    store: &StoreArgs,
) -> Result<(), CliError> {
    let store = store.store_config().build().await?;
    let pb = spinner("archived");
    let cb = |n: u64| pb.set_position(n);
    let started = std::time::Instant::now();
    let r = run_archive(store.as_ref(), sink, opts, Some(&cb))
        .await
        .map_err(|e| format!("{e} (nothing is lost; run `cspm archive` again to finish)"))?;
    let secs = started.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let ratio = if r.compressed_bytes > 0 {
        r.uncompressed_bytes as f64 / r.compressed_bytes as f64
    } else {
        0.0
    };
    // scripts/bench_archive.sh reads this line; keep its `key=value` fields stable.
    println!(
        "run {} to {}: archived={} parts={} compressed_bytes={} uncompressed_bytes={} ratio={ratio:.2} deleted={} kept={} already_archived={} recovered_runs={} seconds={secs:.2} findings_per_s={:.0} cutoff={} tallies_dropped={}",
        r.run_id,
        sink.location(),
        r.archived,
        r.parts,
        r.compressed_bytes,
        r.uncompressed_bytes,
        r.deleted,
        r.kept,
        r.already_archived,
        r.recovered_runs.len(),
        (r.archived + r.already_archived) as f64 / secs.max(1e-9),
        opts.cutoff.to_rfc3339(),
        r.tallies_dropped,
    );
    Ok(())
}

/// The daily archive run of `cspm serve`.
#[derive(Debug, Args)]
pub struct DailyArchiveArgs {
    /// Do not archive daily (e.g. when another machine runs `cspm archive`).
    #[arg(long)]
    pub no_archive: bool,
    /// Time of day (UTC, HH:MM) of the daily archive run.
    #[arg(long, default_value = "03:00", value_parser = parse_time_of_day)]
    pub archive_at: NaiveTime,
    /// Archive findings not updated for this long (`90d`, `36h`, or days; default:
    /// the store's --retention-days).
    #[arg(long, value_parser = parse_older_than)]
    pub archive_older_than: Option<Duration>,
    /// Where the daily run archives (default: `archive/` in the data dir).
    #[command(flatten)]
    pub target: ArchiveTarget,
}

/// Stops the daily archive task when dropped or told to.
pub struct DailyArchive {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl DailyArchive {
    /// Ends the daily task (a run in progress is abandoned; the next one finishes it).
    pub fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl DailyArchiveArgs {
    /// Spawns the daily run over `store`, unless `--no-archive`.
    pub async fn spawn(
        &self,
        store: Arc<dyn Store>,
        store_args: &StoreArgs,
    ) -> Result<Option<DailyArchive>, CliError> {
        if self.no_archive {
            tracing::info!("daily archive off (--no-archive)");
            return Ok(None);
        }
        let sink = match self.target.open(&store_args.aws.target()).await? {
            Some(s) => s,
            None => Arc::new(local_dir(&store_args.data_dir.join("archive"))?),
        };
        let retention = archive_age(self.archive_older_than, store_args)?;
        tracing::info!(archive = %sink.location(), at = %self.archive_at, "daily archive on");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let schedule = DailySchedule {
            at: self.archive_at,
            retention,
        };
        tokio::spawn(run_daily(store, sink, schedule, async move {
            let _ = rx.await;
        }));
        Ok(Some(DailyArchive { stop: Some(tx) }))
    }
}

/// How old a finding must be to be archived: `given`, else the store's retention.
/// Refused when it is longer than a DynamoDB store's retention: the TTL safety net
/// is set after that retention, so DynamoDB could drop findings before the
/// archiver reaches them.
pub fn archive_age(given: Option<Duration>, store: &StoreArgs) -> Result<Duration, CliError> {
    let retention = Duration::days(i64::from(store.retention_days));
    let age = given.unwrap_or(retention);
    if store.store_config().retention_days().is_some() && age > retention {
        return Err(format!(
            "archiving findings older than {} days is later than the store's retention of {} \
             days: DynamoDB's TTL could remove findings before they are archived; raise \
             --retention-days ({}) to at least {} days",
            age.num_days(),
            store.retention_days,
            crate::config::ENV_RETENTION_DAYS,
            age.num_days()
        )
        .into());
    }
    Ok(age)
}

/// `HH:MM` (24-hour, UTC).
fn parse_time_of_day(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("{s:?} is not a time of day such as 03:00 (HH:MM, UTC)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_are_hh_mm() {
        assert_eq!(
            parse_time_of_day("03:30"),
            Ok(NaiveTime::from_hms_opt(3, 30, 0).unwrap())
        );
        for bad in ["3", "24:00", "03:60", "3pm", ""] {
            assert!(parse_time_of_day(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[tokio::test]
    async fn archive_locations_are_validated() {
        let dir = tempfile_dir();
        let aws = AwsTarget::default();
        let file = dir.join("not-a-folder");
        std::fs::write(&file, b"x").unwrap();
        assert!(open_sink(file.to_str().unwrap(), &aws).await.is_err());
        assert!(open_sink("", &aws).await.is_err());
        assert!(open_sink("s3://Bad_Bucket/x", &aws).await.is_err());
        assert!(open_sink("s3://bucket/../x", &aws).await.is_err());
        let t = ArchiveTarget {
            archive_dir: None,
            archive_s3: Some("bucket/prefix".into()),
        };
        assert!(t.open(&aws).await.is_err());
        assert!(open_sink(dir.join("archive").to_str().unwrap(), &aws)
            .await
            .is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "cspm-cli-archive-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
