//! The short id: ASFF ids are long ARNs full of `/` and `:` that break URL paths and
//! API Gateway path parameters, so every finding gets a compact stable key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Length of a short id in characters (16 bytes of SHA-256, base64url without padding).
pub const SHORT_ID_LEN: usize = 22;

/// Derives the finding's short id from its `ProductArn` and ASFF `Id`.
///
/// The same pair always gives the same id; 128 bits of SHA-256 make collisions
/// negligible. The separator keeps `("a","bc")` and `("ab","c")` apart.
pub fn short_id(product_arn: &str, asff_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(product_arn.as_bytes());
    h.update([0u8]);
    h.update(asff_id.as_bytes());
    let digest = h.finalize();
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// True when `s` has the shape of a short id (checked before any store look-up).
pub fn is_short_id(s: &str) -> bool {
    s.len() == SHORT_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_id_is_stable_url_safe_and_separates_fields() {
        let a = short_id(
            "arn:aws:securityhub:us-east-1::product/aws/securityhub",
            "arn:x/y:z",
        );
        assert_eq!(
            a,
            short_id(
                "arn:aws:securityhub:us-east-1::product/aws/securityhub",
                "arn:x/y:z"
            )
        );
        assert!(is_short_id(&a), "{a}");
        assert_ne!(short_id("a", "bc"), short_id("ab", "c"));
        assert!(!is_short_id("../etc/passwd"));
    }
}
