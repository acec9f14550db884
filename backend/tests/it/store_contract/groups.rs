//! Grouping (`Store::groups`): every grouping of every kind of filter equals
//! what the stored findings say, through updates that move findings between
//! generators, resources, severities and statuses, hand triage and archival;
//! and each group's total is what the list and the count of that group give.
//!
//! The truth is computed here from the stored findings (read back one by one)
//! with the independent predicate of the count test and its own ordering.

use super::count::{belongs, churn, stored};
use super::list_all;
use crate::helpers::version;
use cspm::store::Store;
use shared_types::{Finding, FindingFilter, GroupBy, Severity, WorkflowStatus};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A group as the test works it out.
#[derive(Debug, Default, Clone, PartialEq)]
struct Want {
    total: u64,
    by_severity: BTreeMap<Severity, u64>,
    by_status: BTreeMap<WorkflowStatus, u64>,
    /// Newest `updated_at` (µs) and its finding's title (ties: larger id).
    newest: (i64, String, String),
}

fn key_of(by: GroupBy, f: &Finding) -> &str {
    match by {
        GroupBy::Generator => &f.generator_id,
        GroupBy::Resource => &f.resource_id,
        GroupBy::Account => &f.account_id,
        GroupBy::Region => &f.region,
        GroupBy::ResourceType => &f.resource_type,
    }
}

/// The groups of the view, most severe first as the API documents it.
fn truth(all: &[Finding], filter: &FindingFilter, by: GroupBy) -> Vec<(String, Want)> {
    let mut groups: BTreeMap<String, Want> = BTreeMap::new();
    for f in all.iter().filter(|f| belongs(filter, f)) {
        let w = groups.entry(key_of(by, f).to_string()).or_default();
        w.total += 1;
        *w.by_severity.entry(f.severity).or_default() += 1;
        *w.by_status.entry(f.workflow_status).or_default() += 1;
        let at = (
            f.updated_at.timestamp_micros(),
            f.id.clone(),
            f.title.clone(),
        );
        if (at.0, &at.1) > (w.newest.0, &w.newest.1) {
            w.newest = at;
        }
    }
    let mut out: Vec<(String, Want)> = groups.into_iter().collect();
    let n = |w: &Want, s: Severity| w.by_severity.get(&s).copied().unwrap_or(0);
    out.sort_by_key(|(k, w)| {
        (
            Reverse(n(w, Severity::Critical)),
            Reverse(n(w, Severity::High)),
            Reverse(n(w, Severity::Medium)),
            Reverse(n(w, Severity::Low)),
            Reverse(n(w, Severity::Informational)),
            Reverse(w.total),
            k.clone(),
        )
    });
    out
}

/// Moves some findings to another generator and another resource (a newer
/// provider version), so those counters move too.
async fn move_groups(store: &dyn Store, all: &[Finding]) {
    let moved: Vec<Finding> = all
        .iter()
        .step_by(7)
        .take(20)
        .enumerate()
        .map(|(i, f)| {
            let mut v = version(f, 120);
            if i % 2 == 0 {
                v.generator_id = "moved-generator".into();
            } else {
                v.resource_id = format!("arn:aws:s3:::moved-{}", i % 3);
            }
            v
        })
        .collect();
    store.upsert(&moved).await.unwrap();
}

