//! The position inside a DynamoDB paging cursor: per severity partition, where to
//! resume (the partition's `LastEvaluatedKey`, or the key of the last row returned).
//!
//! The envelope (scope, integrity check, base64url) is the shared one in
//! [`crate::store::cursor`]; this module validates the position it carries, so
//! nothing a client sends reaches DynamoDB as a key unchecked.

use super::item::is_sort_key;
use crate::store::cursor as envelope;
use crate::store::StoreError;
use serde::{Deserialize, Serialize};
use shared_types::Severity;
use std::collections::BTreeMap;

/// Longest id accepted inside a cursor key.
const MAX_ID_LEN: usize = 256;

/// A position in one partition of the GSI.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// `updated_at` sort key.
    pub u: String,
    /// Finding id.
    pub id: String,
}

/// Where a partition resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pos {
    /// From the beginning.
    Start,
    /// After this key.
    After(Key),
    /// Nothing left.
    Done,
}

/// The scope of a query: its kind and parameters (a cursor only works for the
/// query that produced it).
pub fn fingerprint(kind: &str, params: &impl Serialize) -> String {
    envelope::scope_of(&(kind, params))
}

/// Encodes the positions of every partition.
pub fn encode(scope: &str, positions: &BTreeMap<Severity, Pos>) -> String {
    // A map of enums and strings always serializes.
    envelope::encode(scope, serde_json::to_value(positions).unwrap_or_default())
}

/// Decodes and validates a cursor for `scope` over `partitions`.
pub fn decode(
    cursor: &str,
    scope: &str,
    partitions: &[Severity],
) -> Result<BTreeMap<Severity, Pos>, StoreError> {
    let raw = envelope::decode(cursor, scope)?;
    let positions: BTreeMap<Severity, Pos> = serde_json::from_value(raw)
        .map_err(|_| StoreError::InvalidCursor("cursor position is malformed"))?;
    let mut want: Vec<Severity> = partitions.to_vec();
    want.sort();
    if positions.keys().copied().collect::<Vec<_>>() != want {
        return Err(StoreError::InvalidCursor(
            "cursor belongs to a query with other filters",
        ));
    }
    for pos in positions.values() {
        if let Pos::After(k) = pos {
            let id_ok = !k.id.is_empty()
                && k.id.len() <= MAX_ID_LEN
                && !k.id.starts_with('#')
                && !k.id.chars().any(char::is_control);
            if !id_ok || !is_sort_key(&k.u) {
                return Err(StoreError::InvalidCursor("cursor position is malformed"));
            }
        }
    }
    Ok(positions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_position_the_store_makes_fits_a_cursor() {
        // Every severity partition resuming after a key: a sort-key time and a
        // short id (the table's partition key), the longest either can be.
        let key = Key {
            u: crate::store::dynamo::item::sort_key(chrono::Utc::now()),
            id: "x".repeat(crate::ids::SHORT_ID_LEN),
        };
        let positions: BTreeMap<Severity, Pos> = Severity::ALL_DESC
            .iter()
            .map(|s| (*s, Pos::After(key.clone())))
            .collect();
        let cursor = encode("scope", &positions);
        assert!(
            cursor.len() < envelope::MAX_CURSOR_LEN / 2,
            "{} bytes",
            cursor.len()
        );
        assert_eq!(
            decode(&cursor, "scope", &Severity::ALL_DESC).unwrap(),
            positions
        );
    }

    #[test]
    fn positions_round_trip_and_bad_ones_are_rejected() {
        let parts = [Severity::High, Severity::Critical];
        let mut p = BTreeMap::new();
        p.insert(Severity::High, Pos::Done);
        let key = Key {
            u: "2024-05-01T00:00:00.000000Z".into(),
            id: "abc".into(),
        };
        p.insert(Severity::Critical, Pos::After(key));
        let c = encode("q1", &p);
        assert_eq!(decode(&c, "q1", &parts).unwrap(), p);
        assert!(decode(&c, "q2", &parts).is_err());
        assert!(decode(&c, "q1", &[Severity::High]).is_err());
        let mut bad = p.clone();
        bad.insert(
            Severity::High,
            Pos::After(Key {
                u: "yesterday".into(),
                id: "abc".into(),
            }),
        );
        assert!(decode(&encode("q1", &bad), "q1", &parts).is_err());
    }
}
