//! How values read on screen: times, counts, resource ids, JSON, and the date inputs
//! of the time-range filter.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// "just now", "5 min ago", "3 h ago", "2 d ago", then the date: analysts triage by
/// recency, and past a month the exact day matters more than the distance.
pub fn relative_time(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = now.signed_duration_since(t);
    if d < Duration::zero() {
        // Clock skew between the browser and the provider: show the date, not "-3 min".
        return t.format("%Y-%m-%d").to_string();
    }
    let mins = d.num_minutes();
    match mins {
        0 => "just now".into(),
        1..=59 => format!("{mins} min ago"),
        60..=1439 => format!("{} h ago", mins / 60),
        1440..=43199 => format!("{} d ago", mins / 1440),
        _ => t.format("%Y-%m-%d").to_string(),
    }
}

/// Full UTC timestamp for detail views and tooltips: `2024-05-01 13:45:07 UTC`.
pub fn date_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The rows a page shows within its view: `1–50 of 12,345`, or `1–50 of
/// about 12,000` when the API says its total is an estimate (rounded to two
/// significant digits, never below the rows already seen). `first` is the
/// 1-based position of the page's first row; without a total only the range
/// shows.
pub fn range_of(first: u64, shown: u64, total: Option<u64>, exact: bool) -> String {
    // The last row seen: with none on this page, the one before it (an empty
    // view estimated at 0 must not read "about 1").
    let last = first.saturating_add(shown).saturating_sub(1);
    let range = if shown == 0 {
        "0".to_string()
    } else {
        format!("{}–{}", thousands(first), thousands(last))
    };
    match total {
        None => range,
        Some(t) if exact => format!("{range} of {}", thousands(t)),
        Some(t) => {
            let digits = t.to_string().len() as u32;
            let unit = 10u64.pow(digits.saturating_sub(2));
            let rounded = (t.saturating_add(unit / 2) / unit)
                .saturating_mul(unit)
                .max(last);
            format!("{range} of about {}", thousands(rounded))
        }
    }
}

/// Share of `part` in `total` as a whole percent; 0 when there is nothing.
pub fn percent(part: u64, total: u64) -> u64 {
    (part * 100 + total / 2).checked_div(total).unwrap_or(0)
}

/// The readable tail of a resource id: `arn:aws:s3:::my-bucket` → `my-bucket`,
/// `arn:aws:ec2:…:instance/i-0abc` → `i-0abc`. The full id stays in the tooltip.
pub fn short_resource(id: &str) -> &str {
    if !id.starts_with("arn:") {
        return id;
    }
    let tail = id.rsplit(':').next().unwrap_or(id);
    let tail = tail.rsplit('/').find(|s| !s.is_empty()).unwrap_or(tail);
    if tail.is_empty() {
        id
    } else {
        tail
    }
}

/// Indented JSON for the raw-document view.
pub fn pretty_json(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// `ASFF_STATUS` → `Asff status`, for enum-like labels shown as words.
pub fn title_case(label: &str) -> String {
    let lower = label.replace('_', " ").to_lowercase();
    let mut c = lower.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The value of an `<input type="date">` for a filter bound. `until` is exclusive in
/// the API, so the day shown is the last day included (`until` minus one day).
pub fn date_input_value(t: Option<DateTime<Utc>>, is_until: bool) -> String {
    match t {
        None => String::new(),
        Some(t) if is_until => (t - Duration::nanoseconds(1))
            .format("%Y-%m-%d")
            .to_string(),
        Some(t) => t.format("%Y-%m-%d").to_string(),
    }
}

/// Inverse of [`date_input_value`]: an empty input clears the bound; `until` covers the
/// whole chosen day. `None` for text that is not a date (the browser normally prevents it).
pub fn parse_date_input(s: &str, is_until: bool) -> Option<Option<DateTime<Utc>>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let day = if is_until { day.succ_opt()? } else { day };
    Some(Some(day.and_hms_opt(0, 0, 0)?.and_utc()))
}

/// Start of a "last N hours" range, rounded down to the minute so the URL stays tidy.
pub fn since_hours_ago(now: DateTime<Utc>, hours: i64) -> DateTime<Utc> {
    let t = now - Duration::hours(hours);
    t - Duration::seconds(t.timestamp() % 60)
        - Duration::nanoseconds(t.timestamp_subsec_nanos() as i64)
}

/// The line under a groups table: how many findings are in the groups not
/// listed after the `listed` ones, and what to do to see them.
pub fn groups_not_listed(other: u64, listed: usize, can_show_more: bool) -> String {
    let findings = if other == 1 { "finding" } else { "findings" };
    if can_show_more {
        format!(
            "{} more {findings} in groups after these {}.",
            thousands(other),
            thousands(listed as u64)
        )
    } else {
        format!(
            "{} more {findings} in groups after these {}: narrow the filter to list them.",
            thousands(other),
            thousands(listed as u64)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_under_the_groups_says_what_is_not_listed_and_what_to_do() {
        assert_eq!(
            groups_not_listed(1_234, 100, true),
            "1,234 more findings in groups after these 100."
        );
        assert_eq!(
            groups_not_listed(1, 1_000, false),
            "1 more finding in groups after these 1,000: narrow the filter to list them."
        );
    }

    use crate::test_data::at;

    #[test]
    fn a_page_shows_its_range_and_the_views_total() {
        assert_eq!(range_of(1, 50, Some(12_345), true), "1–50 of 12,345");
        assert_eq!(
            range_of(51, 50, Some(12_345), false),
            "51–100 of about 12,000"
        );
        assert_eq!(range_of(1, 50, Some(987), false), "1–50 of about 990");
        assert_eq!(range_of(1, 7, Some(7), false), "1–7 of about 7");
        assert_eq!(range_of(1, 50, Some(40), false), "1–50 of about 50");
        assert_eq!(range_of(1, 0, Some(0), true), "0 of 0");
        assert_eq!(range_of(1, 0, Some(0), false), "0 of about 0");
        assert_eq!(range_of(51, 0, Some(0), false), "0 of about 50");
        assert_eq!(range_of(1, 3, None, true), "1–3");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = at(60 * 24 * 40);
        let cases = [
            (now, "just now"),
            (now - Duration::seconds(59), "just now"),
            (now - Duration::minutes(5), "5 min ago"),
            (now - Duration::minutes(61), "1 h ago"),
            (now - Duration::hours(23), "23 h ago"),
            (now - Duration::hours(49), "2 d ago"),
            (now - Duration::days(31), "2024-05-10"),
            (now + Duration::minutes(3), "2024-06-10"),
        ];
        for (t, want) in cases {
            assert_eq!(relative_time(t, now), want, "{t}");
        }
    }

    #[test]
    fn counts_get_separators_and_percents_round() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(5, 0), 0);
    }

    #[test]
    fn resource_ids_shorten_to_their_name() {
        assert_eq!(short_resource("arn:aws:s3:::my-bucket"), "my-bucket");
        assert_eq!(
            short_resource("arn:aws:ec2:us-east-1:111122223333:instance/i-0abc"),
            "i-0abc"
        );
        assert_eq!(short_resource("arn:aws:iam::111122223333:role/a/b/"), "b");
        assert_eq!(
            short_resource("AWS::::Account:111122223333"),
            "AWS::::Account:111122223333"
        );
        assert_eq!(
            short_resource("arn:aws:iam::111122223333:"),
            "arn:aws:iam::111122223333:"
        );
    }

    #[test]
    fn date_inputs_map_to_inclusive_days() {
        let since = parse_date_input("2024-05-01", false).unwrap();
        let until = parse_date_input("2024-05-01", true).unwrap();
        assert_eq!(since, Some(at(0)));
        assert_eq!(until, Some(at(60 * 24)));
        assert_eq!(date_input_value(since, false), "2024-05-01");
        assert_eq!(date_input_value(until, true), "2024-05-01");
        assert_eq!(parse_date_input("", true), Some(None));
        assert_eq!(parse_date_input("May 1", false), None);
    }

    #[test]
    fn labels_and_ranges_are_tidy() {
        assert_eq!(title_case("NOT_AVAILABLE"), "Not available");
        assert_eq!(title_case(""), "");
        let now = at(0) + Duration::seconds(90) + Duration::milliseconds(5);
        assert_eq!(since_hours_ago(now, 24), at(1) - Duration::hours(24));
        assert_eq!(date_time(at(61)), "2024-05-01 01:01:00 UTC");
        assert!(pretty_json(&serde_json::json!({"a": 1})).contains("\n  \"a\": 1"));
    }
}
