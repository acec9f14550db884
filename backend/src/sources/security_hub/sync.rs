//! Scheduled Security Hub sync: pages `GetFindings` for findings updated since the
//! last completed run, at most 3 requests a second (the API's quota), storing each
//! page through the pipeline before asking for the next.
//!
//! Resumable: progress (the window being synced and the `NextToken`) is kept in an
//! SSM parameter. Before each page the sync checks the invocation's deadline and,
//! when too close, saves and stops; the next scheduled run resumes from that page.
//! A run killed without saving re-reads at most [`SAVE_EVERY`] pages, which is
//! harmless because upserts are idempotent.

use super::sync_asff::to_asff;
use super::sync_report::SyncReport;
use crate::pipeline::{Outcome, Pipeline, PipelineError};
use crate::store::Origin;
use aws_sdk_securityhub::types::{AwsSecurityFindingFilters, DateFilter};
use aws_sdk_ssm::types::ParameterType;
use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant, SystemTime};

/// Pages between two progress saves.
pub const SAVE_EVERY: u32 = 10;

/// Sync progress, stored as JSON in SSM.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// End of the last completed window: findings updated before it are stored.
    pub synced_until: Option<DateTime<Utc>>,
    /// A window in progress.
    pub running: Option<Window>,
}

/// One window of `UpdatedAt` being synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Lower bound (`None` = everything).
    pub since: Option<DateTime<Utc>>,
    /// Upper bound (when the window started).
    pub until: DateTime<Utc>,
    /// Where to continue.
    pub next_token: Option<String>,
    /// Pages done so far.
    pub pages: u64,
}

/// A sync failure (the saved progress stays at the last good page).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Security Hub `GetFindings` failed.
    #[error("Security Hub GetFindings: {message}")]
    SecurityHub {
        /// The SDK's error, with its context.
        message: String,
        /// True for throttling, timeouts and 5xx.
        retryable: bool,
    },
    /// The state parameter holds something that is not sync state.
    #[error("sync state parameter {parameter}: unreadable: {source}")]
    StateUnreadable {
        /// Parameter name.
        parameter: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The state parameter could not be read or written.
    #[error("SSM {operation} {parameter}: {message}")]
    State {
        /// `GetParameter` or `PutParameter`.
        operation: &'static str,
        /// Parameter name.
        parameter: String,
        /// The SDK's error, with its context.
        message: String,
        /// True for throttling, timeouts and 5xx.
        retryable: bool,
    },
    /// A page could not be stored.
    #[error("storing a page: {0}")]
    Store(#[from] PipelineError),
    /// Some findings of a page could not be written; the page is read again next run.
    #[error("{0} finding(s) of a page not written")]
    NotWritten(usize),
}

impl SyncError {
    /// True when running again later may succeed without anyone fixing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::SecurityHub { retryable, .. } | SyncError::State { retryable, .. } => {
                *retryable
            }
            SyncError::StateUnreadable { .. } => false,
            SyncError::Store(e) => e.is_retryable(),
            SyncError::NotWritten(_) => true,
        }
    }
}

/// The sync, with its clients and pacing.
pub struct Syncer {
    /// Security Hub client.
    pub securityhub: aws_sdk_securityhub::Client,
    /// SSM client (state parameter).
    pub ssm: aws_sdk_ssm::Client,
    /// Full name of the state parameter.
    pub state_parameter: String,
    /// Least time between two `GetFindings` calls (334 ms = 3 requests/s).
    pub min_interval: Duration,
    /// Findings per page (Security Hub allows up to 100).
    pub page_size: i32,
    /// Re-read this much before the last window's end: findings can become
    /// visible to `GetFindings` a little after their `UpdatedAt`.
    pub overlap: ChronoDuration,
    /// Stop this long before the deadline to save progress.
    pub safety_margin: Duration,
}

impl Syncer {
    /// A syncer with the documented pacing.
    pub fn new(
        securityhub: aws_sdk_securityhub::Client,
        ssm: aws_sdk_ssm::Client,
        state_parameter: String,
    ) -> Syncer {
        Syncer {
            securityhub,
            ssm,
            state_parameter,
            min_interval: Duration::from_millis(334),
            page_size: 100,
            overlap: ChronoDuration::minutes(5),
            safety_margin: Duration::from_secs(15),
        }
    }

