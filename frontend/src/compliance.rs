//! What the compliance views show, kept out of the components so it is tested
//! natively: score labels, the sparkline's geometry, status names and links.

use crate::url::{findings_href, percent_encode};
use shared_types::{ControlStatus, FindingFilter, ScorePoint};

/// Where the dashboard shows one standard's controls. Under `/ui/` like the
/// findings list: `/compliance/…` on a shared origin is the API's JSON.
pub fn standard_href(slug: &str) -> String {
    format!("/ui/compliance/{}", percent_encode(slug))
}

/// `73%`, or `n/a` when no control had data (a score of 0 % would be a lie).
pub fn score_label(score: Option<u8>) -> String {
    match score {
        Some(s) => format!("{s}%"),
        None => "n/a".to_string(),
    }
}

/// The status as the API spells it, which is also what the page shows.
pub fn status_label(s: ControlStatus) -> &'static str {
    match s {
        ControlStatus::Failed => "FAILED",
        ControlStatus::Unknown => "UNKNOWN",
        ControlStatus::Passed => "PASSED",
        ControlStatus::NoData => "NO_DATA",
    }
}

/// CSS modifier for a control status (one palette in `style.css`).
pub fn status_class(s: ControlStatus) -> &'static str {
    match s {
        ControlStatus::Failed => "failed",
        ControlStatus::Unknown => "unknown",
        ControlStatus::Passed => "passed",
        ControlStatus::NoData => "nodata",
    }
}

/// The dashboard page of one control of a standard: every finding that makes
/// it fail.
pub fn control_href(slug: &str, control_id: &str) -> String {
    format!(
        "/ui/compliance/{}/controls/{}",
        percent_encode(slug),
        percent_encode(control_id)
    )
}

/// The API path of a page of a control's failing findings (`after`: the last
/// page's `next_after`).
pub fn failing_api_path(slug: &str, control_id: &str, after: Option<&str>) -> String {
    let path = format!(
        "/compliance/{}/controls/{}/failing",
        percent_encode(slug),
        percent_encode(control_id)
    );
    match after {
        Some(a) => format!("{path}?after={}", percent_encode(a)),
        None => path,
    }
}

/// The findings list narrowed to one control's findings. The API has no control
/// filter, so this searches the ASFF id for the control's path segment
/// (`…/security-control/S3.8/finding/…`): the slashes keep `S3.1` from matching
/// `S3.10`. Findings of the older per-standard shape whose id carries the
/// standard's own control number are not matched; the drill-down lists their
/// resources instead.
pub fn control_findings_href(control_id: &str) -> String {
    findings_href(FindingFilter {
        q: Some(format!("/{control_id}/finding/")),
        ..Default::default()
    })
}

/// The sparkline of a 30-day trend as SVG polyline points in a `w`×`h` box:
/// days spread evenly from left to right, 0 % at the bottom and 100 % at the
/// top. Days without a score are skipped (the line joins its neighbours), and
/// a single point is drawn as a flat line so it is visible.
pub fn sparkline_points(trend: &[ScorePoint], w: f64, h: f64) -> String {
    let scored: Vec<(usize, u8)> = trend
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.score.map(|s| (i, s)))
        .collect();
    let y = |s: u8| h - f64::from(s.min(100)) / 100.0 * h;
    match scored.as_slice() {
        [] => String::new(),
        [(_, s)] => format!("0,{0} {w},{0}", y(*s)),
        _ => {
            let step = w / (trend.len() - 1) as f64;
            scored
                .iter()
                .map(|&(i, s)| format!("{},{}", i as f64 * step, y(s)))
                .collect::<Vec<_>>()
                .join(" ")
        }
    }
}

/// A sentence for screen readers: the first and last score of the trend.
pub fn trend_label(trend: &[ScorePoint]) -> String {
    let mut scored = trend.iter().filter_map(|p| p.score.map(|s| (p.date, s)));
    match (scored.next(), scored.next_back()) {
        (Some((d0, s0)), Some((d1, s1))) => format!("Score {s0}% on {d0}, {s1}% on {d1}"),
        (Some((d, s)), None) => format!("Score {s}% on {d}"),
        _ => "No score history yet".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(d: u32, score: Option<u8>) -> ScorePoint {
        ScorePoint {
            date: NaiveDate::from_ymd_opt(2026, 11, d).unwrap(),
            score,
        }
    }

    #[test]
    fn a_missing_score_reads_not_applicable_not_zero() {
        assert_eq!(score_label(Some(0)), "0%");
        assert_eq!(score_label(Some(73)), "73%");
        assert_eq!(score_label(None), "n/a");
    }

    #[test]
    fn sparkline_spans_the_box_and_skips_unscored_days() {
        let t = [
            day(1, Some(0)),
            day(2, None),
            day(3, Some(50)),
            day(4, Some(100)),
        ];
        // Four days over 90 units: 30 apart; day 2 has no point.
        assert_eq!(sparkline_points(&t, 90.0, 20.0), "0,20 60,10 90,0");
        assert_eq!(
            sparkline_points(&[day(1, Some(25))], 90.0, 20.0),
            "0,15 90,15"
        );
        assert_eq!(sparkline_points(&[day(1, None)], 90.0, 20.0), "");
        assert_eq!(sparkline_points(&[], 90.0, 20.0), "");
    }

    #[test]
    fn trend_label_names_first_and_last_scored_days() {
        let t = [
            day(1, None),
            day(2, Some(40)),
            day(3, Some(55)),
            day(4, None),
        ];
        assert_eq!(
            trend_label(&t),
            "Score 40% on 2026-11-02, 55% on 2026-11-03"
        );
        assert_eq!(trend_label(&t[..2]), "Score 40% on 2026-11-02");
        assert_eq!(trend_label(&[]), "No score history yet");
    }

    #[test]
    fn links_encode_the_slug_and_delimit_the_control() {
        assert_eq!(standard_href("cis-1.4"), "/ui/compliance/cis-1.4");
        assert_eq!(standard_href("a/b"), "/ui/compliance/a%2Fb");
        assert_eq!(
            control_href("cis-1.4", "1.10"),
            "/ui/compliance/cis-1.4/controls/1.10"
        );
        assert_eq!(
            control_href("aws-fsbp", "a/b?c"),
            "/ui/compliance/aws-fsbp/controls/a%2Fb%3Fc"
        );
        assert_eq!(
            failing_api_path("aws-fsbp", "S3.1", None),
            "/compliance/aws-fsbp/controls/S3.1/failing"
        );
        assert_eq!(
            failing_api_path("aws-fsbp", "S3.1", Some("a+b/c")),
            "/compliance/aws-fsbp/controls/S3.1/failing?after=a%2Bb%2Fc"
        );
        assert_eq!(
            control_findings_href("S3.1"),
            "/ui/findings?q=%2FS3.1%2Ffinding%2F"
        );
    }
}
