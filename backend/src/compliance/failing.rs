//! Every finding that makes one control fail, page by page: what a drill-down
//! shows past the [`shared_types::MAX_FAILING_RESOURCES`] a standard's report
//! lists, and what the dashboard's control page reads.
//!
//! The ids come from the results the store keeps per control
//! ([`Store::failing_findings`]), else from a read of every finding (the same
//! fallback as the report, [`super::daily::read_report`]); each page's
//! findings are then read by id.

use super::control::memberships;
use super::daily::each_finding;
use super::score::{verdict, Verdict};
use crate::store::{Store, StoreResult};
use futures::{stream, StreamExt, TryStreamExt};
use shared_types::{FailingFindings, Finding, FindingListItem};
use std::collections::BTreeSet;

/// Findings read by id at once for a page.
const READS_IN_FLIGHT: usize = 16;

/// The page of control `control_id` of standard `slug` after finding id
/// `after`, at most `limit` findings (the caller bounds it).
pub async fn failing_page(
    store: &dyn Store,
    slug: &str,
    control_id: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<FailingFindings> {
    // One more than asked says whether a next page exists.
    let asked = limit.saturating_add(1);
    let mut ids = match store
        .failing_findings(slug, control_id, after, asked)
        .await?
    {
        Some(ids) => ids,
        None => read_failing(store, slug, control_id, after, asked).await?,
    };
    let more = ids.len() > limit;
    ids.truncate(limit);
    // From the ids, not the findings shown: paging goes on past the ones left out.
    let next_after = more.then(|| ids.last().cloned()).flatten();
    let items: Vec<Option<FindingListItem>> = stream::iter(ids)
        .map(|id| async move {
            let found = store.get(&id).await?;
            // Changed since the ids were read (suppressed, passing, archived;
            // DynamoDB's index follows its table within about a second): a
            // finding is listed only while it still fails the control.
            StoreResult::Ok(
                found
                    .filter(|d| fails_control(&d.finding, slug, control_id))
                    .map(|d| FindingListItem::from(&d.finding)),
            )
        })
        .buffered(READS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(FailingFindings {
        items: items.into_iter().flatten().collect(),
        next_after,
    })
}

/// The same ids from a read of every finding: those whose verdict fails and
/// that are results of the control, after `after`, smallest first, at most
/// `limit`. Cost grows with the store: one pass for each page (only a store
/// that keeps no results per control comes here); only the page's ids are
/// held.
pub async fn read_failing(
    store: &dyn Store,
    slug: &str,
    control_id: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<String>> {
    // The `limit` smallest so far: memory stays bounded by the page.
    let mut ids = BTreeSet::new();
    each_finding(store, |f| {
        if after.is_none_or(|a| f.id.as_str() > a) && fails_control(f, slug, control_id) {
            ids.insert(f.id.clone());
            if ids.len() > limit {
                ids.pop_last();
            }
        }
    })
    .await?;
    Ok(ids.into_iter().collect())
}

/// Whether `f` is a failing result of control `control_id` of `slug` (what
/// the control's `failed` count counts).
pub fn fails_control(f: &Finding, slug: &str, control_id: &str) -> bool {
    verdict(f) == Verdict::Fail
        && memberships(f)
            .iter()
            .any(|m| m.standard.slug == slug && m.control_id == control_id)
}
