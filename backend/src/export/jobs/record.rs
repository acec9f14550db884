//! One export job as it is kept: a small JSON status object beside its file in
//! the archive store (`exports/<id>.json`, `exports/<id>.<ext>`), so that the
//! local server finds it again after a restart and every `api` and `exporter`
//! Lambda instance reads the same state, with no table of its own.

use crate::export::{ExportFormat, ExportOptions};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use shared_types::{ExportFileFormat, ExportJob, ExportState, FindingFilter};

/// Where export objects live in the archive store.
pub const PREFIX: &str = "exports/";

/// How often a running job rewrites its status (its progress, and the sign that
/// it is alive).
pub const HEARTBEAT: Duration = Duration::seconds(2);

/// A running job whose status has not been rewritten for this long is reported
/// failed: the process running it stopped (a restart, a Lambda timeout) and
/// nothing else would ever finish it. The heartbeat is a timer, not progress, so
/// this holds however slow one page is.
pub const STALE_AFTER: Duration = Duration::minutes(5);

/// A queued job no worker has taken for this long is reported failed. Nobody
/// writes a queued job's status while it waits, and it may wait behind other
/// long exports (the `exporter` Lambda's concurrency is bounded), so the bound is
/// longer than a running job's; a worker that takes it later leaves it failed.
pub const QUEUE_WAIT: Duration = Duration::minutes(30);

/// The longest a job can go unwritten and still be queued or running: status
/// objects older than this need not be read to count active jobs.
pub const ACTIVE_WITHIN: Duration = QUEUE_WAIT;

/// An export job's id: 128 random bits as 32 lowercase hex digits. Knowing an
/// id is not enough to read a job (its owner is checked too), but ids are never
/// guessable either.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(String);

impl JobId {
    /// A fresh id from the operating system's randomness (through `rand`'s
    /// cryptographically secure thread generator).
    pub fn random() -> JobId {
        JobId(format!("{:032x}", rand::random::<u128>()))
    }

