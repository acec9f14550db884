//! The `doc` column: a finding's document in [`doc_codec`]'s compressed form (rows
//! then share pages instead of filling one each, which roughly halves the bytes
//! ingest writes, WAL and checkpoint, the limit on this kind of machine). Databases
//! written before compression hold JSON text; both forms are read.

use super::error::corrupt;
use super::StoreResult;
use crate::store::doc_codec;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use shared_types::Finding;

/// The stored bytes of `f` ([`doc_codec::encode`]).
pub(super) fn encode(f: &Finding) -> StoreResult<Vec<u8>> {
    doc_codec::encode(f).map_err(|e| corrupt(&f.id, e))
}

/// The stored bytes of `f` with the bookkeeping of `with` ([`doc_codec::encode_recorded`]).
pub(super) fn encode_recorded(f: &Finding, with: &doc_codec::Recorded) -> StoreResult<Vec<u8>> {
    doc_codec::encode_recorded(f, with).map_err(|e| corrupt(&f.id, e))
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
    doc_codec::decode(bytes).map_err(|e| corrupt(id, e))
}

/// The JSON inside bytes [`encode`] produced.
fn decompress(id: &str, bytes: &[u8]) -> StoreResult<Vec<u8>> {
    doc_codec::decompress(bytes).map_err(|e| corrupt(id, e))
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

    #[test]
    fn without_raw_every_field_but_the_raw_document_is_read() {
        let f = crate::demo::generate(1, crate::demo::default_anchor(), 5)
            .next()
            .unwrap();
        assert!(f.raw.is_object());
        let bytes = encode(&f).unwrap();
        let lean = shared_types::without_raw(|| decode(&f.id, &bytes)).unwrap();
        assert_eq!(lean.raw, serde_json::Value::Null);
        assert_eq!(
            shared_types::Finding {
                raw: f.raw.clone(),
                ..lean
            },
            f
        );
        // Only inside: the same thread reads whole findings again afterwards.
        assert_eq!(decode(&f.id, &bytes).unwrap(), f);
        // A malformed document still fails, raw part included.
        let mut json = serde_json::to_string(&f).unwrap();
        json = json.replace("\"raw\":{", "\"raw\":{\"cut\":");
        let bad = shared_types::without_raw(|| StoredDoc::Json(json).decode(&f.id));
        assert!(bad.is_err());
    }
}
