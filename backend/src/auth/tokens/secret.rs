//! Making tokens and hashing them. A token is 32 random bytes (256 bits) from the
//! OS-seeded CSPRNG, so a plain SHA-256 (no salt, no stretching) is enough to
//! store it: nothing can be guessed, and lookups stay one indexed read.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every named token starts with this, so secret scanners and people can tell
/// what a leaked string is.
pub const PREFIX: &str = "cspm_";

/// Longest token name.
pub const MAX_NAME_LEN: usize = 64;

/// A new token: [`PREFIX`] then 32 random bytes, base64url without padding.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The SHA-256 of a token: what is stored and looked up.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Hashes `token`.
    pub fn of(token: &str) -> Self {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }

    /// Lowercase hex, as stored.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for TokenHash {
    // Only a prefix: enough to correlate, and hashes in logs are still needless.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

/// True for a name `cspm tokens` accepts: 1 to [`MAX_NAME_LEN`] ASCII letters,
/// digits, `.`, `_` or `-` (names appear in the audit trail and in shells).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_of_the_token_text() {
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            TokenHash::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tokens_are_prefixed_url_safe_and_distinct() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX));
        assert_eq!(a.len(), PREFIX.len() + 43);
        assert!(a[PREFIX.len()..]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn names_are_short_and_shell_safe() {
        for ok in ["ci", "eventbridge-prod", "a.b_c-1", &"x".repeat(64)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "has space", "semi;colon", "é", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
