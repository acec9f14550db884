//! The random values of the authorization code flow. PKCE (RFC 7636) binds the code to
//! this sign-in: only the holder of the verifier can redeem it. `state` ties the
//! callback to the browser that started it (CSRF on the callback); `nonce` ties the ID
//! token to it (replay). All come from the thread-local CSPRNG (ChaCha, seeded and
//! reseeded from the operating system).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// 32 random bytes: 256 bits, the RFC's recommendation, 43 base64url characters.
const RANDOM_BYTES: usize = 32;

/// A PKCE code verifier (kept server-side; `Debug` does not show it).
#[derive(Clone, PartialEq, Eq)]
pub struct PkceVerifier(String);

/// A verifier that is not 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("PKCE verifier must be 43 to 128 unreserved characters")]
pub struct BadVerifier;

impl PkceVerifier {
    /// A fresh verifier from the CSPRNG.
    pub fn generate() -> Self {
        PkceVerifier(random_token())
    }

    /// A verifier kept earlier (from the session store), checked for shape.
    pub fn parse(value: &str) -> Result<Self, BadVerifier> {
        let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
        if (43..=128).contains(&value.len()) && value.chars().all(unreserved) {
            Ok(PkceVerifier(value.to_string()))
        } else {
            Err(BadVerifier)
        }
    }

    /// The verifier, for the token request.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The S256 challenge for the authorization request.
    pub fn challenge(&self) -> String {
        challenge_s256(&self.0)
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// `BASE64URL(SHA256(ASCII(verifier)))`, the `S256` method.
pub fn challenge_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A fresh `state` for an authorization request.
pub fn random_state() -> String {
    random_token()
}

/// A fresh `nonce` for an authorization request.
pub fn random_nonce() -> String {
    random_token()
}

/// Compares a kept value with one that came back, in time independent of where they
/// differ (a `state` or `nonce` must not be guessable byte by byte).
pub fn secrets_match(expected: &str, got: &str) -> bool {
    let (a, b) = (expected.as_bytes(), got.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_token() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B: the 32 octets, the verifier they encode, and its challenge.
    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = URL_SAFE_NO_PAD.encode(octets);
        assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            challenge_s256(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let parsed = PkceVerifier::parse(&verifier).unwrap();
        assert_eq!(
            parsed.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_values_are_well_formed_and_distinct() {
        let v = PkceVerifier::generate();
        assert_eq!(v.as_str().len(), 43);
        assert_eq!(PkceVerifier::parse(v.as_str()), Ok(v.clone()));
        assert_ne!(PkceVerifier::generate(), v);
        assert_ne!(random_state(), random_state());
        assert_ne!(random_nonce(), random_nonce());
        assert_eq!(format!("{v:?}"), "PkceVerifier([redacted])");
    }

    #[test]
    fn verifiers_of_the_wrong_shape_are_refused() {
        assert_eq!(PkceVerifier::parse(&"a".repeat(42)), Err(BadVerifier));
        assert_eq!(PkceVerifier::parse(&"a".repeat(129)), Err(BadVerifier));
        assert_eq!(
            PkceVerifier::parse(&format!("{}+", "a".repeat(43))),
            Err(BadVerifier)
        );
        assert!(PkceVerifier::parse(&"a.~_-".repeat(9)).is_ok());
    }

    #[test]
    fn secrets_match_only_when_equal() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abc", "abd"));
        assert!(!secrets_match("abc", "abcd"));
        assert!(!secrets_match("", "a"));
    }
}
