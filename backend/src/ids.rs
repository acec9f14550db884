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

    /// `(ProductArn, Id, short id)` of real findings in `../shared/corpus/asff/`
    /// (Access Analyzer, Prowler, AWS Health). The ids were computed apart from this
    /// code, with Python: `base64.urlsafe_b64encode(hashlib.sha256(arn.encode() +
    /// b"\x00" + id.encode()).digest()[:16]).rstrip(b"=")`. Stored findings are keyed
    /// on these: if this test fails, every existing id would change.
    const KNOWN: [(&str, &str, &str); 3] = [
        (
            "arn:aws:securityhub:us-west-2::product/aws/access-analyzer",
            "arn:aws:access-analyzer:us-west-2:111122223333:analyzer/my-analyzer/arn:aws:s3:::my-bucket",
            "vybP2kGwg7qNZ03quLGd2w",
        ),
        (
            "arn:aws:securityhub:eu-west-1::product/prowler/prowler",
            "prowler-rds_instance_minor_version_upgrade_enabled-ACCOUNT_ID-eu-west-1-b1ade474a",
            "DvB9qLQLre_xxpflfSKxsA",
        ),
        (
            "arn:aws:securityhub:us-east-1::product/aws/health",
            "arn:aws:health:us-east-1:123456789012:event/SES/AWS_SES_CMF_PENDING_TO_SUCCESS/AWS_SES_CMF_PENDING_TO_SUCCESS_303388638044_33fe2115-8dad-40ce-b533-78e29f49de96/101F7FBAEFC663977DA09CFF56A29236602834D2D361E6A8CA5140BFB3A69B30",
            "-3gtbqGa-MXAMnZsE6wHRw",
        ),
    ];

    #[test]
    fn short_ids_of_real_findings_match_independently_computed_vectors() {
        for (product_arn, asff_id, expected) in KNOWN {
            assert_eq!(short_id(product_arn, asff_id), expected, "{asff_id}");
            assert!(is_short_id(expected), "{expected}");
        }
    }

    #[test]
    fn short_id_separates_fields_and_rejects_other_shapes() {
        assert_ne!(short_id("a", "bc"), short_id("ab", "c"));
        assert!(!is_short_id("../etc/passwd"));
        assert!(!is_short_id("vybP2kGwg7qNZ03quLGd2")); // one short
        assert!(!is_short_id("vybP2kGwg7qNZ03quLGd2w="));
    }
}