/// The filters each grouping is checked under: none, the counted ones, one
/// generator, one resource, both, and text.
fn filters(all: &[Finding]) -> Vec<FindingFilter> {
    let most = |get: fn(&Finding) -> &str| -> String {
        let mut n: BTreeMap<&str, usize> = BTreeMap::new();
        for f in all {
            *n.entry(get(f)).or_default() += 1;
        }
        let top = n
            .into_iter()
            .max_by_key(|(k, c)| (*c, Reverse(*k)))
            .unwrap();
        top.0.to_string()
    };
    let generator = most(|f| &f.generator_id);
    let resource = most(|f| &f.resource_id);
    let account = most(|f| &f.account_id);
    let one = FindingFilter::default;
    vec![
        one(),
        FindingFilter {
            severities: vec![Severity::High, Severity::Critical],
            ..one()
        },
        FindingFilter {
            statuses: vec![WorkflowStatus::New],
            account: Some(account.clone()),
            ..one()
        },
        FindingFilter {
            generator: Some(generator.clone()),
            ..one()
        },
        FindingFilter {
            resource: Some(resource.clone()),
            statuses: vec![WorkflowStatus::New, WorkflowStatus::Suppressed],
            ..one()
        },
        FindingFilter {
            generator: Some(generator),
            resource: Some(resource),
            ..one()
        },
        FindingFilter {
            q: Some("bucket".into()),
            account: Some(account),
            ..one()
        },
    ]
}

/// With a few hundred findings every grouping is exact (counters, or a read
/// that reaches the end): counts, order, newest update, label, `other`; and
/// the first groups' totals are their lists' and counts' totals.
pub async fn groups_are_exact_for_every_filter_through_writes(store: Arc<dyn Store>) {
    churn(store.as_ref(), 300).await;
    move_groups(store.as_ref(), &stored(store.as_ref()).await).await;
    let all = stored(store.as_ref()).await;
    let generators: BTreeSet<&str> = all.iter().map(|f| f.generator_id.as_str()).collect();
    assert!(generators.contains("moved-generator"), "{generators:?}");
    for filter in filters(&all) {
        for by in GroupBy::ALL {
            assert_grouping_is_truth(store.as_ref(), &all, &filter, by).await;
        }
    }
}

/// The grouping of `filter`'s view by `by` is exact and is what `all` (every
/// stored finding) says — counts, order, newest update, label, `other` — and
/// its first groups' totals are their lists' and counts' totals.
pub(crate) async fn assert_grouping_is_truth(
    store: &dyn Store,
    all: &[Finding],
    filter: &FindingFilter,
    by: GroupBy,
) {
    let want = truth(all, filter, by);
    let got = store.groups(filter, by, 1000).await.unwrap();
    let at = format!("{by} {filter:?}");
    assert!(got.exact, "{at}");
    assert_eq!(got.by, by);
    assert_eq!(got.other, 0, "{at}");
    let keys: Vec<&str> = got.groups.iter().map(|g| g.key.as_str()).collect();
    let want_keys: Vec<&str> = want.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, want_keys, "{at}");
    for (g, (key, w)) in got.groups.iter().zip(&want) {
        assert_eq!(g.total, w.total, "{at} {key}");
        for s in Severity::ALL_DESC {
            let n = w.by_severity.get(&s).copied().unwrap_or(0);
            assert_eq!(g.by_severity.get(&s), Some(&n), "{at} {key} {s}");
        }
        for s in WorkflowStatus::ALL {
            let n = w.by_status.get(&s).copied().unwrap_or(0);
            assert_eq!(g.by_status.get(&s), Some(&n), "{at} {key} {s}");
        }
        let newest = g.updated_at.map(|t| t.timestamp_micros());
        assert_eq!(newest, Some(w.newest.0), "{at} {key}");
        let label = if by == GroupBy::Generator {
            &w.newest.2
        } else {
            key
        };
        assert_eq!(&g.label, label, "{at}");
    }
    // A short answer keeps the first groups and counts the rest.
    let top = store.groups(filter, by, 2).await.unwrap();
    let rest: u64 = want.iter().skip(2).map(|(_, w)| w.total).sum();
    assert_eq!(top.groups.len(), want.len().min(2), "{at}");
    assert_eq!(top.other, rest, "{at}");
    // The check: a group's total is its list's total.
    for g in got.groups.iter().take(2) {
        let narrowed = by.narrow(filter, &g.key);
        let listed = list_all(store, &narrowed, 100).await.len() as u64;
        assert_eq!(listed, g.total, "{at} list of {}", g.key);
        let count = store.count(&narrowed).await.unwrap();
        assert_eq!(count.total, g.total, "{at} count of {}", g.key);
    }
}
