//! Grouping a view (`GET /findings/groups`), the parts every store shares.
//!
//! A grouping is answered from counters where the store keeps them for the
//! grouping and the filter (exact, O(counter rows)), otherwise from a bounded
//! newest-first read of the view's findings: at most [`GROUP_SCAN_ROWS`] rows,
//! exact when the read reaches the view's end, else `exact: false` and the
//! counts are those of the newest findings read. Which groupings and filters
//! each store counts is in the README ("Grouping").
//!
//! A newest-first read also gives each group it meets its newest finding: the
//! first row of a group read is the group's newest in the view. That is how a
//! group's `updated_at` (and a generator's label, its newest finding's title) is
//! found, where counters answer the counts too.

use chrono::{DateTime, Utc};
use shared_types::{FindingGroup, FindingGroups, GroupBy, Severity, WorkflowStatus};
use std::collections::HashMap;

/// Rows a grouping may read when no counter answers it. At 1M findings this
/// keeps a grouping within its latency budget (scripts/bench_groups.sh).
pub const GROUP_SCAN_ROWS: u64 = 10_000;

/// Groups being counted from rows or counter rows, in any order.
#[derive(Debug)]
pub struct Tally {
    by: GroupBy,
    groups: HashMap<String, FindingGroup>,
}

impl Tally {
    /// An empty tally for `by`.
    pub fn new(by: GroupBy) -> Tally {
        Tally {
            by,
            groups: HashMap::new(),
        }
    }

    /// Counts `n` findings of `key` with `severity` and `status` in.
    pub fn add(&mut self, key: &str, severity: Severity, status: WorkflowStatus, n: u64) {
        self.group(key).add(severity, status, n);
    }

    /// Notes a finding of `key` read newest first: the first one noted is the
    /// group's newest, whose time and (for a generator) title the group shows.
    pub fn newest(&mut self, key: &str, at: DateTime<Utc>, title: &str) {
        let by = self.by;
        let g = self.group(key);
        if g.updated_at.is_none() {
            g.updated_at = Some(at);
            g.label = label(by, key, title);
        }
    }

    /// True when a finding of `key` was counted or noted.
    pub fn contains(&self, key: &str) -> bool {
        self.groups.contains_key(key)
    }

    fn group(&mut self, key: &str) -> &mut FindingGroup {
        self.groups
            .entry(key.to_string())
            .or_insert_with(|| FindingGroup::empty(key))
    }

    /// The answer: the `limit` most severe groups and the rest as `other`.
    pub fn finish(self, limit: u32, exact: bool) -> FindingGroups {
        FindingGroups::ranked(
            self.by,
            self.groups.into_values().collect(),
            limit as usize,
            exact,
        )
    }
}

/// What a group is shown as: a generator by its newest finding's title (its
/// id is a path or an ARN), anything else by its key.
pub fn label(by: GroupBy, key: &str, title: &str) -> String {
    if by == GroupBy::Generator && !title.is_empty() {
        title.to_string()
    } else {
        key.to_string()
    }
}

/// One group's counts while they are summed: fixed arrays, so that ranking
/// and dropping the hundreds of thousands of groups a grouping by resource
/// meets at 1M findings costs no allocation beyond the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    key: String,
    by_rank: [u64; 5],
    by_status: [u64; 4],
    total: u64,
}

impl Counts {
    /// No findings of `key` yet.
    pub fn new(key: String) -> Counts {
        Counts {
            key,
            by_rank: [0; 5],
            by_status: [0; 4],
            total: 0,
        }
    }

    /// A group known only by its findings per severity rank (its statuses
    /// unknown): enough to rank it, as the bound of a walk down a ranking.
    /// `u64::MAX` stands for a count the walk does not bound.
    pub fn from_severities(key: String, by_rank: [u64; 5]) -> Counts {
        Counts {
            key,
            by_rank,
            by_status: [0; 4],
            total: by_rank.iter().fold(0, |t, n| t.saturating_add(*n)),
        }
    }

    /// The group's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Counts `n` findings of `severity` and `status` in.
    pub fn add(&mut self, severity: Severity, status: WorkflowStatus, n: u64) {
        self.by_rank[usize::from(severity.rank())] += n;
        let i = WorkflowStatus::ALL
            .iter()
            .position(|s| *s == status)
            .unwrap_or(0);
        self.by_status[i] += n;
        self.total += n;
    }

