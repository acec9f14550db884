//! View counts (`Store::count`): exact for the counted filters in every
//! combination, exact for `q`/`since`/`until` when the read reaches the end,
//! and otherwise an estimate inside its stated bound.
//!
//! The truth is computed here from the stored findings (read back one by one)
//! with a predicate written for this test, not with the store's filter code.

use super::list_all;
use crate::helpers::{anchor, findings, version};
use chrono::Duration;
use cspm::store::{FindingVersion, Store};
use shared_types::{Finding, FindingFilter, Severity, WorkflowStatus, WorkflowUpdate};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Whether `f` belongs to the view of `filter`, spelled out independently:
/// free text is a case-insensitive substring of title, description, resource
/// id or ASFF id.
pub fn belongs(filter: &FindingFilter, f: &Finding) -> bool {
    let text = |q: &str| {
        let q = q.to_lowercase();
        [&f.title, &f.description, &f.resource_id, &f.asff_id]
            .iter()
            .any(|s| s.to_lowercase().contains(&q))
    };
    (filter.severities.is_empty() || filter.severities.contains(&f.severity))
        && (filter.statuses.is_empty() || filter.statuses.contains(&f.workflow_status))
        && filter.account.as_ref().is_none_or(|a| *a == f.account_id)
        && filter.region.as_ref().is_none_or(|r| *r == f.region)
        && filter
            .resource_type
            .as_ref()
            .is_none_or(|r| *r == f.resource_type)
        && filter.product.as_ref().is_none_or(|p| *p == f.product_name)
        && filter
            .generator
            .as_ref()
            .is_none_or(|g| *g == f.generator_id)
        && filter.resource.as_ref().is_none_or(|r| *r == f.resource_id)
        && filter.q.as_deref().is_none_or(text)
        && filter.since.is_none_or(|t| f.updated_at >= t)
        && filter.until.is_none_or(|t| f.updated_at < t)
}

/// The distinct accounts, regions, resource types and products a store holds.
#[derive(Debug, Default)]
pub struct Values {
    /// Accounts.
    pub accounts: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Resource types.
    pub types: Vec<String>,
    /// Products.
    pub products: Vec<String>,
}

impl Values {
    /// The values `stored` findings hold.
    pub fn of(stored: &[Finding]) -> Values {
        let distinct = |get: fn(&Finding) -> &str| -> Vec<String> {
            let set: BTreeSet<&str> = stored.iter().map(get).collect();
            set.into_iter().map(str::to_string).collect()
        };
        Values {
            accounts: distinct(|f| &f.account_id),
            regions: distinct(|f| &f.region),
            types: distinct(|f| &f.resource_type),
            products: distinct(|f| &f.product_name),
        }
    }
}

/// Every single filter on the values the findings hold, every severity ×
/// status pair, and combinations of three to five filters, with and without
/// free text and a time window.
pub fn filters(values: &Values) -> Vec<FindingFilter> {
    let Values {
        accounts,
        regions,
        types,
        products,
    } = values;
    let since = Some(anchor() - Duration::days(40));
    let until = Some(anchor() - Duration::days(10));
    let mut out = vec![FindingFilter::default()];
    let one = FindingFilter::default;
    for s in Severity::ALL_DESC {
        out.push(FindingFilter {
            severities: vec![s],
            ..one()
        });
        for w in WorkflowStatus::ALL {
            out.push(FindingFilter {
                severities: vec![s],
                statuses: vec![w],
                ..one()
            });
        }
    }
    for w in WorkflowStatus::ALL {
        out.push(FindingFilter {
            statuses: vec![w],
            ..one()
        });
    }
    for a in accounts {
        out.push(FindingFilter {
            account: Some(a.clone()),
            ..one()
        });
    }
    for r in regions {
        out.push(FindingFilter {
            region: Some(r.clone()),
            ..one()
        });
    }
    for t in types {
        out.push(FindingFilter {
            resource_type: Some(t.clone()),
            ..one()
        });
    }
    for p in products {
        out.push(FindingFilter {
            product: Some(p.clone()),
            ..one()
        });
    }
    for q in ["s3", "IMDSv2", "bucket", "root", "no-such-text"] {
        out.push(FindingFilter {
            q: Some(q.into()),
            ..one()
        });
    }
    out.push(FindingFilter { since, ..one() });
    out.push(FindingFilter { until, ..one() });
    out.push(FindingFilter {
        since,
        until,
        ..one()
    });
    for (i, a) in accounts.iter().enumerate().take(3) {
        let r = &regions[i % regions.len()];
        out.push(FindingFilter {
            account: Some(a.clone()),
            region: Some(r.clone()),
            severities: vec![Severity::High, Severity::Critical],
            ..one()
        });
        out.push(FindingFilter {
            account: Some(a.clone()),
            region: Some(r.clone()),
            resource_type: Some(types[i % types.len()].clone()),
            statuses: vec![WorkflowStatus::New, WorkflowStatus::Notified],
            product: Some(products[i % products.len()].clone()),
            ..one()
        });
        out.push(FindingFilter {
            account: Some(a.clone()),
            since,
            until,
            ..one()
        });
    }
    out.push(FindingFilter {
        severities: vec![Severity::Medium, Severity::Low],
        q: Some("s3".into()),
        ..one()
    });
    out.push(FindingFilter {
        statuses: vec![WorkflowStatus::New],
        q: Some("bucket".into()),
        since,
        ..one()
    });
    out
}

