//! Every finding that makes one control fail, page by page: what a drill-down
//! shows past the [`shared_types::MAX_FAILING_RESOURCES`] a standard's report
//! lists, and what the dashboard's control page reads.
//!
//! The ids come from the results the store keeps per control
//! ([`Store::failing_findings`]), else from a read of every finding (the same
//! fallback as the report, [`super::daily::read_report`]); each page's
//! findings are then read by id.

use super::control::memberships;
use super::score::{verdict, Verdict};
use crate::store::{Store, StoreResult};
use futures::{stream, StreamExt, TryStreamExt};
use shared_types::{FailingFindings, FindingFilter, FindingListItem};

/// Findings read by id at once for a page.
const READS_IN_FLIGHT: usize = 16;
/// Findings per page of the fallback's read of every finding.
const SCAN_PAGE: u32 = 1000;

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
    let mut ids = match store
        .failing_findings(slug, control_id, after, limit + 1)
        .await?
    {
        Some(ids) => ids,
        None => read_failing(store, slug, control_id, after, limit + 1).await?,
    };
    let more = ids.len() > limit;
    ids.truncate(limit);
    let next_after = more.then(|| ids.last().cloned()).flatten();
    let items: Vec<Option<FindingListItem>> = stream::iter(ids)
        .map(|id| async move {
            let found = store.get(&id).await?;
            StoreResult::Ok(found.map(|d| FindingListItem::from(&d.finding)))
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
/// `limit`. Cost grows with the store (one pass); only the ids are held.
pub async fn read_failing(
    store: &dyn Store,
    slug: &str,
    control_id: &str,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<String>> {
    let filter = FindingFilter::default();
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list_findings(&filter, SCAN_PAGE, cursor.as_deref())
            .await?;
        ids.extend(
            page.findings
                .iter()
                .filter(|f| after.is_none_or(|a| f.id.as_str() > a))
                .filter(|f| verdict(f) == Verdict::Fail)
                .filter(|f| {
                    memberships(f)
                        .iter()
                        .any(|m| m.standard.slug == slug && m.control_id == control_id)
                })
                .map(|f| f.id.clone()),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(limit);
    Ok(ids)
}