    /// `s` when it has the form of an id; anything else names no job.
    pub fn parse(s: &str) -> Option<JobId> {
        (s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| JobId(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key of the job's status object.
    pub fn status_key(&self) -> String {
        format!("{PREFIX}{}.json", self.0)
    }

    /// The key of the object whose creation is the claim of the one worker
    /// that runs the job ([`crate::export::jobs::ExportFiles::create_once`]).
    pub fn claim_key(&self) -> String {
        format!("{PREFIX}{}.claim", self.0)
    }

    /// The key of the job's file.
    pub fn file_key(&self, format: ExportFormat) -> String {
        format!("{PREFIX}{}.{}", self.0, format.extension())
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The backend's format for the API's format name.
pub fn format_of(f: ExportFileFormat) -> ExportFormat {
    match f {
        ExportFileFormat::Csv => ExportFormat::Csv,
        ExportFileFormat::Jsonl => ExportFormat::Jsonl,
        ExportFileFormat::Ocsf => ExportFormat::Ocsf,
    }
}

/// What to export: the same filter and options `GET /findings/export` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// Which findings.
    pub filter: FindingFilter,
    /// The format.
    pub format: ExportFileFormat,
    /// JSON Lines only: whole findings.
    pub detail: bool,
    /// OCSF only: the original documents.
    pub raw: bool,
}

impl JobSpec {
    /// The writer's options.
    pub fn options(&self) -> ExportOptions {
        ExportOptions {
            format: format_of(self.format),
            detail: self.detail,
            raw: self.raw,
        }
    }
}

/// The status object of one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The id (32 hex digits).
    pub id: String,
    /// Who started it ([`crate::auth::Principal::subject`], stable across a
    /// change of e-mail or name); only they and admins may see it.
    pub owner: String,
    /// Which findings.
    pub filter: FindingFilter,
    /// The format.
    pub format: ExportFileFormat,
    /// JSON Lines only: whole findings.
    pub detail: bool,
    /// OCSF only: the original documents.
    pub raw: bool,
    /// Where it is, as last written.
    pub state: ExportState,
    /// Findings written so far.
    pub count: u64,
    /// Bytes written so far.
    pub bytes: u64,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// When the status was last written (the heartbeat).
    pub updated_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed, in words safe to show.
    pub error: Option<String>,
}

impl JobRecord {
    /// A job of `owner` exporting `spec`, started `now` in `state` (queued for
    /// a worker elsewhere, or running here).
    pub fn start(
        id: &JobId,
        owner: &str,
        spec: &JobSpec,
        state: ExportState,
        now: DateTime<Utc>,
    ) -> JobRecord {
        JobRecord {
            id: id.to_string(),
            owner: owner.to_owned(),
            filter: spec.filter.clone(),
            format: spec.format,
            detail: spec.detail,
            raw: spec.raw,
            state,
            count: 0,
            bytes: 0,
            created_at: now,
            updated_at: now,
            finished_at: None,
            error: None,
        }
    }

    /// The job's id (records are only written with valid ids).
    pub fn job_id(&self) -> JobId {
        JobId(self.id.clone())
    }

    /// What the job exports.
    pub fn spec(&self) -> JobSpec {
        JobSpec {
            filter: self.filter.clone(),
            format: self.format,
            detail: self.detail,
            raw: self.raw,
        }
    }

    /// The key of the job's file.
    pub fn file_key(&self) -> String {
        self.job_id().file_key(format_of(self.format))
    }

    /// The name the download is saved under (as `GET /findings/export` names
    /// its file, at the job's start).
    pub fn file_name(&self) -> String {
        format_of(self.format).file_name(self.created_at)
    }

    /// The state as of `now`: a running job whose heartbeat stopped for
    /// [`STALE_AFTER`], or a queued one no worker took within [`QUEUE_WAIT`], is
    /// failed.
    pub fn state_at(&self, now: DateTime<Utc>) -> ExportState {
        let silent = now - self.updated_at;
        match self.state {
            ExportState::Queued if silent > QUEUE_WAIT => ExportState::Failed,
            ExportState::Running if silent > STALE_AFTER => ExportState::Failed,
            s => s,
        }
    }

    /// True while the job holds one of its owner's slots (queued or running).
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        matches!(
            self.state_at(now),
            ExportState::Queued | ExportState::Running
        )
    }

    /// The record ended `now` as `state` (with `error` when failed).
    pub fn finish(&mut self, state: ExportState, error: Option<String>, now: DateTime<Utc>) {
        self.state = state;
        self.error = error;
        self.updated_at = now;
        self.finished_at = Some(now);
    }

    /// The API's view at `now`, with the download `url` when done.
    pub fn view(&self, now: DateTime<Utc>, url: Option<String>) -> ExportJob {
        let state = self.state_at(now);
        let stalled = state != self.state;
        ExportJob {
            id: self.id.clone(),
            state,
            format: self.format,
            count: self.count,
            bytes: self.bytes,
            created_at: self.created_at,
            finished_at: if stalled {
                Some(self.updated_at)
            } else {
                self.finished_at
            },
            error: if stalled && self.state == ExportState::Queued {
                Some("the export never started (no worker took it); start it again".into())
            } else if stalled {
                Some(
                    "the export stopped before it finished (the server restarted?); start it again"
                        .into(),
                )
            } else {
                self.error.clone()
            },
            url: (state == ExportState::Done).then_some(url).flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_digits_and_nothing_else_parses() {
        let a = JobId::random();
        let b = JobId::random();
        assert_ne!(a, b);
        assert_eq!(JobId::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.status_key(), format!("exports/{a}.json"));
        assert_eq!(
            a.file_key(ExportFormat::Ocsf),
            format!("exports/{a}.ocsf.jsonl")
        );
        for bad in [
            "",
            "0123456789abcdef0123456789abcde",   // 31
            "0123456789abcdef0123456789abcdef0", // 33
            "0123456789ABCDEF0123456789ABCDEF",
            "../../../../etc/passwd0123456789a",
            "0123456789abcdef0123456789abcdeg",
        ] {
            assert_eq!(JobId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_running_job_whose_heartbeat_stopped_reads_as_failed() {
        let t0: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let spec = JobSpec {
            filter: FindingFilter::default(),
            format: ExportFileFormat::Csv,
            detail: false,
            raw: false,
        };
        let r = JobRecord::start(
            &JobId::random(),
            "token:ci",
            &spec,
            ExportState::Running,
            t0,
        );
        let fresh = r.view(t0 + Duration::minutes(5), Some("/x".into()));
        assert_eq!(
            (fresh.state, fresh.url, fresh.error),
            (ExportState::Running, None, None)
        );
        let stale = r.view(t0 + Duration::minutes(5) + Duration::seconds(1), None);
        assert_eq!(stale.state, ExportState::Failed);
        assert_eq!(stale.finished_at, Some(t0));
        assert!(stale.error.unwrap().contains("start it again"));
        let mut done = r.clone();
        done.finish(ExportState::Done, None, t0 + Duration::seconds(3));
        // A finished job never goes stale.
        let later = done.view(t0 + Duration::days(1), Some("/x".into()));
        assert_eq!(
            (later.state, later.url.as_deref()),
            (ExportState::Done, Some("/x"))
        );
        assert_eq!(r.file_name(), "cspm-findings-20260301T100000Z.csv");
    }

    #[test]
    fn a_queued_job_holds_a_slot_until_no_worker_took_it_in_time() {
        let t0: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let spec = JobSpec {
            filter: FindingFilter::default(),
            format: ExportFileFormat::Jsonl,
            detail: false,
            raw: false,
        };
        let q = JobRecord::start(&JobId::random(), "sub-1", &spec, ExportState::Queued, t0);
        // Behind other long exports for more than a running job's bound: still queued.
        let waiting = q.view(t0 + Duration::minutes(20), Some("/x".into()));
        assert_eq!(
            (waiting.state, waiting.url, waiting.error),
            (ExportState::Queued, None, None)
        );
        assert!(q.is_active_at(t0 + Duration::minutes(30)));
        let never = q.view(t0 + Duration::minutes(31), None);
        assert_eq!(never.state, ExportState::Failed);
        assert!(
            never.error.unwrap().contains("never started"),
            "not the running job's words"
        );
        assert!(!q.is_active_at(t0 + Duration::minutes(31)));
        assert_eq!(never.finished_at, Some(t0));
    }
}
