//! The export jobs as the API and the worker use them: start one (within the
//! per-principal limit), read one (its owner or an admin only), download it, run
//! it, and sweep what is older than a day.

use super::error::JobError;
use super::files::{ByteChunks, ExportFiles};
use super::queue::Runner;
use super::record::{JobId, JobRecord, JobSpec, ACTIVE_WITHIN, PREFIX};
use super::run;
use crate::auth::{Principal, Role};
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use shared_types::{ExportJob, ExportState};
use std::sync::Arc;

/// Running jobs one principal may have at once.
pub const DEFAULT_MAX_RUNNING: usize = 3;

/// How long files and status objects are kept.
pub const KEEP: Duration = Duration::days(1);

/// How a finished job's file is downloaded.
pub enum Download {
    /// From this link, which needs no credentials (presigned).
    Link(String),
    /// Served by the API: the file's chunks, its content type and name.
    File {
        /// The bytes.
        chunks: ByteChunks,
        /// Its `Content-Type`.
        content_type: &'static str,
        /// The name to save it under.
        file_name: String,
        /// Its size.
        bytes: u64,
    },
}

/// The export jobs over a store of findings and a store of export files.
#[derive(Clone)]
pub struct ExportJobs {
    store: Arc<dyn Store>,
    files: Arc<dyn ExportFiles>,
    runner: Runner,
    max_running: usize,
    /// Starts are taken one at a time in this process, so two requests at once
    /// cannot both pass the limit here (across Lambda instances the limit is a
    /// best effort: each counts what the store shows).
    starting: Arc<tokio::sync::Mutex<()>>,
}

impl ExportJobs {
    /// Jobs reading `store`, keeping their files in `files`, run by `runner`.
    pub fn new(store: Arc<dyn Store>, files: Arc<dyn ExportFiles>, runner: Runner) -> Self {
        ExportJobs {
            store,
            files,
            runner,
            max_running: DEFAULT_MAX_RUNNING,
            starting: Arc::default(),
        }
    }

    /// The same jobs allowing `n` running jobs per principal.
    pub fn with_max_running(mut self, n: usize) -> Self {
        self.max_running = n;
        self
    }

    /// Where the files are kept, for messages.
    pub fn location(&self) -> String {
        self.files.location()
    }

    /// Records a job of `owner` exporting `spec` and hands it to the runner.
    pub async fn start(&self, owner: &Principal, spec: &JobSpec) -> Result<JobRecord, JobError> {
        let _one_at_a_time = self.starting.lock().await;
        let now = Utc::now();
        if self.running_of(&owner.subject, now).await? >= self.max_running {
            return Err(JobError::TooMany(self.max_running));
        }
        let id = JobId::random();
        // A job handed to a queue waits for its worker; one run here starts now.
        let state = match &self.runner {
            Runner::InProcess => ExportState::Running,
            Runner::Queue(_) => ExportState::Queued,
        };
        let record = JobRecord::start(&id, &owner.subject, spec, state, now);
        run::save(self.files.as_ref(), &record).await?;
        match &self.runner {
            Runner::InProcess => {
                let jobs = self.clone();
                let id = id.clone();
                tokio::spawn(async move {
                    if let Err(e) = jobs.run(&id).await {
                        tracing::error!(export = %id, error = %e, "export status not saved");
                    }
                    jobs.sweep_logged(Utc::now()).await;
                });
            }
            Runner::Queue(queue) => {
                if let Err(e) = queue.send(&id).await {
                    // Nothing will run it: say so rather than leave it "running".
                    let mut failed = record.clone();
                    failed.finish(
                        ExportState::Failed,
                        Some("the export could not be queued; start it again".into()),
                        Utc::now(),
                    );
                    run::save(self.files.as_ref(), &failed).await?;
                    return Err(e);
                }
            }
        }
        tracing::info!(export = %id, owner = %owner.actor, format = spec.format.as_str(), "export started");
        Ok(record)
    }

    /// How many of `owner`'s jobs are queued or running at `now`. Only status
    /// objects written within [`ACTIVE_WITHIN`] can be, so only those are read.
    async fn running_of(&self, owner: &str, now: DateTime<Utc>) -> Result<usize, JobError> {
        let mut running = 0;
        for listed in self.files.list(PREFIX).await? {
            if !listed.key.ends_with(".json") || now - listed.modified > ACTIVE_WITHIN {
                continue;
            }
            if let Some(r) = self.read(&listed.key).await? {
                if r.owner == owner && r.is_active_at(now) {
                    running += 1;
                }
            }
        }
        Ok(running)
    }

