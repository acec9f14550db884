use crate::chart::{bar_length, nice_max, ticks, Frame};
use crate::components::badges::severity_class;
use crate::format::thousands;
use crate::url::findings_href;
use leptos::prelude::*;
use shared_types::{FindingFilter, ScorePoint, Severity, TrendPoint};
use std::collections::BTreeMap;

/// Horizontal bars, one per severity, most severe first; each row links to the list
/// filtered by that severity.
#[component]
pub fn SeverityChart(by_severity: BTreeMap<Severity, u64>) -> impl IntoView {
    let max = by_severity.values().copied().max().unwrap_or(0);
    let rows = Severity::ALL_DESC
        .into_iter()
        .map(|s| {
            let n = by_severity.get(&s).copied().unwrap_or(0);
            let href = findings_href(FindingFilter {
                severities: vec![s],
                ..Default::default()
            });
            let len = bar_length(n, max, 100.0);
            view! {
                <li>
                    <a class="hbar" href=href aria-label=format!("{} {} findings", thousands(n), s.as_str())
                        data-severity=s.as_str() data-value=n.to_string()>
                        <span class="hbar-label">{s.as_str()}</span>
                        <svg class="hbar-track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
                            <rect class="track" x="0" y="0" width="100" height="10" rx="1"></rect>
                            <rect class=format!("fill-{}", severity_class(s)) x="0" y="0" width=len height="10" rx="1"></rect>
                        </svg>
                        <span class="hbar-value">{thousands(n)}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="hbars" data-testid="severity-chart">{rows}</ul> }
}

/// New findings per day as columns with a round-numbered axis; the first, middle and
/// last dates label the time axis.
#[component]
pub fn TrendChart(trend: Vec<TrendPoint>) -> impl IntoView {
    let values: Vec<u64> = trend.iter().map(|p| p.count).collect();
    let total: u64 = values.iter().sum();
    let top = nice_max(values.iter().copied().max().unwrap_or(0));
    let frame = Frame {
        x: 44.0,
        y: 8.0,
        w: 548.0,
        h: 150.0,
    };
    let grid = ticks(top)
        .into_iter()
        .map(|t| {
            let y = frame.y_of(t, top);
            view! {
                <line class="grid" x1=frame.x y1=y x2=frame.x + frame.w y2=y></line>
                <text class="axis" x=frame.x - 6.0 y=y + 4.0 text-anchor="end">{thousands(t)}</text>
            }
        })
        .collect_view();
    let bars = frame
        .bars(&values, top)
        .into_iter()
        .map(|(x, y, w, h)| view! { <rect class="col" x=x y=y width=w height=h></rect> })
        .collect_view();
    let n = trend.len();
    let labels = [0, n / 2, n.saturating_sub(1)]
        .into_iter()
        .filter(|&i| i < n)
        .map(|i| {
            let slot = frame.w / n as f64;
            let x = frame.x + slot * (i as f64 + 0.5);
            let anchor = if i == 0 {
                "start"
            } else if i + 1 == n {
                "end"
            } else {
                "middle"
            };
            view! {
                <text class="axis" x=x y=frame.y + frame.h + 16.0 text-anchor=anchor>
                    {trend[i].date.format("%b %-d").to_string()}
                </text>
            }
        })
        .collect_view();
    let label = match (trend.first(), trend.last()) {
        (Some(a), Some(b)) => format!(
            "{} new findings from {} to {}",
            thousands(total),
            a.date,
            b.date
        ),
        _ => "No trend data".to_string(),
    };
    view! {
        <svg class="trend" viewBox="0 0 600 180" role="img" aria-label=label
            data-testid="trend-chart" data-total=total.to_string()>
            {grid}
            {bars}
            {labels}
        </svg>
    }
}

/// A standard's score over the last 30 days as a line from 0 % (bottom) to
/// 100 % (top), small enough for a card; the label reads the first and last score.
#[component]
pub fn Sparkline(trend: Vec<ScorePoint>) -> impl IntoView {
    let points = crate::compliance::sparkline_points(&trend, 120.0, 28.0);
    view! {
        <svg class="sparkline" viewBox="-2 -2 124 32" preserveAspectRatio="none" role="img"
            aria-label=crate::compliance::trend_label(&trend) data-points=trend.len().to_string()>
            <line class="grid" x1="0" y1="28" x2="120" y2="28"></line>
            <polyline class="spark" points=points></polyline>
        </svg>
    }
}
