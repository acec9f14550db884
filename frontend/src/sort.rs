//! Client-side ordering of the loaded page. The API returns newest `updated_at` first;
//! every other order is applied to the rows already in the browser.

use shared_types::FindingListItem;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A sortable column of the findings table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Severity rank.
    Severity,
    /// Title, case-insensitive.
    Title,
    /// Primary resource id.
    Resource,
    /// Account id.
    Account,
    /// Region.
    Region,
    /// Product name.
    Product,
    /// Workflow status, in triage order.
    Status,
    /// Last update time.
    Updated,
}

impl SortKey {
    /// Every key, in the table's column order.
    pub const ALL: [SortKey; 8] = [
        SortKey::Severity,
        SortKey::Title,
        SortKey::Resource,
        SortKey::Account,
        SortKey::Region,
        SortKey::Product,
        SortKey::Status,
        SortKey::Updated,
    ];

    /// The URL name, e.g. `severity`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Severity => "severity",
            SortKey::Title => "title",
            SortKey::Resource => "resource",
            SortKey::Account => "account",
            SortKey::Region => "region",
            SortKey::Product => "product",
            SortKey::Status => "status",
            SortKey::Updated => "updated",
        }
    }

    /// The column heading.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Severity => "Severity",
            SortKey::Title => "Title",
            SortKey::Resource => "Resource",
            SortKey::Account => "Account",
            SortKey::Region => "Region",
            SortKey::Product => "Product",
            SortKey::Status => "Status",
            SortKey::Updated => "Updated",
        }
    }

    /// Direction a first click sorts in: the most urgent or newest first for severity
    /// and time, A→Z for text.
    pub fn default_desc(self) -> bool {
        matches!(self, SortKey::Severity | SortKey::Updated)
    }

    fn compare(self, a: &FindingListItem, b: &FindingListItem) -> Ordering {
        match self {
            SortKey::Severity => a.severity.cmp(&b.severity),
            SortKey::Title => cmp_text(&a.title, &b.title),
            SortKey::Resource => cmp_text(&a.resource_id, &b.resource_id),
            SortKey::Account => a.account_id.cmp(&b.account_id),
            SortKey::Region => a.region.cmp(&b.region),
            SortKey::Product => cmp_text(&a.product_name, &b.product_name),
            SortKey::Status => a.workflow_status.cmp(&b.workflow_status),
            SortKey::Updated => a.updated_at.cmp(&b.updated_at),
        }
    }
}

fn cmp_text(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// A column and a direction. In the URL: `sort=title` (ascending) or `sort=-title`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// Column.
    pub key: SortKey,
    /// Descending when true.
    pub desc: bool,
}

impl Default for Sort {
    /// The API's own order, so the default view needs no client-side work.
    fn default() -> Self {
        Sort {
            key: SortKey::Updated,
            desc: true,
        }
    }
}

impl Sort {
    /// The sort after clicking a column heading: flips the direction on the current
    /// column, otherwise starts the new column in its natural direction.
    pub fn toggled(self, key: SortKey) -> Sort {
        if self.key == key {
            Sort {
                key,
                desc: !self.desc,
            }
        } else {
            Sort {
                key,
                desc: key.default_desc(),
            }
        }
    }

    /// Sorts rows in place. Stable, so equal rows keep the API's newest-first order.
    pub fn apply(self, rows: &mut [FindingListItem]) {
        if self == Sort::default() {
            // Already the API's order; skipping keeps 1,000-row pages instant.
            return;
        }
        rows.sort_by(|a, b| {
            let o = self.key.compare(a, b);
            if self.desc {
                o.reverse()
            } else {
                o
            }
        });
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.desc {
            f.write_str("-")?;
        }
        f.write_str(self.key.as_str())
    }
}

impl FromStr for Sort {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (desc, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        SortKey::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .map(|key| Sort { key, desc })
            .ok_or_else(|| format!("unknown sort column {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::item;
    use shared_types::{Severity, WorkflowStatus};

    fn ids(rows: &[FindingListItem]) -> Vec<&str> {
        rows.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn severity_descending_puts_critical_first_and_keeps_api_order_for_ties() {
        let mut rows = vec![
            item("a", Severity::Low, 5),
            item("b", Severity::Critical, 4),
            item("c", Severity::Low, 3),
            item("d", Severity::Critical, 2),
        ];
        Sort {
            key: SortKey::Severity,
            desc: true,
        }
        .apply(&mut rows);
        assert_eq!(ids(&rows), ["b", "d", "a", "c"]);
    }

    #[test]
    fn text_columns_sort_case_insensitively() {
        let mut rows = vec![
            item("1", Severity::Low, 1),
            item("2", Severity::Low, 2),
            item("3", Severity::Low, 3),
        ];
        rows[0].title = "beta".into();
        rows[1].title = "Alpha".into();
        rows[2].title = "Gamma".into();
        Sort {
            key: SortKey::Title,
            desc: false,
        }
        .apply(&mut rows);
        assert_eq!(ids(&rows), ["2", "1", "3"]);
    }

    #[test]
    fn status_sorts_in_triage_order() {
        let mut rows = vec![item("r", Severity::Low, 1), item("n", Severity::Low, 2)];
        rows[0].workflow_status = WorkflowStatus::Resolved;
        "status".parse::<Sort>().unwrap().apply(&mut rows);
        assert_eq!(ids(&rows), ["n", "r"]);
    }

    #[test]
    fn clicking_a_heading_toggles_or_switches() {
        let s = Sort::default().toggled(SortKey::Updated);
        assert_eq!(
            s,
            Sort {
                key: SortKey::Updated,
                desc: false
            }
        );
        let s = s.toggled(SortKey::Title);
        assert_eq!(
            s,
            Sort {
                key: SortKey::Title,
                desc: false
            }
        );
        assert!(s.toggled(SortKey::Severity).desc);
    }

    #[test]
    fn sort_names_round_trip() {
        for key in SortKey::ALL {
            for desc in [false, true] {
                let s = Sort { key, desc };
                assert_eq!(s.to_string().parse::<Sort>(), Ok(s));
            }
        }
        assert!("-".parse::<Sort>().is_err());
    }
}
