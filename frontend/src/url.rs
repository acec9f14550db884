//! The findings list's address: filters, sort, grouping, page size and cursor ↔ query
//! string; and the other pages' addresses (a finding, the remediations list).
//!
//! The same [`FindingFilter`] backs the API's query string, so the dashboard's URL and
//! the request it makes differ only by the view-only keys (`sort`, `group`, `offset`), which
//! are never sent to the API.

use crate::sort::Sort;
use shared_types::{
    FilterError, FindingFilter, GroupBy, RemediationStatus, DEFAULT_LIMIT, MAX_LIMIT,
};

/// Page sizes offered in the list; the URL may carry any value the API accepts.
pub const PAGE_SIZES: [u32; 4] = [50, 100, 250, 1000];

/// Everything that defines one view of the findings list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// What the API filters on.
    pub filter: FindingFilter,
    /// Client-side order of the loaded page.
    pub sort: Sort,
    /// Page size asked of the API.
    pub limit: u32,
    /// Opaque API cursor of the page shown; `None` for the first page.
    pub cursor: Option<String>,
    /// Rows before the page shown (the URL's `offset`, 0 on the first page), so
    /// Back, Forward and a reload number the rows as the page that led here
    /// did. Dashboard-only: the API pages by cursor alone.
    pub offset: u64,
    /// The groups table by this grouping instead of the rows; `None` is the list.
    pub group: Option<GroupBy>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filter: FindingFilter::default(),
            sort: Sort::default(),
            limit: DEFAULT_LIMIT,
            cursor: None,
            offset: 0,
            group: None,
        }
    }
}

impl ListQuery {
    /// Parses `location.search` (with or without the leading `?`).
    /// A bad filter value is an error naming its key, so the page can say which part of
    /// a shared link is wrong instead of silently showing everything.
    pub fn from_query_string(qs: &str) -> Result<ListQuery, FilterError> {
        let pairs = decode_query(qs);
        let filter =
            FindingFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let mut out = ListQuery {
            filter,
            ..ListQuery::default()
        };
        for (k, v) in &pairs {
            match k.as_str() {
                "sort" => {
                    out.sort = v.parse().map_err(|message| FilterError {
                        field: "sort",
                        message,
                    })?
                }
                "limit" => {
                    out.limit = v
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| FilterError {
                            field: "limit",
                            message: format!("must be a number from 1 to {MAX_LIMIT}"),
                        })?
                }
                "cursor" if !v.is_empty() => out.cursor = Some(v.clone()),
                // Only numbers rows, so a bad one (a hand-edited link) is left
                // out rather than making the whole link unusable.
                "offset" => out.offset = v.parse().unwrap_or(0),
                // A grouping the dashboard does not know (an older or newer link)
                // shows the plain list: the rows are still the view the link names.
                "group" => out.group = v.parse().ok(),
                _ => {}
            }
        }
        // Rows before the first page: none, whatever a hand-edited link says.
        if out.cursor.is_none() {
            out.offset = 0;
        }
        Ok(out)
    }

    /// The dashboard URL's query string (no `?`); defaults are left out so plain views
    /// keep short, shareable links.
    pub fn to_query_string(&self) -> String {
        let mut pairs = self.api_pairs();
        if self.cursor.is_some() && self.offset > 0 {
            pairs.push(("offset", self.offset.to_string()));
        }
        if self.sort != Sort::default() {
            pairs.push(("sort", self.sort.to_string()));
        }
        if let Some(by) = self.group {
            pairs.push(("group", by.as_str().to_string()));
        }
        encode_pairs(&pairs)
    }

    /// The query string for `GET /findings` (no `?`).
    pub fn api_query_string(&self) -> String {
        encode_pairs(&self.api_pairs())
    }

    fn api_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.filter.to_pairs();
        if self.limit != DEFAULT_LIMIT {
            pairs.push(("limit", self.limit.to_string()));
        }
        if let Some(c) = &self.cursor {
            pairs.push(("cursor", c.clone()));
        }
        pairs
    }

    /// The same view on its first page: any filter or sort change restarts paging,
    /// since a cursor only means something for the query that produced it.
    pub fn first_page(mut self) -> ListQuery {
        self.cursor = None;
        self.offset = 0;
        self
    }
}

/// The dashboard's findings list. Not `/findings`: on a shared origin (`cspm serve`)
/// that path is the API's JSON, and a bookmarked link must open the page.
pub const LIST_PATH: &str = "/ui/findings";

