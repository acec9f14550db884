//! The hash chain: how a line is written and how it is checked. Pure functions over
//! bytes, shared by every writer (local files, S3) and by `cspm audit verify`.
//!
//! A line is one JSON object whose first field is `seq` (1, 2, 3… over the whole
//! log) and whose last two are `prev` and `hash`:
//!
//! ```text
//! {"seq":42,"logged_at":"2026-06-01T12:00:00.000001Z","event":"workflow_changed",…,"prev":"<hex>","hash":"<hex>"}
//! ```
//!
//! - `prev` is the SHA-256 of the previous line (its bytes without the newline);
//!   the first line of a day carries the last line of the day before, the very
//!   first line 64 zeros. Changing, removing or reordering any line breaks the link
//!   of the line after it.
//! - `hash` is the SHA-256 of the line itself without its `hash` field (the bytes
//!   before `,"hash":` followed by `}`): a changed byte is pinned to the line it is
//!   in, not only to the next one.
//!
//! Lines are read back by position (`{"seq":` at the start, the two hashes in a
//! fixed-size tail), so checking a line costs two SHA-256 and no JSON parsing.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

/// A SHA-256.
pub type Hash = [u8; 32];

/// Where the chain ends: the last line's `seq` and SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// `seq` of the last line (0 before the first).
    pub seq: u64,
    /// SHA-256 of the last line (zeros before the first).
    pub hash: Hash,
}

impl Head {
    /// Before the first line.
    pub const GENESIS: Head = Head {
        seq: 0,
        hash: [0; 32],
    };

    /// The hash as lowercase hex.
    pub fn hex(&self) -> String {
        hex::encode(self.hash)
    }

    /// A head from its stored form.
    pub fn from_hex(seq: u64, hash: &str) -> Option<Head> {
        let mut h = [0u8; 32];
        hex::decode_to_slice(hash, &mut h).ok()?;
        Some(Head { seq, hash: h })
    }
}

const SEQ_PREFIX: &[u8] = b"{\"seq\":";
const PREV_FIELD: &[u8] = b",\"prev\":\"";
const HASH_FIELD: &[u8] = b",\"hash\":\"";
/// `,"hash":"<64 hex>"}`
const HASH_TAIL: usize = HASH_FIELD.len() + 64 + 2;
/// `,"prev":"<64 hex>"`
const PREV_TAIL: usize = PREV_FIELD.len() + 64 + 1;

/// The timestamp format of `logged_at` (UTC, microseconds).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Appends the lines of `records` (each a serialized JSON object without `seq`,
/// `logged_at`, `prev` or `hash`) after `head` to `out`, newline-terminated;
/// returns the new head.
pub fn link<S: AsRef<str>>(
    head: Head,
    records: &[S],
    logged_at: DateTime<Utc>,
    out: &mut Vec<u8>,
) -> Head {
    let ts = timestamp(logged_at);
    let mut head = head;
    let mut hex_buf = [0u8; 64];
    for r in records {
        let fields = r.as_ref().trim();
        let fields = fields
            .strip_prefix('{')
            .and_then(|f| f.strip_suffix('}'))
            .unwrap_or(fields);
        let start = out.len();
        out.extend_from_slice(SEQ_PREFIX);
        out.extend_from_slice((head.seq + 1).to_string().as_bytes());
        out.extend_from_slice(b",\"logged_at\":\"");
        out.extend_from_slice(ts.as_bytes());
        out.push(b'"');
        if !fields.is_empty() {
            out.push(b',');
            out.extend_from_slice(fields.as_bytes());
        }
        out.extend_from_slice(PREV_FIELD);
        hex_encode(&head.hash, &mut hex_buf);
        out.extend_from_slice(&hex_buf);
        out.push(b'"');
        let own = self_hash(&out[start..]);
        out.extend_from_slice(HASH_FIELD);
        hex_encode(&own, &mut hex_buf);
        out.extend_from_slice(&hex_buf);
        out.extend_from_slice(b"\"}");
        head = Head {
            seq: head.seq + 1,
            hash: Sha256::digest(&out[start..]).into(),
        };
        out.push(b'\n');
    }
    head
}

fn hex_encode(h: &Hash, buf: &mut [u8; 64]) {
    // hex::encode_to_slice only fails on a wrong output length.
    let _ = hex::encode_to_slice(h, buf);
}

