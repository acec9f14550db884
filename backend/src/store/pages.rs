//! Walking a whole filtered set as pages of whole findings, newest first: how an
//! export reads the store ([`crate::store::Store::finding_pages`]). The default
//! walk asks for one page after another through [`Store::list_findings`]; a
//! store that can read further ahead (SQLite: rows on one thread while earlier
//! pages decode on others) overrides it.

use super::{Store, StoreError, StoreResult};
use futures::stream::BoxStream;
use futures::StreamExt;
use shared_types::{Finding, FindingFilter};
use std::sync::Arc;

/// Pages of whole findings, in order; at least one (an empty set is one empty
/// page), and nothing after an error.
pub type FindingPages = BoxStream<'static, StoreResult<Vec<Finding>>>;

/// Where a walk over the pages is.
enum Position {
    /// Nothing read yet.
    Start,
    /// The next page starts at this cursor.
    Next(String),
    /// The last page was read.
    Done,
}

/// Every page of the set `filter` selects, `page` findings each, read one
/// after another through [`Store::list_findings`].
pub fn walk<S: Store + ?Sized + 'static>(
    store: Arc<S>,
    filter: FindingFilter,
    page: u32,
) -> FindingPages {
    let filter = Arc::new(filter);
    futures::stream::try_unfold(Position::Start, move |position| {
        let (store, filter) = (store.clone(), filter.clone());
        async move {
            let cursor = match position {
                Position::Start => None,
                Position::Next(c) => Some(c),
                Position::Done => return Ok::<_, StoreError>(None),
            };
            let found = store
                .list_findings(&filter, page, cursor.as_deref())
                .await?;
            let next = found.next_cursor.map_or(Position::Done, Position::Next);
            Ok(Some((found.findings, next)))
        }
    })
    .boxed()
}
