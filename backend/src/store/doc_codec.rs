//! A finding's stored document (the whole `Finding`, raw provider document included)
//! as zstd-compressed JSON, the form both stores keep: about a third of the bytes.
//! In SQLite rows share pages instead of filling one each; in DynamoDB an item costs
//! fewer write units, and the request carries bytes instead of a JSON string escaped
//! inside JSON. Each store reads its older, uncompressed form too.

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

mod recorded;
pub use recorded::Recorded;

/// The stored bytes of `f`. Fails only if `f` does not serialize (a map with
/// non-string keys) or zstd cannot allocate; the message says which.
pub fn encode(f: &Finding) -> Result<Vec<u8>, String> {
    let json = serde_json::to_vec(f).map_err(|e| e.to_string())?;
    compress(&json)
}

/// The stored bytes of `f` as a store records it: with the status, who set it and
/// the revision of `with` in place of its own (see [`Recorded`]).
pub fn encode_recorded(f: &Finding, with: &Recorded) -> Result<Vec<u8>, String> {
    compress(&with.to_json(f).map_err(|e| e.to_string())?)
}

/// zstd of `bytes` at [`LEVEL`], with the content size in the frame (which
/// [`decompress`] relies on).
fn compress(bytes: &[u8]) -> Result<Vec<u8>, String> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(c) => c,
            None => {
                slot.insert(zstd::bulk::Compressor::new(LEVEL).map_err(|e| format!("zstd: {e}"))?)
            }
        };
        compressor.compress(bytes).map_err(|e| format!("zstd: {e}"))
    })
}

/// The finding in bytes [`encode`] produced.
pub fn decode(bytes: &[u8]) -> Result<Finding, String> {
    serde_json::from_slice(&decompress(bytes)?).map_err(|e| format!("bad document: {e}"))
}

/// The JSON inside bytes [`encode`] produced (its frames record their size).
pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let bad = |e: String| format!("bad document: {e}");
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
    fn a_document_round_trips_in_under_half_its_json_size() {
        let f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
            .next()
            .unwrap();
        let bytes = encode(&f).unwrap();
        let json = serde_json::to_vec(&f).unwrap();
        assert!(
            bytes.len() * 2 < json.len(),
            "{} vs {}",
            bytes.len(),
            json.len()
        );
        assert_eq!(decode(&bytes).unwrap(), f);
        assert_eq!(decompress(&bytes).unwrap(), json);
    }

    #[test]
    fn bytes_that_are_not_a_document_are_refused_with_a_reason() {
        assert!(decode(b"not zstd").unwrap_err().starts_with("bad document"));
        let not_json = compress(b"{\"id\":").unwrap();
        assert!(decode(&not_json).unwrap_err().starts_with("bad document"));
    }
}