    /// [`FindingGroup::most_severe_first`] on the arrays.
    fn rank(a: &Counts, b: &Counts) -> std::cmp::Ordering {
        (0..5)
            .rev()
            .map(|r| b.by_rank[r].cmp(&a.by_rank[r]))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| b.total.cmp(&a.total))
            .then_with(|| a.key.cmp(&b.key))
    }

    /// The group as the API shows it (label: its key until a row says more).
    pub fn group(self) -> FindingGroup {
        let mut g = FindingGroup::empty(&self.key);
        for s in Severity::ALL_DESC {
            g.by_severity.insert(s, self.by_rank[usize::from(s.rank())]);
        }
        for (i, s) in WorkflowStatus::ALL.iter().enumerate() {
            g.by_status.insert(*s, self.by_status[i]);
        }
        g.total = self.total;
        g
    }
}

/// The `limit` most severe of groups met one at a time, without holding them
/// all: at 1M findings a grouping by resource meets hundreds of thousands.
#[derive(Debug)]
pub struct TopGroups {
    limit: usize,
    kept: Vec<Counts>,
    /// The last kept group after the latest trim: a group ranking after it
    /// cannot be among the first `limit` any more.
    floor: Option<Counts>,
    other: u64,
}

impl TopGroups {
    /// Keeps the `limit` most severe.
    pub fn new(limit: u32) -> TopGroups {
        TopGroups {
            limit: (limit as usize).max(1),
            kept: Vec::new(),
            floor: None,
            other: 0,
        }
    }

    /// Offers one complete group.
    pub fn offer(&mut self, g: Counts) {
        if g.total == 0 {
            return;
        }
        if let Some(floor) = &self.floor {
            if Counts::rank(&g, floor).is_ge() {
                self.other += g.total;
                return;
            }
        }
        self.kept.push(g);
        // Sorting only when twice the limit is held keeps this O(n log limit).
        if self.kept.len() >= 2 * self.limit {
            self.trim();
        }
    }

    /// True when no group can be listed any more that is met after `bound`
    /// in a walk down the groups' unfiltered counts, most severe first, when
    /// the groups offered are those counts filtered (so at most them per
    /// severity, and none outside `severities` when that is not empty).
    ///
    /// Such a later group ranks after `bound` before filtering, so after it
    /// filtered too: once the `limit`-th kept group ranks before `bound`, none
    /// can enter. With a severity filter, the severities above the first one
    /// filtered out also settle it: a later group has at most `bound`'s counts
    /// there (the walk's order) and none of that one, so a `limit`-th group
    /// ahead on them stays ahead, whatever `bound` has below.
    ///
    /// A walk down the resources by one severity's count alone (then key)
    /// meets the groups in this order too when its `bound`s hold only that
    /// count, which is all a group filtered to that severity can have. With
    /// other severities in the filter, the bounds hold `u64::MAX` for the less
    /// severe of them: a later group can then only tie with `bound` where it
    /// ranks after it, so the walk closes once that one count separates them.
    pub fn closed_at(&mut self, bound: &Counts, severities: &[Severity]) -> bool {
        if self.kept.len() > self.limit || (self.floor.is_none() && self.kept.len() == self.limit) {
            self.trim();
        }
        let Some(floor) = &self.floor else {
            return false;
        };
        if Counts::rank(floor, bound).is_lt() {
            return true;
        }
        if severities.is_empty() {
            return false;
        }
        for s in Severity::ALL_DESC {
            if !severities.contains(&s) {
                break;
            }
            let r = usize::from(s.rank());
            match floor.by_rank[r].cmp(&bound.by_rank[r]) {
                std::cmp::Ordering::Equal => continue,
                o => return o.is_gt(),
            }
        }
        false
    }

    fn trim(&mut self) {
        self.kept.sort_by(Counts::rank);
        self.other += self
            .kept
            .iter()
            .skip(self.limit)
            .map(|g| g.total)
            .sum::<u64>();
        self.kept.truncate(self.limit);
        if self.kept.len() == self.limit {
            self.floor = self.kept.last().cloned();
        }
    }

