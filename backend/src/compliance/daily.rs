//! The compliance answers from the store: the report over every stored
//! finding, the day's snapshot (taken by the daily job in `cspm serve`, or by
//! the first `GET /compliance` of a UTC day, whichever comes first), and the
//! 30-day trend read back from the snapshots.

use super::report::Report;
use crate::store::{ScoreSnapshot, Store, StoreResult};
use chrono::{Duration, NaiveDate};
use shared_types::{ComplianceOverview, ScorePoint, StandardDetail, StandardScore};

/// Days in the trend, today included.
pub const TREND_DAYS: i64 = 30;
/// Findings read per store page while the report is built.
const PAGE: u32 = 1000;

/// The report over every finding in the store, read page by page (only the
/// controls are held, not the findings). Cost grows with the store: one pass.
pub async fn build_report(store: &dyn Store) -> StoreResult<Report> {
    let mut report = Report::default();
    let filter = shared_types::FindingFilter::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list_findings(&filter, PAGE, cursor.as_deref())
            .await?;
        page.findings.iter().for_each(|f| report.add(f));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(report),
        }
    }
}

/// What `report` says today, as snapshot rows dated `today`.
pub fn snapshot_rows(report: &Report, today: NaiveDate) -> Vec<ScoreSnapshot> {
    report
        .scores()
        .into_iter()
        .map(|s| ScoreSnapshot {
            date: today,
            slug: s.slug,
            score: s.score,
            passed: s.passed,
            failed: s.failed,
            unknown: s.unknown,
        })
        .collect()
}

/// Takes `today`'s snapshot from the store's findings unless the day has one
/// (the daily job's step). Returns whether it wrote.
pub async fn take_snapshot(store: &dyn Store, today: NaiveDate) -> StoreResult<bool> {
    let report = build_report(store).await?;
    store
        .put_compliance_snapshot(today, &snapshot_rows(&report, today))
        .await
}

/// The report and the trend snapshots, today's taken now if missing.
async fn report_with_trend(
    store: &dyn Store,
    today: NaiveDate,
) -> StoreResult<(Report, Vec<ScoreSnapshot>)> {
    let report = build_report(store).await?;
    let from = today - Duration::days(TREND_DAYS - 1);
    let mut trend = store.compliance_snapshots(from, today).await?;
    if !trend.iter().any(|s| s.date == today) {
        let rows = snapshot_rows(&report, today);
        if store.put_compliance_snapshot(today, &rows).await? {
            trend.extend(rows);
        } else {
            // Another writer took today's snapshot first: show the one kept.
            trend = store.compliance_snapshots(from, today).await?;
        }
    }
    Ok((report, trend))
}

/// `slug`'s points in `snapshots`, oldest first.
fn trend_of(slug: &str, snapshots: &[ScoreSnapshot]) -> Vec<ScorePoint> {
    let mut points: Vec<ScorePoint> = snapshots
        .iter()
        .filter(|s| s.slug == slug)
        .map(|s| ScorePoint {
            date: s.date,
            score: s.score,
        })
        .collect();
    points.sort_by_key(|p| p.date);
    points
}

fn with_trend(mut s: StandardScore, snapshots: &[ScoreSnapshot]) -> StandardScore {
    s.trend = trend_of(&s.slug, snapshots);
    s
}

/// `GET /compliance`: every standard the stored findings name, by slug.
pub async fn overview(store: &dyn Store, today: NaiveDate) -> StoreResult<ComplianceOverview> {
    let (report, trend) = report_with_trend(store, today).await?;
    Ok(ComplianceOverview {
        standards: report
            .scores()
            .into_iter()
            .map(|s| with_trend(s, &trend))
            .collect(),
    })
}

/// `GET /compliance/{slug}`: one standard and its controls; `None` when no
/// stored finding names it.
pub async fn standard(
    store: &dyn Store,
    slug: &str,
    today: NaiveDate,
) -> StoreResult<Option<StandardDetail>> {
    let (report, trend) = report_with_trend(store, today).await?;
    Ok(report.detail(slug).map(|mut d| {
        d.standard = with_trend(d.standard, &trend);
        d
    }))
}