    /// The status object under `key`.
    async fn read(&self, key: &str) -> Result<Option<JobRecord>, JobError> {
        let Some(body) = self.files.get_status(key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|source| JobError::Status {
                key: key.to_owned(),
                source,
            })
    }

    /// The job `id` as `caller` may see it: their own, or any for an admin.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<JobRecord, JobError> {
        let id = JobId::parse(id).ok_or(JobError::NotFound)?;
        let record = self
            .read(&id.status_key())
            .await?
            .ok_or(JobError::NotFound)?;
        if record.owner != caller.subject && !caller.role.includes(Role::Admin) {
            return Err(JobError::NotFound);
        }
        Ok(record)
    }

    /// The API's view of `record` now, with its download URL when done: a
    /// presigned link where the store makes them, else the API's download route.
    pub async fn view(&self, record: &JobRecord) -> Result<ExportJob, JobError> {
        let now = Utc::now();
        let url = match record.state_at(now) {
            ExportState::Done => Some(match self.link(record).await? {
                Some(link) => link,
                None => format!("/exports/{}/download", record.id),
            }),
            _ => None,
        };
        Ok(record.view(now, url))
    }

    async fn link(&self, record: &JobRecord) -> Result<Option<String>, JobError> {
        let content_type = record.spec().options().format.content_type();
        Ok(self
            .files
            .link(&record.file_key(), &record.file_name(), content_type)
            .await?)
    }

    /// How to download `caller`'s finished job `id`.
    pub async fn download(&self, caller: &Principal, id: &str) -> Result<Download, JobError> {
        let record = self.get(caller, id).await?;
        match record.state_at(Utc::now()) {
            ExportState::Queued => return Err(JobError::NotReady("it has not started yet")),
            ExportState::Running => return Err(JobError::NotReady("it is still running")),
            ExportState::Failed => return Err(JobError::NotReady("it failed")),
            ExportState::Done => {}
        }
        if let Some(link) = self.link(&record).await? {
            return Ok(Download::Link(link));
        }
        // Swept since it was read: as gone as an unknown job.
        let chunks = self
            .files
            .open(&record.file_key())
            .await?
            .ok_or(JobError::NotFound)?;
        Ok(Download::File {
            chunks,
            content_type: record.spec().options().format.content_type(),
            file_name: record.file_name(),
            bytes: record.bytes,
        })
    }

    /// Runs the job `id` (the worker's entry point; the local runner's too),
    /// once: the first caller to create its claim object runs it; a second
    /// delivery, even at the same time on another worker, leaves it alone, as it
    /// does a job already reported failed. Returns the record as this call left
    /// it. `Err` means the job's end could not be recorded: the claim is given
    /// back, so the queue's next delivery runs it again from the start.
    pub async fn run(&self, id: &JobId) -> Result<JobRecord, JobError> {
        let record = self
            .read(&id.status_key())
            .await?
            .ok_or(JobError::NotFound)?;
        // A job already reported failed (its runner died, or the queue delivered it
        // after it went stale) is never started late: its owner was told to start
        // it again, and a late run would take a slot the limit no longer counts.
        if !record.is_active_at(Utc::now()) {
            return Ok(record);
        }
        if !self.files.create_once(&id.claim_key()).await? {
            tracing::info!(export = %id, "export already taken by another delivery; left to it");
            return Ok(record);
        }
        let ran = run::run(self.store.clone(), self.files.as_ref(), record).await;
        if ran.is_err() {
            if let Err(e) = self.files.delete(&id.claim_key()).await {
                // The job then reads failed once its bound passes; its owner starts it again.
                tracing::warn!(export = %id, error = %e, "export claim not given back");
            }
        }
        ran
    }

    /// Deletes every export object last written more than [`KEEP`] before `now`
    /// (files, status objects, and what crashed writes left); returns how many.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<usize, JobError> {
        let mut deleted = 0;
        for listed in self.files.list(PREFIX).await? {
            if now - listed.modified > KEEP {
                self.files.delete(&listed.key).await?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// [`ExportJobs::sweep`], its failure logged (the next sweep tries again).
    pub async fn sweep_logged(&self, now: DateTime<Utc>) {
        match self.sweep(now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "old export objects deleted"),
            Err(e) => tracing::warn!(error = %e, "old exports not swept; trying again later"),
        }
    }
}
