//! The whole filtered set for an export, read ahead
//! ([`crate::store::Store::finding_pages`]): one blocking thread reads the rows
//! page after page on a connection of its own, while the pages before decode on
//! the blocking pool, two at once, and come out in order. Reading rows (one
//! thread: SQLite) and decoding them (zstd, then JSON: most of the work) overlap,
//! so both cores stay busy instead of taking turns.

use super::connect::connect;
use super::list::{self, DocRow};
use super::StoreResult;
use crate::store::FindingPages;
use futures::StreamExt;
use rusqlite::Connection;
use shared_types::FindingFilter;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc::Sender;

/// Pages of rows read ahead of the decoding ones. Rows are the compressed
/// documents (about 1 KB a finding), so they weigh little next to a decoded page.
const ROWS_AHEAD: usize = 2;

/// Pages decoded at once (each on up to two blocking threads, see
/// [`list::decode_rows`]).
const DECODING: usize = 2;

/// The walk's page cache, in KiB. Each page of the table is read once, so a
/// large cache (a reader connection's is 32 MB) would only add to the export's
/// memory; the index's inner pages fit in this.
const WALK_CACHE_KIB: i64 = 2_000;

/// Every page of the set `filter` selects in the database at `path`, `page`
/// findings each, newest first (`raw` left `null` unless `with_raw`); at least
/// one, nothing after an error.
pub(super) fn finding_pages(
    path: PathBuf,
    filter: FindingFilter,
    page: u32,
    with_raw: bool,
) -> FindingPages {
    let (tx, rx) = tokio::sync::mpsc::channel(ROWS_AHEAD);
    tokio::task::spawn_blocking(move || read_rows(&path, &filter, page, &tx));
    let mut failed = false;
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) })
        .map(move |rows: StoreResult<Vec<DocRow>>| async move {
            list::decode_rows(rows?, with_raw).await
        })
        .buffered(DECODING)
        // A page decoded after one that failed is not handed out.
        .take_while(move |page| {
            let go = !failed;
            failed |= page.is_err();
            std::future::ready(go)
        })
        .boxed()
}

/// The walk's own connection, with a small page cache.
fn walk_connection(path: &Path) -> StoreResult<Connection> {
    let conn = connect(path)?;
    conn.pragma_update(None, "cache_size", -WALK_CACHE_KIB)?;
    Ok(conn)
}

/// Reads the rows page after page into `tx` until the last page, an error
/// (sent, then the end), or the reader dropping the stream.
fn read_rows(
    path: &Path,
    filter: &FindingFilter,
    page: u32,
    tx: &Sender<StoreResult<Vec<DocRow>>>,
) {
    let conn = match walk_connection(path) {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return;
        }
    };
    let mut cursor: Option<String> = None;
    loop {
        match list::list_findings(&conn, filter, page, cursor.as_deref()) {
            Ok((rows, next)) => {
                if tx.blocking_send(Ok(rows)).is_err() {
                    return; // nobody reads any more (an HTTP client gone)
                }
                match next {
                    Some(n) => cursor = Some(n),
                    None => return,
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
}
