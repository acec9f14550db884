//! Opaque paging cursors shared by every store.
//!
//! A cursor is `base64url(json{"s": scope, "p": position, "c": check})`. The scope
//! ties it to the query that produced it (a cursor replayed with other filters is
//! rejected rather than silently skipping rows); the check detects corruption and
//! casual tampering. Positions are store-specific JSON (SQLite: the last row's sort
//! key; DynamoDB: its `LastEvaluatedKey`), and each store re-validates the shape of
//! its position after decoding.

use super::StoreError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Longest cursor accepted (bounds decoding work on hostile input).
pub const MAX_CURSOR_LEN: usize = 2048;

#[derive(Serialize, Deserialize)]
struct Envelope {
    s: String,
    p: serde_json::Value,
    c: String,
}

fn check(scope: &str, position: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(b"cspm-cursor-v1\0");
    h.update(scope.as_bytes());
    h.update([0u8]);
    h.update(position.to_string().as_bytes());
    URL_SAFE_NO_PAD.encode(&h.finalize()[..12])
}

/// A stable scope string for a query: equal filters give equal scopes.
pub fn scope_of(parts: &impl Serialize) -> String {
    let json = serde_json::to_vec(parts).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(&Sha256::digest(&json)[..9])
}

/// Wraps a store position into an opaque cursor for `scope`.
pub fn encode(scope: &str, position: serde_json::Value) -> String {
    let c = check(scope, &position);
    let env = Envelope {
        s: scope.to_string(),
        p: position,
        c,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&env).unwrap_or_default())
}

/// Unwraps a cursor produced by [`encode`] for the same `scope`.
pub fn decode(cursor: &str, scope: &str) -> Result<serde_json::Value, StoreError> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(StoreError::InvalidCursor("cursor is too long"));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| StoreError::InvalidCursor("cursor is not valid base64url"))?;
    let env: Envelope = serde_json::from_slice(&bytes)
        .map_err(|_| StoreError::InvalidCursor("cursor is malformed"))?;
    if env.c != check(&env.s, &env.p) {
        return Err(StoreError::InvalidCursor(
            "cursor failed its integrity check",
        ));
    }
    if env.s != scope {
        return Err(StoreError::InvalidCursor(
            "cursor belongs to a query with other filters",
        ));
    }
    Ok(env.p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursor_round_trips_within_its_scope_only() {
        let c = encode("a", json!({"u": 5, "i": "x"}));
        assert_eq!(decode(&c, "a").unwrap(), json!({"u": 5, "i": "x"}));
        assert!(matches!(decode(&c, "b"), Err(StoreError::InvalidCursor(_))));
    }

    #[test]
    fn tampered_or_garbage_cursors_are_rejected() {
        let c = encode("a", json!({"u": 5}));
        let mut env: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&c).unwrap()).unwrap();
        env["p"]["u"] = json!(6);
        let forged = URL_SAFE_NO_PAD.encode(env.to_string());
        assert!(decode(&forged, "a").is_err());
        assert!(decode("%%%", "a").is_err());
        assert!(decode(&"A".repeat(MAX_CURSOR_LEN + 1), "a").is_err());
        assert!(decode("", "a").is_err());
    }
}