/// The list link for a whole view.
pub fn list_href(q: &ListQuery) -> String {
    let qs = q.to_query_string();
    if qs.is_empty() {
        LIST_PATH.into()
    } else {
        format!("{LIST_PATH}?{qs}")
    }
}

/// The list link for a filter (used by the overview's clickable counts).
pub fn findings_href(filter: FindingFilter) -> String {
    list_href(&ListQuery {
        filter,
        ..ListQuery::default()
    })
}

/// The dashboard page of one finding.
pub fn detail_href(id: &str) -> String {
    format!("{LIST_PATH}/{}", percent_encode(id))
}

/// The dashboard's list of every remediation. Not `/remediations`, the API's
/// JSON on a shared origin (as with [`LIST_PATH`]).
pub const REMEDIATIONS_PATH: &str = "/ui/remediations";

/// The remediations page showing those in `status`, or every one.
pub fn remediations_href(status: Option<RemediationStatus>) -> String {
    match status {
        None => REMEDIATIONS_PATH.into(),
        Some(s) => format!("{REMEDIATIONS_PATH}?status={}", s.as_str()),
    }
}

/// The remediations page's `?status=` (`None`: every status). A status the API
/// does not know is an error, so a bad link says so instead of showing everything.
pub fn remediations_status(qs: &str) -> Result<Option<RemediationStatus>, String> {
    match decode_query(qs).into_iter().find(|(k, _)| k == "status") {
        Some((_, v)) if !v.is_empty() => v.parse::<RemediationStatus>().map(Some),
        _ => Ok(None),
    }
}

/// `list` with `v` added or removed, in `order`'s order, so toggling chips in any
/// sequence gives the same URL.
pub fn toggle<T: Copy + PartialEq>(list: &[T], v: T, order: &[T]) -> Vec<T> {
    let on = |x: &T| list.contains(x) != (*x == v);
    order.iter().copied().filter(|x| on(x)).collect()
}

