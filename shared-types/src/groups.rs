//! `GET /findings/groups`: the findings of a view grouped by generator,
//! resource, account, region or resource type, most severe group first.

use crate::{FindingFilter, Severity, WorkflowStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Largest number of groups one answer lists.
pub const MAX_GROUP_LIMIT: u32 = 1000;
/// Groups listed when `limit` is not given.
pub const DEFAULT_GROUP_LIMIT: u32 = 100;

/// What findings are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The control, rule or detector (`generator_id`).
    Generator,
    /// The primary resource (`resource_id`).
    Resource,
    /// The AWS account.
    Account,
    /// The region.
    Region,
    /// The primary resource type.
    ResourceType,
}

impl GroupBy {
    /// Every grouping, in the order the dashboard offers them.
    pub const ALL: [GroupBy; 5] = [
        GroupBy::Generator,
        GroupBy::Resource,
        GroupBy::Account,
        GroupBy::Region,
        GroupBy::ResourceType,
    ];

    /// The query-string value, e.g. `resource_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Generator => "generator",
            GroupBy::Resource => "resource",
            GroupBy::Account => "account",
            GroupBy::Region => "region",
            GroupBy::ResourceType => "resource_type",
        }
    }

    /// `filter` narrowed to the group `key`: the view a click on the group
    /// opens. The group's filter key has the same name as the grouping.
    pub fn narrow(self, filter: &FindingFilter, key: &str) -> FindingFilter {
        let mut f = filter.clone();
        let key = Some(key.to_string());
        match self {
            GroupBy::Generator => f.generator = key,
            GroupBy::Resource => f.resource = key,
            GroupBy::Account => f.account = key,
            GroupBy::Region => f.region = key,
            GroupBy::ResourceType => f.resource_type = key,
        }
        f
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not a grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownGroupBy(pub String);

impl fmt::Display for UnknownGroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown grouping {:?} (expected generator, resource, account, region or resource_type)",
            self.0
        )
    }
}

impl std::error::Error for UnknownGroupBy {}

impl FromStr for GroupBy {
    type Err = UnknownGroupBy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GroupBy::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| UnknownGroupBy(s.to_string()))
    }
}

/// One group of a view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingGroup {
    /// The grouped value (a generator id, resource id, account…): the filter
    /// value that lists the group's findings.
    pub key: String,
    /// What to show for it: for a generator the title of its newest finding in
    /// the view when the store read it, otherwise the key.
    pub label: String,
    /// Findings of the view in the group.
    pub total: u64,
    /// Of those, per severity; every label is present (0 when none).
    pub by_severity: BTreeMap<Severity, u64>,
    /// Of those, per workflow status; every status is present.
    pub by_status: BTreeMap<WorkflowStatus, u64>,
    /// `updated_at` of the group's newest finding in the view; `null` when the
    /// store could not tell within its read budget (README, "Grouping").
    pub updated_at: Option<DateTime<Utc>>,
}

impl FindingGroup {
    /// An empty group for `key` (every severity and status at 0).
    pub fn empty(key: &str) -> FindingGroup {
        FindingGroup {
            key: key.to_string(),
            label: key.to_string(),
            total: 0,
            by_severity: Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect(),
            by_status: WorkflowStatus::ALL.iter().map(|s| (*s, 0)).collect(),
            updated_at: None,
        }
    }

    /// Counts `n` findings of `severity` and `status` in.
    pub fn add(&mut self, severity: Severity, status: WorkflowStatus, n: u64) {
        self.total += n;
        *self.by_severity.entry(severity).or_default() += n;
        *self.by_status.entry(status).or_default() += n;
    }

    /// The answer's order: more CRITICAL first, then more HIGH, … INFORMATIONAL,
    /// then the larger total, then the key (so equal groups keep a stable order).
    pub fn most_severe_first(a: &FindingGroup, b: &FindingGroup) -> Ordering {
        let count = |g: &FindingGroup, s: Severity| g.by_severity.get(&s).copied().unwrap_or(0);
        Severity::ALL_DESC
            .iter()
            .map(|s| count(b, *s).cmp(&count(a, *s)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then_with(|| b.total.cmp(&a.total))
            .then_with(|| a.key.cmp(&b.key))
    }
}

/// `GET /findings/groups` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingGroups {
    /// The grouping.
    pub by: GroupBy,
    /// The first `limit` groups, most severe first.
    pub groups: Vec<FindingGroup>,
    /// Findings of the view in the groups beyond `limit`.
    pub other: u64,
    /// True when the counts are exact; false when the store answered from a
    /// bounded read of the view's newest findings (README, "Grouping").
    pub exact: bool,
}

impl FindingGroups {
    /// Sorts `groups` most severe first and keeps `limit` of them, counting the
    /// findings of the rest in `other`.
    pub fn ranked(by: GroupBy, mut groups: Vec<FindingGroup>, limit: usize, exact: bool) -> Self {
        groups.retain(|g| g.total > 0);
        groups.sort_by(FindingGroup::most_severe_first);
        let other = groups.iter().skip(limit).map(|g| g.total).sum();
        groups.truncate(limit);
        FindingGroups {
            by,
            groups,
            other,
            exact,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(key: &str, counts: &[(Severity, u64)]) -> FindingGroup {
        let mut g = FindingGroup::empty(key);
        for (s, n) in counts {
            g.add(*s, WorkflowStatus::New, *n);
        }
        g
    }

    #[test]
    fn groups_rank_by_critical_then_high_then_total_and_the_rest_is_other() {
        use Severity::*;
        let groups = vec![
            group("many-low", &[(Low, 500)]),
            group("one-critical", &[(Critical, 1)]),
            group("two-high", &[(High, 2)]),
            group("two-high-more", &[(High, 2), (Low, 3)]),
            group("empty", &[]),
            group("critical-and-high", &[(Critical, 1), (High, 1)]),
        ];
        let out = FindingGroups::ranked(GroupBy::Account, groups, 3, true);
        let keys: Vec<&str> = out.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["critical-and-high", "one-critical", "two-high-more"]);
        assert_eq!(out.other, 2 + 500);
    }

    #[test]
    fn a_grouping_narrows_the_filter_by_its_own_key() {
        let base = FindingFilter::from_pairs([("severity", "HIGH")]).unwrap();
        for by in GroupBy::ALL {
            assert_eq!(by.as_str().parse::<GroupBy>().unwrap(), by);
            let f = by.narrow(&base, "k");
            let pairs = f.to_pairs();
            assert!(pairs.contains(&(by.as_str(), "k".to_string())), "{pairs:?}");
            assert_eq!(
                FindingFilter::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).unwrap(),
                f
            );
        }
        assert!("severity".parse::<GroupBy>().is_err());
    }
}