    /// The answer for `by`.
    pub fn finish(mut self, by: GroupBy, exact: bool) -> FindingGroups {
        self.trim();
        FindingGroups {
            by,
            groups: self.kept.into_iter().map(Counts::group).collect(),
            other: self.other,
            exact,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeping_the_top_groups_one_at_a_time_equals_ranking_them_all() {
        let mut all = Vec::new();
        let mut top = TopGroups::new(3);
        for i in 0..500u64 {
            let key = format!("k{i:03}");
            let mut g = FindingGroup::empty(&key);
            let mut c = Counts::new(key);
            let sev = Severity::ALL_DESC[(i % 5) as usize];
            let status = WorkflowStatus::ALL[(i % 4) as usize];
            g.add(sev, status, 1 + (i * 7) % 11);
            c.add(sev, status, 1 + (i * 7) % 11);
            all.push(g);
            top.offer(c);
        }
        let want = FindingGroups::ranked(GroupBy::Resource, all, 3, true);
        assert_eq!(top.finish(GroupBy::Resource, true), want);
        assert!(want.other > 0);
    }

    #[test]
    fn a_walk_stopped_when_closed_lists_what_ranking_every_group_lists() {
        // Small counts, so many groups tie; the filtered counts are at most the
        // unfiltered ones, and none outside the severity filter.
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        // A walk for one severity below CRITICAL goes down that severity's
        // count alone (sqlite/top_resources.rs): its bounds hold nothing else.
        let sets: [(&[Severity], bool); 8] = [
            (&[], false),
            (&[Severity::Critical], false),
            (&[Severity::Critical, Severity::High], false),
            (&[Severity::High, Severity::Low], false),
            (&[Severity::Medium], false),
            (&[Severity::Medium], true),
            (&[Severity::Low], true),
            (&[Severity::Informational], true),
        ];
        let mut stopped_early = 0;
        for (severities, alone) in sets {
            let mut stopped_here = 0;
            for limit in [1u32, 3, 10, 50] {
                let mut groups: Vec<(Counts, Counts)> = (0..300)
                    .map(|i| {
                        let key = format!("k{:03}", next(1000));
                        let u: [u64; 5] = std::array::from_fn(|r| {
                            let n = next(3);
                            let kept = severities
                                .first()
                                .is_some_and(|s| usize::from(s.rank()) == r);
                            if alone && !kept {
                                0
                            } else {
                                n
                            }
                        });
                        let mut f = Counts::new(key.clone());
                        for s in Severity::ALL_DESC {
                            let r = usize::from(s.rank());
                            let kept = severities.is_empty() || severities.contains(&s);
                            if kept && i % 3 != 0 {
                                f.add(s, WorkflowStatus::New, u[r] - next(u[r] + 1));
                            }
                        }
                        (Counts::from_severities(key, u), f)
                    })
                    .collect();
                groups.sort_by(|a, b| Counts::rank(&a.0, &b.0));
                groups.dedup_by(|a, b| a.0.key == b.0.key);
                let mut all = TopGroups::new(limit);
                let mut walk = TopGroups::new(limit);
                let mut closed = false;
                for (u, f) in &groups {
                    all.offer(f.clone());
                    if !closed && walk.closed_at(u, severities) {
                        closed = true;
                        stopped_early += 1;
                        stopped_here += 1;
                    }
                    if !closed {
                        walk.offer(f.clone());
                    }
                }
                let want = all.finish(GroupBy::Resource, true).groups;
                let got = walk.finish(GroupBy::Resource, true).groups;
                assert_eq!(got, want, "{severities:?} limit {limit}");
            }
            if alone {
                assert!(stopped_here >= 3, "{severities:?} alone: {stopped_here}");
            }
        }
        assert!(stopped_early >= 10, "{stopped_early}");
    }

    #[test]
    fn the_first_finding_noted_is_the_newest_and_labels_a_generator() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let mut t = Tally::new(GroupBy::Generator);
        t.add("S3.8", Severity::High, WorkflowStatus::New, 2);
        t.newest(
            "S3.8",
            at("2024-05-02T00:00:00Z"),
            "Buckets should block public access",
        );
        t.newest("S3.8", at("2024-05-01T00:00:00Z"), "older");
        let out = t.finish(10, true);
        let g = &out.groups[0];
        assert_eq!(g.updated_at, Some(at("2024-05-02T00:00:00Z")));
        assert_eq!(g.label, "Buckets should block public access");
        assert_eq!(label(GroupBy::Account, "111", "title"), "111");
    }
}
