//! The finding's key. Findings are keyed by `short_id(product, provider's id)`
//! whatever their format; for OCSF the product is `metadata.product.uid` and the
//! provider's id `finding_info.uid` — except in a finding we exported, where
//! `finding_info.uid` already is our key and the provider's id travels in
//! `unmapped.asff_id`. That claim is believed only when it checks out: the key must
//! be exactly what the product and the provider's id hash to. So an export read back
//! lands on the finding it came from, and no document can claim an existing key
//! without the two values that key is made of (which would make it the same finding
//! however it arrived).

use super::fields;
use crate::ids::{is_short_id, short_id};
use serde_json::Value;

/// Where the provider's id travels in an OCSF finding we exported (`Unmapped` in
/// `export/ocsf.rs`; the export round-trip test holds the two together).
const EXPORTED_ASFF_ID: &str = "/unmapped/asff_id";

/// A finding's id and its provider's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    /// Our short id.
    pub id: String,
    /// The provider's own id (ASFF `Id`, OCSF `finding_info.uid`).
    pub asff_id: String,
    /// Whether the finding is one we exported (its key checked out).
    pub ours: bool,
}

/// The identity of the finding `f` whose product key and `finding_info.uid` are
/// given.
pub(super) fn resolve(f: &Value, product: &str, uid: &str) -> Identity {
    if is_short_id(uid) {
        if let Some(asff_id) = fields::text(f, EXPORTED_ASFF_ID) {
            if short_id(product, &asff_id) == uid {
                return Identity {
                    id: uid.to_string(),
                    asff_id,
                    ours: true,
                };
            }
        }
    }
    Identity {
        id: short_id(product, uid),
        asff_id: uid.to_string(),
        ours: false,
    }
}