/// The stored findings, read back one by one.
pub(crate) async fn stored(store: &dyn Store) -> Vec<Finding> {
    let mut out = Vec::new();
    for id in list_all(store, &FindingFilter::default(), 200).await {
        out.push(store.get(&id).await.unwrap().unwrap().finding);
    }
    out
}

/// 300 findings after [`churn`]: every counter has moved.
async fn churned(store: &dyn Store) -> Vec<Finding> {
    churn(store, 300).await;
    let out = stored(store).await;
    assert_eq!(out.len(), 260);
    out
}

/// Writes `n` findings (n ≥ 300), then updates 90 of them (severity, status,
/// some regions), suppresses 30 by hand and archives 40.
pub async fn churn(store: &dyn Store, n: usize) {
    let fs = findings(n, 11);
    store.upsert(&fs).await.unwrap();
    let mut changed = Vec::new();
    for (n, f) in fs.iter().enumerate().take(90) {
        let mut v = version(f, 60);
        v.severity = Severity::ALL_DESC[n % 5];
        v.workflow_status = WorkflowStatus::ALL[n % 4];
        if n % 3 == 0 {
            v.region = "ap-south-2".into();
        }
        changed.push(v);
    }
    store.upsert(&changed).await.unwrap();
    for f in &fs[100..130] {
        let update = WorkflowUpdate {
            workflow_status: WorkflowStatus::Suppressed,
            note: None,
        };
        store
            .set_workflow(&f.id, &update, "alice", f.updated_at)
            .await
            .unwrap();
    }
    let gone: Vec<FindingVersion> = fs[200..240]
        .iter()
        .map(|f| FindingVersion {
            id: f.id.clone(),
            updated_at: f.updated_at,
            revision: 1,
        })
        .collect();
    assert_eq!(
        store.delete_versions(&gone).await.unwrap().deleted.len(),
        40
    );
}

/// With a few hundred findings every count is exact: the counted filters from
/// the counters, the others because the bounded read reaches the end.
pub async fn counts_are_exact_for_every_filter_through_writes(store: Arc<dyn Store>) {
    let all = churned(store.as_ref()).await;
    for filter in filters(&Values::of(&all)) {
        let truth = all.iter().filter(|f| belongs(&filter, f)).count() as u64;
        let c = store.count(&filter).await.unwrap();
        assert!(c.exact, "{filter:?}: {c:?}");
        assert_eq!(c.total, truth, "{filter:?}");
        assert_eq!((c.low, c.high), (truth, truth), "{filter:?}");
    }
}

/// With a store that may read only a few rows per count (`budget` of them),
/// the counted filters stay exact and every other count is exact or an
/// estimate whose bound holds the truth. Returns how many were estimates.
pub async fn estimates_stay_within_their_bound(store: Arc<dyn Store>) -> usize {
    let all = churned(store.as_ref()).await;
    let mut estimates = 0;
    for filter in filters(&Values::of(&all)) {
        let truth = all.iter().filter(|f| belongs(&filter, f)).count() as u64;
        let c = store.count(&filter).await.unwrap();
        let residual = filter.q.is_some() || filter.since.is_some() || filter.until.is_some();
        if !residual || c.exact {
            assert!(c.exact, "{filter:?}: {c:?}");
            assert_eq!(c.total, truth, "{filter:?}");
            continue;
        }
        estimates += 1;
        assert!(
            c.low <= truth && truth <= c.high,
            "{filter:?}: {truth} {c:?}"
        );
        assert!(c.low <= c.total && c.total <= c.high, "{filter:?}: {c:?}");
    }
    estimates
}