/// Splits and percent-decodes a query string (`+` is a space, as browsers send forms).
pub fn decode_query(qs: &str) -> Vec<(String, String)> {
    qs.trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Joins pairs into a query string, percent-encoding everything but unreserved
/// characters and the `,` that separates list values (kept readable in the address bar).
pub fn encode_pairs(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes one query component (UTF-8 bytes).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Decodes `%XX` escapes and `+`; malformed escapes are kept as typed rather than
/// rejected, because a hand-edited URL should still load.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sort::{Sort, SortKey};
    use shared_types::{Severity, WorkflowStatus};

    #[test]
    fn a_full_view_round_trips_through_its_url() {
        let q = ListQuery {
            filter: FindingFilter {
                severities: vec![Severity::Critical, Severity::High],
                statuses: vec![WorkflowStatus::New],
                account: Some("123456789012".into()),
                q: Some("public bucket & más".into()),
                since: Some("2024-05-01T00:00:00Z".parse().unwrap()),
                ..Default::default()
            },
            sort: Sort {
                key: SortKey::Severity,
                desc: true,
            },
            limit: 1000,
            cursor: Some("eyJ1IjoiMjAyNCJ9+/=".into()),
            offset: 2000,
            group: None,
        };
        let qs = q.to_query_string();
        assert!(
            qs.starts_with("severity=CRITICAL,HIGH&status=NEW&account=123456789012"),
            "{qs}"
        );
        assert_eq!(ListQuery::from_query_string(&format!("?{qs}")).unwrap(), q);
    }

    #[test]
    fn defaults_are_left_out_of_urls() {
        assert_eq!(ListQuery::default().to_query_string(), "");
        assert_eq!(findings_href(FindingFilter::default()), "/ui/findings");
        assert_eq!(detail_href("a b"), "/ui/findings/a%20b");
        let f = FindingFilter {
            severities: vec![Severity::Critical],
            ..Default::default()
        };
        assert_eq!(findings_href(f), "/ui/findings?severity=CRITICAL");
    }

    #[test]
    fn the_remediations_page_keeps_its_status_in_its_url() {
        for s in RemediationStatus::ALL {
            let href = remediations_href(Some(s));
            let (path, qs) = href.split_once('?').unwrap();
            assert_eq!(path, REMEDIATIONS_PATH);
            assert_eq!(remediations_status(qs), Ok(Some(s)), "{href}");
        }
        assert_eq!(remediations_href(None), "/ui/remediations");
        assert_eq!(remediations_status(""), Ok(None));
        assert_eq!(remediations_status("?status="), Ok(None));
        assert!(remediations_status("?status=done").is_err());
    }

    #[test]
    fn the_api_query_has_no_view_only_keys() {
        let q = ListQuery::from_query_string("severity=LOW&sort=-title&limit=100").unwrap();
        assert_eq!(q.api_query_string(), "severity=LOW&limit=100");
        assert_eq!(q.to_query_string(), "severity=LOW&limit=100&sort=-title");
    }

    #[test]
    fn bad_links_name_the_bad_key() {
        let e = ListQuery::from_query_string("severity=SEVERE").unwrap_err();
        assert_eq!(e.field, "severity");
        assert_eq!(
            ListQuery::from_query_string("limit=0").unwrap_err().field,
            "limit"
        );
        assert_eq!(
            ListQuery::from_query_string("limit=1001")
                .unwrap_err()
                .field,
            "limit"
        );
        assert_eq!(
            ListQuery::from_query_string("sort=colour")
                .unwrap_err()
                .field,
            "sort"
        );
    }

    #[test]
    fn the_grouping_round_trips_through_the_url_and_stays_out_of_the_api_query() {
        for by in GroupBy::ALL {
            let q = ListQuery {
                filter: FindingFilter {
                    severities: vec![Severity::High],
                    ..Default::default()
                },
                group: Some(by),
                ..ListQuery::default()
            };
            let href = list_href(&q);
            let qs = href.split_once('?').unwrap().1;
            assert_eq!(ListQuery::from_query_string(qs).unwrap(), q, "{href}");
            assert_eq!(q.api_query_string(), "severity=HIGH", "{href}");
        }
        assert_eq!(
            list_href(&ListQuery {
                group: Some(GroupBy::Generator),
                ..ListQuery::default()
            }),
            "/ui/findings?group=generator"
        );
        assert_eq!(
            ListQuery::from_query_string("severity=HIGH&group=resource_type")
                .unwrap()
                .to_query_string(),
            "severity=HIGH&group=resource_type"
        );
    }

    #[test]
    fn an_unknown_grouping_in_a_link_shows_the_plain_list() {
        for qs in ["group=colour", "group=", "group=GENERATOR", "group"] {
            let q = ListQuery::from_query_string(&format!("severity=LOW&{qs}")).unwrap();
            assert_eq!(q.group, None, "{qs}");
            assert_eq!(q.to_query_string(), "severity=LOW", "{qs}");
        }
    }

    #[test]
    fn decoding_handles_plus_utf8_and_broken_escapes() {
        assert_eq!(percent_decode("a+b%20c"), "a b c");
        assert_eq!(percent_decode("m%C3%A1s"), "más");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz1"), "%zz1");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(
            decode_query("?q=x%26y&&flag"),
            vec![("q".into(), "x&y".into()), ("flag".into(), "".into())]
        );
    }

    #[test]
    fn toggling_keeps_a_canonical_order() {
        let all = Severity::ALL_DESC;
        let l = toggle(&[], Severity::Low, &all);
        let l = toggle(&l, Severity::Critical, &all);
        assert_eq!(l, [Severity::Critical, Severity::Low]);
        assert_eq!(toggle(&l, Severity::Critical, &all), [Severity::Low]);
    }

    #[test]
    fn changing_the_view_restarts_paging() {
        let q = ListQuery {
            cursor: Some("abc".into()),
            offset: 50,
            ..ListQuery::default()
        };
        let first = q.first_page();
        assert_eq!((first.cursor, first.offset), (None, 0));
    }

    #[test]
    fn the_rows_before_a_page_are_in_its_url_but_not_in_the_api_query() {
        let q = ListQuery::from_query_string("severity=MEDIUM&cursor=abc&offset=100").unwrap();
        assert_eq!((q.cursor.as_deref(), q.offset), (Some("abc"), 100));
        assert_eq!(q.api_query_string(), "severity=MEDIUM&cursor=abc");
        assert_eq!(q.to_query_string(), "severity=MEDIUM&cursor=abc&offset=100");
        // The first page has no rows before it, whatever the link says.
        let first = ListQuery::from_query_string("severity=MEDIUM&offset=100").unwrap();
        assert_eq!(first.offset, 0);
        assert_eq!(first.to_query_string(), "severity=MEDIUM");
        // A bad offset is left out; the link still opens its page.
        for bad in ["-1", "x", "99999999999999999999999"] {
            let q = ListQuery::from_query_string(&format!("cursor=abc&offset={bad}")).unwrap();
            assert_eq!((q.cursor.as_deref(), q.offset), (Some("abc"), 0), "{bad}");
        }
        let huge = format!("cursor=abc&offset={}", u64::MAX);
        assert_eq!(
            ListQuery::from_query_string(&huge).unwrap().offset,
            u64::MAX
        );
    }
}
