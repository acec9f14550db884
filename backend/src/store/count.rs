//! How many findings a view matches (`GET /findings`' `total`), decided once for
//! every store.
//!
//! A filter splits in two. Its **counted part** — severity, status, account,
//! region, resource type, product, in any combination — is answered exactly by
//! counters kept on write per combination of those six values, so it costs
//! O(combinations), never O(findings). Its **residual part** — free text `q`,
//! `since`, `until`, a resource or a generator (SQLite counts one generator or
//! one resource exactly from its group counters, store/groups.rs) — has no
//! view counter: the store reads, newest first, at most a
//! fixed number of the rows matching the counted part and the time window
//! ([`Scan`]). When that read reaches the end, the count is exact; otherwise it
//! is an estimate that always lies within a hard bound
//! ([`ViewCount::low`]..=[`ViewCount::high`]).

use chrono::{DateTime, Utc};
use shared_types::FindingFilter;

/// Rows a count may read for the residual part of a filter. At 1M findings
/// this keeps the count within its latency budget (scripts/bench_count.sh).
pub const SCAN_ROWS: u64 = 1_000;

/// How many findings a view matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewCount {
    /// The count, or its estimate when `exact` is false.
    pub total: u64,
    /// True when `total` is the exact count.
    pub exact: bool,
    /// The true count is at least this (equal to `total` when exact).
    pub low: u64,
    /// The true count is at most this (equal to `total` when exact).
    pub high: u64,
}

impl ViewCount {
    /// An exact count.
    pub fn exact(n: u64) -> ViewCount {
        ViewCount {
            total: n,
            exact: true,
            low: n,
            high: n,
        }
    }

    /// The count corrected by the first page of the same view's list, read
    /// beside it: a view whose first page is its last has exactly that page's
    /// rows, and an estimate never says fewer than the page shows (its bounded
    /// read may have met none of them: `q` matching only old findings). An exact
    /// count stays as it is.
    pub fn with_first_page(self, rows: u64, more: bool) -> ViewCount {
        if self.exact {
            return self;
        }
        if !more {
            return ViewCount::exact(rows);
        }
        let low = self.low.max(rows);
        let high = self.high.max(low);
        ViewCount {
            total: self.total.clamp(low, high),
            exact: false,
            low,
            high,
        }
    }
}

/// What a bounded newest-first read of the rows matching the counted part and
/// the time window saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scan {
    /// Rows read (each matches the counted part and the time window).
    pub seen: u64,
    /// Of those, the rows that also match `q` (all of them when there is no `q`).
    pub matched: u64,
    /// True when the read reached the last such row: `matched` is then exact.
    pub complete: bool,
    /// `updated_at` of the newest and the oldest row read (none when none was).
    pub span: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The filter without its residual part: what the view counters answer exactly.
pub fn counted_part(filter: &FindingFilter) -> FindingFilter {
    FindingFilter {
        q: None,
        since: None,
        until: None,
        generator: None,
        resource: None,
        ..filter.clone()
    }
}

/// True when the filter has a part the view counters cannot answer (`q`,
/// `since`, `until`, a generator or a resource). A store with group counters
/// (store/groups.rs) answers one generator or one resource exactly itself.
pub fn has_residual(filter: &FindingFilter) -> bool {
    filter.q.is_some()
        || filter.since.is_some()
        || filter.until.is_some()
        || filter.generator.is_some()
        || filter.resource.is_some()
}

/// The count of a view from `base` (the exact count of its counted part), the
/// bounded `scan` (`None` when the filter has no residual part) and `floor`
/// (no row of the window is older: the filter's `since`, else the oldest time
/// the store knows of; `None` when unknown).
///
/// When the scan did not finish, the unread rows of the counted part number at
/// most `base - seen`, so the true count lies in `[matched, matched + base -
/// seen]` whatever the data: that is the stated bound. Within it, the estimate
/// assumes the rows go on back to `floor` as densely as the rows read did (no
/// floor: the whole counted part lies in the window), and that the unread rows
/// match `q` at the rate the rows read did.
pub fn view_count(base: u64, scan: Option<Scan>, floor: Option<DateTime<Utc>>) -> ViewCount {
    let Some(s) = scan else {
        return ViewCount::exact(base);
    };
    if s.complete {
        return ViewCount::exact(s.matched);
    }
    let low = s.matched;
    let high = s.matched + base.saturating_sub(s.seen);
    let in_window = match (s.span, floor) {
        (Some((newest, oldest)), Some(floor)) if newest > oldest => {
            let per_micro = s.seen as f64 / micros(newest - oldest);
            s.seen as f64 + per_micro * micros(oldest - floor).max(0.0)
        }
        _ => base as f64,
    }
    .clamp(s.seen as f64, base.max(s.seen) as f64);
    let rate = if s.seen == 0 {
        1.0
    } else {
        s.matched as f64 / s.seen as f64
    };
    let total = ((in_window * rate).round() as u64).clamp(low, high);
    ViewCount {
        total,
        exact: false,
        low,
        high,
    }
}

