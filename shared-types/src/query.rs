use crate::{FindingListItem, Severity, WorkflowStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Largest page `GET /findings` returns.
pub const MAX_LIMIT: u32 = 1000;
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;
/// Longest free-text or key filter value accepted.
pub const MAX_FILTER_LEN: usize = 256;

/// What `GET /findings` can filter on. Empty lists and `None` mean "any".
///
/// The same type backs the API's query string and the dashboard's URL, so a view
/// can be bookmarked and its filters restored exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingFilter {
    /// Any of these severities.
    pub severities: Vec<Severity>,
    /// Any of these workflow statuses.
    pub statuses: Vec<WorkflowStatus>,
    /// Exactly this account id.
    pub account: Option<String>,
    /// Exactly this region.
    pub region: Option<String>,
    /// Exactly this primary resource type.
    pub resource_type: Option<String>,
    /// Exactly this product name.
    pub product: Option<String>,
    /// Exactly this generator id (the control, rule or detector).
    #[serde(default)]
    pub generator: Option<String>,
    /// Exactly this primary resource id.
    #[serde(default)]
    pub resource: Option<String>,
    /// Text contained (case-insensitively) in title, description, resource id or ASFF id.
    pub q: Option<String>,
    /// `updated_at` at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// `updated_at` strictly before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// A query-string value that could not be used, with the parameter it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The query parameter at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FilterError {}

impl FindingFilter {
    /// Whether a list item satisfies the filter, as the stores decide: the live
    /// dashboard uses it to place pushed rows, and a backend test checks it
    /// against the SQLite store on the same data. Free text is matched against
    /// what a list item carries (title, resource id, ASFF id); the stores also
    /// search the description, so an item matched only by its description is
    /// not placed until the view reloads. A list item does not carry its
    /// generator, so a `generator` filter is not checked here: the store
    /// decided it for listed rows, and a caller placing a pushed row in a view
    /// filtered on a generator must leave it to the next reload.
    pub fn matches(&self, item: &FindingListItem) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        (self.severities.is_empty() || self.severities.contains(&item.severity))
            && (self.statuses.is_empty() || self.statuses.contains(&item.workflow_status))
            && eq(&self.account, &item.account_id)
            && eq(&self.region, &item.region)
            && eq(&self.resource_type, &item.resource_type)
            && eq(&self.product, &item.product_name)
            && eq(&self.resource, &item.resource_id)
            && self.since.is_none_or(|t| item.updated_at >= t)
            && self.until.is_none_or(|t| item.updated_at < t)
            && self.q.as_deref().is_none_or(|q| {
                let q = q.to_lowercase();
                [&item.title, &item.resource_id, &item.asff_id]
                    .iter()
                    .any(|s| s.to_lowercase().contains(&q))
            })
    }

    /// True when nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self == &FindingFilter::default()
    }

    /// Builds a filter from decoded query-string pairs (`severity=HIGH,CRITICAL&q=s3`).
    /// Unknown keys are ignored here (paging keys live beside the filter); every
    /// known key is validated and the first bad one is reported with its name.
    pub fn from_pairs<'a, I>(pairs: I) -> Result<FindingFilter, FilterError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut f = FindingFilter::default();
        for (key, value) in pairs {
            match key {
                "severity" => f.severities = parse_list(value, "severity")?,
                "status" => f.statuses = parse_list(value, "status")?,
                "account" => f.account = parse_text(value, "account")?,
                "region" => f.region = parse_text(value, "region")?,
                "resource_type" => f.resource_type = parse_text(value, "resource_type")?,
                "product" => f.product = parse_text(value, "product")?,
                "generator" => f.generator = parse_text(value, "generator")?,
                "resource" => f.resource = parse_text(value, "resource")?,
                "q" => f.q = parse_text(value, "q")?,
                "since" => f.since = parse_instant(value, "since")?,
                "until" => f.until = parse_instant(value, "until")?,
                _ => {}
            }
        }
        if let (Some(since), Some(until)) = (f.since, f.until) {
            if since >= until {
                return Err(FilterError {
                    field: "since",
                    message: "since must be before until".into(),
                });
            }
        }
        Ok(f)
    }

    /// The filter as query-string pairs (values not yet percent-encoded), in a
    /// fixed order so equal filters give equal URLs.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.severities.is_empty() {
            let v: Vec<&str> = self.severities.iter().map(|s| s.as_str()).collect();
            out.push(("severity", v.join(",")));
        }
        if !self.statuses.is_empty() {
            let v: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
            out.push(("status", v.join(",")));
        }
        let texts = [
            ("account", &self.account),
            ("region", &self.region),
            ("resource_type", &self.resource_type),
            ("product", &self.product),
            ("generator", &self.generator),
            ("resource", &self.resource),
            ("q", &self.q),
        ];
        for (k, v) in texts {
            if let Some(v) = v {
                out.push((k, v.clone()));
            }
        }
        if let Some(t) = self.since {
            out.push((
                "since",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ));
        }
        if let Some(t) = self.until {
            out.push((
                "until",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ));
        }
        out
    }
}

