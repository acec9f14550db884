//! The compliance answers from the store: the report over every stored
//! finding, the day's snapshot (taken by `cspm serve` every few minutes and by
//! every `GET /compliance`, stored when the scores differ from the day's stored
//! ones, so a day keeps its last), and the 30-day trend read back from the
//! snapshots.

use super::report::Report;
use crate::store::{ScoreSnapshot, Store, StoreResult};
use chrono::{Duration, NaiveDate};
use shared_types::{ComplianceOverview, ScorePoint, StandardDetail, StandardScore};

/// Days in the trend, today included.
pub const TREND_DAYS: i64 = 30;
/// Findings read per store page while a report is read from every finding.
const PAGE: u32 = 1000;

/// The report over every finding in the store, with the failing resources and
/// findings of `failing_of`'s controls (a standard's slug; all of them when the
/// store keeps no rows), and the store version it holds (`None`: unknown),
/// taken before the read so a write during it is never missed. From the rows
/// the store keeps per control ([`Store::control_results`]: milliseconds at 1M
/// findings), else from a read of every finding (SQLite when its fold cannot
/// catch up in time).
async fn built(
    store: &dyn Store,
    failing_of: Option<&str>,
) -> StoreResult<(Report, Option<String>)> {
    let version = store.version().await?;
    let report = match kept_report(store, failing_of).await? {
        Some(report) => report,
        None => read_report(store).await?,
    };
    Ok((report, version))
}

/// The report from the rows the store keeps per control; `None` when it has
/// none to answer with.
async fn kept_report(store: &dyn Store, failing_of: Option<&str>) -> StoreResult<Option<Report>> {
    Ok(store
        .control_results(failing_of)
        .await?
        .map(Report::from_rows))
}

/// Every finding in the store, read page by page into a report (only the
/// controls are held, not the findings). Cost grows with the store: one pass.
/// What a store without kept rows answers, and what tests hold kept rows to.
pub async fn read_report(store: &dyn Store) -> StoreResult<Report> {
    let mut report = Report::default();
    each_finding(store, |f| report.add(f)).await?;
    Ok(report)
}

/// Calls `f` on every finding in the store, read page by page (a page is held
/// at a time): what the reads that stand in for kept results go through.
pub async fn each_finding(
    store: &dyn Store,
    mut f: impl FnMut(&shared_types::Finding),
) -> StoreResult<()> {
    let filter = shared_types::FindingFilter::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list_findings(&filter, PAGE, cursor.as_deref())
            .await?;
        page.findings.iter().for_each(&mut f);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(()),
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

/// Takes `today`'s snapshot from the store's findings (`cspm serve`'s
/// snapshot task, the `archiver` Lambda's daily run).
/// Returns whether it wrote: not when it equals the one stored. Where the
/// store keeps no rows to answer from (a DynamoDB table not yet recounted), a
/// read of every finding is made only for a day without its point: that day
/// then keeps it until a compliance page replaces it.
pub async fn take_snapshot(store: &dyn Store, today: NaiveDate) -> StoreResult<bool> {
    let version = store.version().await?;
    let stored = store.compliance_snapshots(today, today).await?;
    let report = match kept_report(store, None).await? {
        Some(report) => report,
        None if !stored.is_empty() => return Ok(false),
        None => read_report(store).await?,
    };
    keep_today(store, &report, version, today, stored)
        .await
        .map(|(_, wrote)| wrote)
}

/// `trend` (up to `today`) with today's rows those of `report`, stored when
/// they differ from the ones `trend` holds: today's point is always the score
/// shown beside it, and the day keeps the last one. A report the store has
/// moved on from since (its `version` no longer the store's) is shown but not
/// stored, so a slow read cannot put back scores a newer one replaced.
async fn keep_today(
    store: &dyn Store,
    report: &Report,
    version: Option<String>,
    today: NaiveDate,
    mut trend: Vec<ScoreSnapshot>,
) -> StoreResult<(Vec<ScoreSnapshot>, bool)> {
    let now = snapshot_rows(report, today);
    let mut stored: Vec<ScoreSnapshot> =
        trend.iter().filter(|s| s.date == today).cloned().collect();
    stored.sort_by(|a, b| a.slug.cmp(&b.slug));
    let current = version.is_none() || store.version().await? == version;
    let wrote = stored != now && current && store.put_compliance_snapshot(today, &now).await?;
    trend.retain(|s| s.date != today);
    trend.extend(now);
    Ok((trend, wrote))
}

/// The report and the trend snapshots, today's the report's.
async fn report_with_trend(
    store: &dyn Store,
    failing_of: Option<&str>,
    today: NaiveDate,
) -> StoreResult<(Report, Vec<ScoreSnapshot>)> {
    let (report, version) = built(store, failing_of).await?;
    let from = today - Duration::days(TREND_DAYS - 1);
    let trend = store.compliance_snapshots(from, today).await?;
    let (trend, _) = keep_today(store, &report, version, today, trend).await?;
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
    let (report, trend) = report_with_trend(store, None, today).await?;
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
    let (report, trend) = report_with_trend(store, Some(slug), today).await?;
    Ok(report.detail(slug).map(|mut d| {
        d.standard = with_trend(d.standard, &trend);
        d
    }))
}