fn micros(d: chrono::Duration) -> f64 {
    d.num_microseconds().unwrap_or(i64::MAX) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_first_page_makes_an_estimate_exact_when_it_is_the_whole_view_and_bounds_it_below() {
        let estimate = ViewCount {
            total: 0,
            exact: false,
            low: 0,
            high: 900,
        };
        assert_eq!(estimate.with_first_page(23, false), ViewCount::exact(23));
        assert_eq!(estimate.with_first_page(0, false), ViewCount::exact(0));
        let more = estimate.with_first_page(50, true);
        assert_eq!(
            (more.total, more.exact, more.low, more.high),
            (50, false, 50, 900)
        );
        let above = ViewCount {
            total: 400,
            ..estimate
        }
        .with_first_page(50, true);
        assert_eq!(above.total, 400, "an estimate above the page stays");
        assert_eq!(
            ViewCount::exact(7).with_first_page(3, false),
            ViewCount::exact(7)
        );
    }

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn unfinished(seen: u64, matched: u64) -> Scan {
        Scan {
            seen,
            matched,
            complete: false,
            span: None,
        }
    }

    #[test]
    fn a_filter_without_residual_is_its_exact_base() {
        assert_eq!(view_count(1234, None, None), ViewCount::exact(1234));
    }

    #[test]
    fn a_complete_scan_is_exact_whatever_the_base() {
        let s = Scan {
            complete: true,
            ..unfinished(40, 7)
        };
        assert_eq!(view_count(1_000_000, Some(s), None), ViewCount::exact(7));
    }

    #[test]
    fn an_unfinished_scan_extrapolates_within_the_hard_bound() {
        // 2,000 of 100,000 read, 10 % matched q, no time window: about 10,000,
        // between 200 and 98,200.
        let c = view_count(100_000, Some(unfinished(2_000, 200)), None);
        assert_eq!(
            (c.total, c.exact, c.low, c.high),
            (10_000, false, 200, 98_200)
        );
    }

    #[test]
    fn a_time_window_is_estimated_from_the_density_of_the_rows_read() {
        // 2,000 rows read over the newest day; the window goes back 3 more days:
        // about 8,000 rows in it, a tenth of them matching q.
        let s = Scan {
            span: Some((at("2024-05-10T00:00:00Z"), at("2024-05-09T00:00:00Z"))),
            ..unfinished(2_000, 200)
        };
        let c = view_count(100_000, Some(s), Some(at("2024-05-06T00:00:00Z")));
        assert_eq!((c.total, c.low, c.high), (800, 200, 98_200));
        // A floor past the rows read: only what was read is in the window.
        let c = view_count(100_000, Some(s), Some(at("2024-05-09T12:00:00Z")));
        assert_eq!(c.total, 200);
        // A window reaching far back holds at most the whole counted part.
        let c = view_count(100_000, Some(s), Some(at("2000-01-01T00:00:00Z")));
        assert_eq!(c.total, 10_000);
        // All rows read at one instant: no density, the whole counted part.
        let s = Scan {
            span: Some((at("2024-05-10T00:00:00Z"), at("2024-05-10T00:00:00Z"))),
            ..s
        };
        let c = view_count(100_000, Some(s), Some(at("2024-05-06T00:00:00Z")));
        assert_eq!(c.total, 10_000);
    }

    #[test]
    fn an_interrupted_scan_that_read_nothing_says_only_the_base() {
        let c = view_count(5_000, Some(unfinished(0, 0)), None);
        assert_eq!((c.total, c.exact, c.low, c.high), (5_000, false, 0, 5_000));
    }
}