/// Parses a comma-separated list of labels; duplicates are dropped, order kept.
fn parse_list<T>(value: &str, field: &'static str) -> Result<Vec<T>, FilterError>
where
    T: FromStr + PartialEq,
    T::Err: fmt::Display,
{
    let mut out = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let v = part.parse::<T>().map_err(|e| FilterError {
            field,
            message: e.to_string(),
        })?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

fn parse_text(value: &str, field: &'static str) -> Result<Option<String>, FilterError> {
    // Checked before trimming: `trim` drops the whitespace control characters
    // (tab, vertical tab, line and form feed), so a value of only those would pass
    // as "no filter" although the API description's pattern refuses it.
    if value.chars().any(char::is_control) {
        return Err(FilterError {
            field,
            message: "must not contain control characters".into(),
        });
    }
    let v = value.trim();
    if v.chars().count() > MAX_FILTER_LEN {
        return Err(FilterError {
            field,
            message: format!("must be at most {MAX_FILTER_LEN} characters"),
        });
    }
    Ok((!v.is_empty()).then(|| v.to_string()))
}

/// RFC 3339 instant, or a bare `YYYY-MM-DD` meaning that day's midnight UTC.
fn parse_instant(value: &str, field: &'static str) -> Result<Option<DateTime<Utc>>, FilterError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let parsed = DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            let d = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
            Some(d.and_hms_opt(0, 0, 0)?.and_utc())
        });
    if let Some(t) = parsed {
        // RFC 3339 writes four-digit years only: an instant outside them (a date
        // like `-524-01-01`, or 0000-01-01 at +01:00) could not be written back
        // into a link or a cursor, so it is refused here rather than misread there.
        if !(0..=9999).contains(&chrono::Datelike::year(&t)) {
            return Err(FilterError {
                field,
                message: "must be a time between the years 0000 and 9999 (UTC)".into(),
            });
        }
        return Ok(Some(t));
    }
    Err(FilterError {
        field,
        message: "must be an RFC 3339 timestamp (2024-05-01T00:00:00Z) or a date (2024-05-01)"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_filter_of_only_whitespace_control_characters_is_refused_not_dropped() {
        // Found by schemathesis: `product=%0B` passed as "no filter".
        for v in ["\u{b}", "\t", " \n ", "\u{c}", "S3\u{85}"] {
            let err = parse_text(v, "product").unwrap_err();
            assert_eq!(err.field, "product");
            assert!(err.message.contains("control"), "{v:?}: {}", err.message);
        }
        assert_eq!(parse_text("  ", "product").unwrap(), None);
        assert_eq!(
            parse_text(" S3 ", "product").unwrap().as_deref(),
            Some("S3")
        );
    }

    #[test]
    fn times_rfc_3339_cannot_write_are_refused() {
        for v in [
            "-524-01-01",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00-05:00",
        ] {
            let err = parse_instant(v, "until").unwrap_err();
            assert!(
                err.message.contains("0000 and 9999"),
                "{v}: {}",
                err.message
            );
        }
        for v in ["0000-01-01", "9999-12-31T23:59:59Z", "1977-05-25"] {
            assert!(parse_instant(v, "until").unwrap().is_some(), "{v}");
        }
    }

    #[test]
    fn filter_round_trips_through_query_pairs() {
        let f = FindingFilter {
            severities: vec![Severity::Critical, Severity::High],
            statuses: vec![WorkflowStatus::New],
            account: Some("123456789012".into()),
            q: Some("public bucket".into()),
            since: Some("2024-05-01T00:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        let pairs = f.to_pairs();
        let back = FindingFilter::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn bad_values_name_their_field() {
        let e = FindingFilter::from_pairs([("severity", "HIGH,SEVERE")]).unwrap_err();
        assert_eq!(e.field, "severity");
        let e = FindingFilter::from_pairs([("since", "yesterday")]).unwrap_err();
        assert_eq!(e.field, "since");
        let e = FindingFilter::from_pairs([("since", "2024-02-01"), ("until", "2024-01-01")])
            .unwrap_err();
        assert_eq!(e.field, "since");
        let long = "x".repeat(MAX_FILTER_LEN + 1);
        assert_eq!(
            FindingFilter::from_pairs([("q", long.as_str())])
                .unwrap_err()
                .field,
            "q"
        );
    }

    #[test]
    fn lists_drop_duplicates_and_blank_items() {
        let f = FindingFilter::from_pairs([("severity", "high, ,HIGH,low")]).unwrap();
        assert_eq!(f.severities, vec![Severity::High, Severity::Low]);
        assert!(FindingFilter::from_pairs([("q", "  ")]).unwrap().is_empty());
    }
}
