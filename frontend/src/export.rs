//! The Export menu's logic: the body for the view's filters, how long to wait
//! between polls, what the status line says, and where the file is fetched from.
//! Kept apart from the component so it is tested natively.

use crate::format::thousands;
use shared_types::{
    ExportFileFormat, ExportFilter, ExportJob, ExportRequest, ExportState, FindingFilter,
};

/// Where the menu's export is.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportStatus {
    /// Nothing started from this view yet.
    Idle,
    /// `POST /exports` is on its way.
    Starting(ExportFileFormat),
    /// The job as last polled (running or done).
    Job(ExportJob),
    /// Starting or polling failed, or the job did; the words to show.
    Failed(String),
}

impl ExportStatus {
    /// True while a job of this view is being started or written (the menu
    /// waits for it before starting another).
    pub fn busy(&self) -> bool {
        match self {
            ExportStatus::Starting(_) => true,
            ExportStatus::Job(j) => matches!(j.state, ExportState::Queued | ExportState::Running),
            _ => false,
        }
    }

    /// One word for where it is (`idle`, `starting`, `queued`, `running`,
    /// `done`, `failed`): the status line's `data-state`, for styles and tests.
    pub fn phase(&self) -> &'static str {
        match self {
            ExportStatus::Idle => "idle",
            ExportStatus::Starting(_) => "starting",
            ExportStatus::Job(j) => match j.state {
                ExportState::Queued => "queued",
                ExportState::Running => "running",
                ExportState::Done => "done",
                ExportState::Failed => "failed",
            },
            ExportStatus::Failed(_) => "failed",
        }
    }

    /// The status line next to the button.
    pub fn text(&self) -> String {
        match self {
            ExportStatus::Idle => String::new(),
            ExportStatus::Starting(f) => format!("Starting the {} export…", f.label()),
            ExportStatus::Job(j) => match j.state {
                ExportState::Queued => format!("{} export waiting to start…", j.format.label()),
                ExportState::Running if j.count == 0 => format!("Exporting {}…", j.format.label()),
                ExportState::Running => format!(
                    "Exporting {}… {} findings so far",
                    j.format.label(),
                    thousands(j.count)
                ),
                ExportState::Done => format!(
                    "{} export ready: {} findings, {}",
                    j.format.label(),
                    thousands(j.count),
                    size(j.bytes)
                ),
                ExportState::Failed => format!(
                    "Export failed: {}",
                    j.error.as_deref().unwrap_or("no reason given")
                ),
            },
            ExportStatus::Failed(why) => format!("Export failed: {why}"),
        }
    }
}

/// `POST /exports` body for the view's filters (paging and sort do not apply:
/// an export is the whole filtered set, newest first).
pub fn request(filter: &FindingFilter, format: ExportFileFormat) -> ExportRequest {
    ExportRequest {
        format,
        filter: ExportFilter::from(filter),
        detail: false,
        raw: false,
    }
}

/// How long to wait before poll number `n` (from 0): quick at first, since most
/// exports take a second or two, then every 2 s.
pub fn poll_delay_ms(n: u32) -> u32 {
    250u32.saturating_mul(1 << n.min(3)).min(2000)
}

/// Where a job's `url` is fetched from: a full URL (a presigned link) as it is,
/// a path under the API's base URL (`api_base` is empty on the same origin).
pub fn download_href(api_base: &str, url: &str) -> String {
    if url.starts_with("https://") || url.starts_with("http://") {
        url.to_string()
    } else {
        format!("{}{url}", api_base.trim_end_matches('/'))
    }
}

/// `1536` → `1.5 KB`: the file's size on the status line.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_types::{Severity, WorkflowStatus};

    fn job(state: ExportState, count: u64, bytes: u64) -> ExportJob {
        ExportJob {
            id: "0123456789abcdef0123456789abcdef".into(),
            state,
            format: ExportFileFormat::Csv,
            count,
            bytes,
            created_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            finished_at: None,
            error: (state == ExportState::Failed).then(|| "the store was unavailable".into()),
            url: None,
        }
    }

    #[test]
    fn the_request_carries_exactly_the_views_filters() {
        let filter = FindingFilter {
            severities: vec![Severity::Critical],
            statuses: vec![WorkflowStatus::New, WorkflowStatus::Notified],
            region: Some("eu-west-1".into()),
            ..Default::default()
        };
        let body = serde_json::to_value(request(&filter, ExportFileFormat::Ocsf)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "format": "ocsf",
                "filter": {"severity": ["CRITICAL"], "status": ["NEW", "NOTIFIED"], "region": "eu-west-1"},
                "detail": false, "raw": false
            })
        );
    }

    #[test]
    fn polls_start_quick_and_settle_at_two_seconds() {
        let delays: Vec<u32> = (0..6).map(poll_delay_ms).collect();
        assert_eq!(delays, [250, 500, 1000, 2000, 2000, 2000]);
        assert_eq!(poll_delay_ms(u32::MAX), 2000);
    }

    #[test]
    fn relative_links_go_to_the_api_and_presigned_ones_stay() {
        let path = "/exports/0123456789abcdef0123456789abcdef/download";
        assert_eq!(download_href("", path), path);
        assert_eq!(
            download_href("https://api.example.com/prod/", path),
            format!("https://api.example.com/prod{path}")
        );
        let presigned = "https://b.s3.amazonaws.com/exports/x.csv?X-Amz-Signature=abc";
        assert_eq!(download_href("/api", presigned), presigned);
    }

    #[test]
    fn the_status_line_says_where_the_export_is() {
        assert_eq!(ExportStatus::Idle.text(), "");
        assert_eq!(ExportStatus::Idle.phase(), "idle");
        assert!(!ExportStatus::Idle.busy());
        let starting = ExportStatus::Starting(ExportFileFormat::Jsonl);
        assert_eq!(starting.text(), "Starting the JSON Lines export…");
        assert!(starting.busy());
        let running = ExportStatus::Job(job(ExportState::Running, 12_500, 0));
        assert_eq!(running.text(), "Exporting CSV… 12,500 findings so far");
        assert!(running.busy());
        let done = ExportStatus::Job(job(ExportState::Done, 1234, 2_411_724));
        assert_eq!(done.text(), "CSV export ready: 1,234 findings, 2.3 MB");
        assert!(!done.busy());
        let failed = ExportStatus::Job(job(ExportState::Failed, 3, 0));
        assert_eq!(failed.text(), "Export failed: the store was unavailable");
        assert_eq!(
            [running.phase(), done.phase(), failed.phase()],
            ["running", "done", "failed"]
        );
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(1536), "1.5 KB");
    }
}