/// SHA-256 of `body` followed by `}`: the line as it reads without its `hash`.
fn self_hash(body: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(body);
    h.update(b"}");
    h.finalize().into()
}

fn parse_hex(s: &[u8]) -> Option<Hash> {
    let mut h = [0u8; 32];
    if s.iter().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex::decode_to_slice(s, &mut h).ok()?;
    Some(h)
}

/// What one line says about the chain, once it checked out on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// Its `seq`.
    pub seq: u64,
    /// The previous line's SHA-256 it names.
    pub prev: Hash,
    /// Its own SHA-256 (what the next line must name).
    pub hash: Hash,
}

/// Checks one line on its own (its shape and its `hash`).
pub fn check_line(line: &[u8]) -> Result<Checked, &'static str> {
    let rest = line
        .strip_prefix(SEQ_PREFIX)
        .ok_or("does not start with {\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 || rest.get(digits) != Some(&b',') {
        return Err("seq is not a number");
    }
    let seq: u64 = std::str::from_utf8(&rest[..digits])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("seq is not a number")?;
    if line.len() < SEQ_PREFIX.len() + digits + PREV_TAIL + HASH_TAIL {
        return Err("too short for a chained line");
    }
    let (body, tail) = line.split_at(line.len() - HASH_TAIL);
    if !tail.starts_with(HASH_FIELD) || !tail.ends_with(b"\"}") {
        return Err("does not end with the hash field");
    }
    let own = parse_hex(&tail[HASH_FIELD.len()..HASH_FIELD.len() + 64])
        .ok_or("hash is not 64 lowercase hex digits")?;
    let prev_at = body.len() - PREV_TAIL;
    let prev_field = &body[prev_at..];
    if !prev_field.starts_with(PREV_FIELD) || !prev_field.ends_with(b"\"") {
        return Err("has no prev field before its hash");
    }
    let prev = parse_hex(&prev_field[PREV_FIELD.len()..PREV_FIELD.len() + 64])
        .ok_or("prev is not 64 lowercase hex digits")?;
    if self_hash(body) != own {
        return Err("its content does not match its hash (the line was altered)");
    }
    Ok(Checked {
        seq,
        prev,
        hash: Sha256::digest(line).into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn lines_link_to_the_previous_line_and_check_out_alone() {
        let mut out = Vec::new();
        let head = link(
            Head::GENESIS,
            &[r#"{"event":"a"}"#, r#"{"event":"b","note":"x\ny"}"#],
            at(),
            &mut out,
        );
        let text = String::from_utf8(out.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with(
            r#"{"seq":1,"logged_at":"2026-06-01T12:00:00.000000Z","event":"a","prev":"0000"#
        ));
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["seq"], 2);
        assert_eq!(v["note"], "x\ny");
        let first = check_line(lines[0].as_bytes()).unwrap();
        let second = check_line(lines[1].as_bytes()).unwrap();
        assert_eq!(first.prev, [0; 32]);
        assert_eq!(second.prev, first.hash);
        assert_eq!(
            v["prev"].as_str().unwrap(),
            hex::encode(Sha256::digest(lines[0].as_bytes()))
        );
        assert_eq!(
            head,
            Head {
                seq: 2,
                hash: second.hash
            }
        );
    }

    #[test]
    fn the_self_hash_is_pinned_by_a_known_vector() {
        let mut out = Vec::new();
        link(Head::GENESIS, &[r#"{"event":"a"}"#], at(), &mut out);
        let line = std::str::from_utf8(&out).unwrap().trim_end();
        // SHA-256 of the line without its hash field, computed independently
        // (Python hashlib) over:
        // {"seq":1,"logged_at":"2026-06-01T12:00:00.000000Z","event":"a","prev":"000…000"}
        let want = "f51c022ccbe34312fe01507acaade977cd710c053ef7553d8c5e84634fc8d94b";
        assert!(line.ends_with(&format!(r#","hash":"{want}"}}"#)), "{line}");
    }

    #[test]
    fn any_changed_byte_is_caught_on_its_own_line() {
        let mut out = Vec::new();
        link(
            Head::GENESIS,
            &[r#"{"event":"workflow_changed","to":"RESOLVED"}"#],
            at(),
            &mut out,
        );
        out.pop();
        for i in 0..out.len() {
            let mut bad = out.clone();
            bad[i] ^= 0x01;
            assert!(check_line(&bad).is_err(), "byte {i} flipped went unnoticed");
        }
    }
}