    /// Reads the saved progress (none yet = a first, full sync).
    pub async fn load_state(&self) -> Result<SyncState, SyncError> {
        match self
            .ssm
            .get_parameter()
            .name(&self.state_parameter)
            .send()
            .await
        {
            Ok(out) => {
                let text = out.parameter().and_then(|p| p.value()).unwrap_or("{}");
                serde_json::from_str(text).map_err(|source| SyncError::StateUnreadable {
                    parameter: self.state_parameter.clone(),
                    source,
                })
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                Ok(SyncState::default())
            }
            Err(e) => Err(SyncError::State {
                operation: "GetParameter",
                parameter: self.state_parameter.clone(),
                retryable: crate::aws::is_retryable(&e),
                message: crate::aws::error_text(&e),
            }),
        }
    }

    async fn save_state(&self, state: &SyncState) -> Result<(), SyncError> {
        // Serializing plain data cannot fail; a failure here would be a bug.
        let text = serde_json::to_string(state).unwrap_or_else(|_| "{}".into());
        self.ssm
            .put_parameter()
            .name(&self.state_parameter)
            .value(text)
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| SyncError::State {
                operation: "PutParameter",
                parameter: self.state_parameter.clone(),
                retryable: crate::aws::is_retryable(&e),
                message: crate::aws::error_text(&e),
            })?;
        Ok(())
    }

    /// Runs (or resumes) a sync until done or until `deadline` is near.
    pub async fn run(
        &self,
        pipeline: &Pipeline,
        deadline: Option<SystemTime>,
    ) -> Result<SyncReport, SyncError> {
        let mut state = self.load_state().await?;
        let mut window = state.running.clone().unwrap_or_else(|| Window {
            since: state.synced_until.map(|t| t - self.overlap),
            until: Utc::now(),
            next_token: None,
            pages: 0,
        });
        let mut out = SyncReport::default();
        let mut last_call: Option<Instant> = None;
        let mut unsaved = 0u32;
        loop {
            // Pace first, then look at the clock: the wait itself uses up time.
            if let Some(t) = last_call {
                let wait = self.min_interval.saturating_sub(t.elapsed());
                tokio::time::sleep(wait).await;
            }
            if let Some(d) = deadline {
                let left = d.duration_since(SystemTime::now()).unwrap_or_default();
                if left < self.safety_margin {
                    state.running = Some(window);
                    self.save_state(&state).await?;
                    tracing::info!("sync paused before the deadline, the next run resumes: {out}");
                    return Ok(out);
                }
            }
            last_call = Some(Instant::now());
            let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
            let mut date = DateFilter::builder().end(fmt(window.until));
            if let Some(s) = window.since {
                date = date.start(fmt(s));
            }
            let page = self
                .securityhub
                .get_findings()
                .filters(
                    AwsSecurityFindingFilters::builder()
                        .updated_at(date.build())
                        .build(),
                )
                .max_results(self.page_size)
                .set_next_token(window.next_token.clone())
                .send()
                .await
                .map_err(|e| SyncError::SecurityHub {
                    retryable: crate::aws::is_retryable(&e),
                    message: crate::aws::error_text(&e),
                })?;
            // Rejections name the page and the position in it, as ingest names
            // the file and the line.
            let input = format!("GetFindings page {}", window.pages + 1);
            let mut page_out = Outcome::default();
            let mut findings = Vec::new();
            for (index, f) in page.findings().iter().enumerate() {
                let parsed = pipeline.normalize(&to_asff(f));
                for finding in page_out.add_document(&input, Some(index), parsed) {
                    // Checked here too: the window filter is the API's, and an
                    // emulator (or a changed API) may not apply it.
                    let in_window = window.since.is_none_or(|s| finding.updated_at >= s)
                        && finding.updated_at <= window.until;
                    if in_window {
                        findings.push(finding);
                    } else {
                        out.outside_window += 1;
                    }
                }
            }
            let (stored, _) = pipeline.store_findings(&findings, Origin::Events).await?;
            if !stored.failed.is_empty() {
                // Progress stays at the previous page: this page is read again.
                return Err(SyncError::NotWritten(stored.failed.len()));
            }
            page_out.merge(stored);
            for r in &page_out.rejected {
                tracing::warn!(
                    at = %r.input,
                    index = ?r.index,
                    finding = r.finding_id.as_deref().unwrap_or("-"),
                    reason = %r.reason,
                    "rejected"
                );
            }
            out.outcome.merge(page_out);
            out.pages += 1;
            window.pages += 1;
            window.next_token = page
                .next_token()
                .filter(|t| !t.is_empty())
                .map(String::from);
            if window.next_token.is_none() {
                state = SyncState {
                    synced_until: Some(window.until),
                    running: None,
                };
                self.save_state(&state).await?;
                out.complete = true;
                tracing::info!("sync complete: {out}");
                return Ok(out);
            }
            unsaved += 1;
            if unsaved >= SAVE_EVERY {
                state.running = Some(window.clone());
                self.save_state(&state).await?;
                unsaved = 0;
            }
        }
    }
}
