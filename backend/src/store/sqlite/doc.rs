//! The stored form of a finding's document (the whole `Finding`, raw ASFF
//! included): its JSON compressed with zstd, about a third of the size. Rows then
//! share pages instead of filling one each, which roughly halves the bytes ingest
//! writes (WAL and checkpoint), the limit on this kind of machine. Databases
//! written before compression hold JSON text; both forms are read.

use super::error::corrupt;
use super::StoreResult;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use shared_types::Finding;
use std::cell::RefCell;

/// zstd level: 1 is the fastest; higher levels gain little on small JSON documents.
const LEVEL: i32 = 1;

thread_local! {
    /// One compression and one decompression context per thread, reused: creating
    /// one per document would cost more than the work itself.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The stored bytes of `f`.
pub(super) fn encode(f: &Finding) -> StoreResult<Vec<u8>> {
    let json = serde_json::to_vec(f).map_err(|e| corrupt(&f.id, e.to_string()))?;
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(
                zstd::bulk::Compressor::new(LEVEL)
                    .map_err(|e| corrupt(&f.id, format!("zstd: {e}")))?,
            ),
        };
        compressor
            .compress(&json)
            .map_err(|e| corrupt(&f.id, format!("zstd: {e}")))
    })
}

/// A `doc` column value as read: compressed (BLOB) or legacy JSON text.
pub(super) enum StoredDoc {
    /// zstd-compressed JSON.
    Compressed(Vec<u8>),
    /// JSON text (databases written before compression).
    Json(String),
}

impl FromSql for StoredDoc {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Blob(b) => Ok(StoredDoc::Compressed(b.to_vec())),
            ValueRef::Text(t) => String::from_utf8(t.to_vec())
                .map(StoredDoc::Json)
                .map_err(|e| FromSqlError::Other(Box::new(e))),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl StoredDoc {
    /// The document as JSON text, checked to be well-formed JSON (a syntax pass,
    /// far cheaper than building the finding) so an archive line always parses.
    pub(super) fn into_json(self, id: &str) -> StoreResult<String> {
        let bad = |e: String| corrupt(id, format!("bad document: {e}"));
        let json = match self {
            StoredDoc::Compressed(b) => {
                String::from_utf8(decompress(id, &b)?).map_err(|e| bad(e.to_string()))?
            }
            StoredDoc::Json(s) => s,
        };
        serde_json::from_str::<serde::de::IgnoredAny>(&json).map_err(|e| bad(e.to_string()))?;
        Ok(json)
    }

    /// The finding this document holds.
    pub(super) fn decode(&self, id: &str) -> StoreResult<Finding> {
        match self {
            StoredDoc::Compressed(b) => decode(id, b),
            StoredDoc::Json(s) => {
                serde_json::from_str(s).map_err(|e| corrupt(id, format!("bad document: {e}")))
            }
        }
    }
}

/// Decodes bytes [`encode`] produced.
pub(super) fn decode(id: &str, bytes: &[u8]) -> StoreResult<Finding> {
    serde_json::from_slice(&decompress(id, bytes)?)
        .map_err(|e| corrupt(id, format!("bad document: {e}")))
}

/// The JSON inside bytes [`encode`] produced (its frames record their size).
fn decompress(id: &str, bytes: &[u8]) -> StoreResult<Vec<u8>> {
    let bad = |e: String| corrupt(id, format!("bad document: {e}"));
    let size = zstd::bulk::Decompressor::upper_bound(bytes)
        .ok_or_else(|| bad("no zstd frame with a known size".into()))?;
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::new().map_err(|e| bad(e.to_string()))?),
        };
        decompressor
            .decompress(bytes, size)
            .map_err(|e| bad(e.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_and_legacy_text_still_reads() {
        let f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
            .next()
            .unwrap();
        let bytes = encode(&f).unwrap();
        let json = serde_json::to_string(&f).unwrap();
        assert!(
            bytes.len() * 2 < json.len(),
            "{} vs {}",
            bytes.len(),
            json.len()
        );
        assert_eq!(decode(&f.id, &bytes).unwrap(), f);
        assert_eq!(StoredDoc::Compressed(bytes).decode(&f.id).unwrap(), f);
        assert_eq!(StoredDoc::Json(json.clone()).decode(&f.id).unwrap(), f);
        assert_eq!(
            StoredDoc::Compressed(encode(&f).unwrap())
                .into_json(&f.id)
                .unwrap(),
            json
        );
        assert_eq!(
            StoredDoc::Json(json.clone()).into_json(&f.id).unwrap(),
            json
        );
        assert!(StoredDoc::Json("{\"cut".into()).into_json("x").is_err());
        assert!(StoredDoc::Compressed(b"not zstd".to_vec())
            .decode("x")
            .is_err());
    }
}
