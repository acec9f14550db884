//! Why a token was refused. Callers answer every variant with a plain 401 (the reason
//! is for the log, never for the client: telling an attacker which check failed helps
//! them). Attacker-controlled text (a `kid`, an `alg`) appears only `Debug`-quoted.

use super::fetch::FetchError;

/// One variant per refusal reason.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Not three base64url parts, or a header/payload that is not a JSON object.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// `alg: none`: an unsigned token.
    #[error("unsigned token (alg none)")]
    AlgNone,
    /// An algorithm we never accept, such as HS256 (whose "secret" an attacker could
    /// set to our public key).
    #[error("algorithm {0:?} is not accepted")]
    AlgorithmNotAllowed(String),
    /// The header names no key, and the provider does not publish exactly one key for
    /// the token's algorithm (OIDC Core §10.1), so which key signed it is not known.
    #[error(
        "token names no key (kid) and the provider has {candidates} {alg:?} keys, not exactly one"
    )]
    MissingKid { alg: String, candidates: usize },
    /// No key with this `kid`, even after refetching the provider's keys (or the
    /// refetch was skipped: at most one per interval).
    #[error("no signing key {0:?} at the provider")]
    UnknownKid(String),
    /// The provider's keys could not be fetched. Retryable: the token may be good.
    #[error("signing keys unavailable: {0}")]
    KeysUnavailable(#[source] FetchError),
    /// The header's algorithm is not the one the key is for.
    #[error("token algorithm {token:?} does not match key algorithm {key:?}")]
    AlgorithmMismatch { token: String, key: String },
    /// The signature does not verify: tampered or signed by someone else.
    #[error("bad signature")]
    BadSignature,
    /// `exp` is past (beyond the leeway).
    #[error("expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("not yet valid")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` (or Cognito's `client_id`) does not name us.
    #[error("wrong audience or client")]
    WrongAudience,
    /// A required claim is absent.
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    /// A claim has the wrong type (a numeric `exp` as text, a non-string `sub`).
    #[error("claim {0} has the wrong type")]
    InvalidClaim(&'static str),
    /// An ID token where an access token is required, or the reverse.
    #[error("token_use {found:?} where {expected} is required")]
    WrongTokenUse {
        expected: &'static str,
        found: String,
    },
    /// The ID token's `nonce` is not the one this sign-in sent.
    #[error("nonce does not match the sign-in")]
    NonceMismatch,
}

impl VerifyError {
    /// Whether the same token may verify later (the provider's keys were unreachable).
    pub fn is_retryable(&self) -> bool {
        matches!(self, VerifyError::KeysUnavailable(e) if e.is_retryable())
    }

    /// A short stable code for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::Malformed(_) => "malformed",
            VerifyError::AlgNone => "alg_none",
            VerifyError::AlgorithmNotAllowed(_) => "alg_not_allowed",
            VerifyError::MissingKid { .. } => "missing_kid",
            VerifyError::UnknownKid(_) => "unknown_kid",
            VerifyError::KeysUnavailable(_) => "keys_unavailable",
            VerifyError::AlgorithmMismatch { .. } => "alg_mismatch",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::Expired => "expired",
            VerifyError::NotYetValid => "not_yet_valid",
            VerifyError::WrongIssuer => "wrong_issuer",
            VerifyError::WrongAudience => "wrong_audience",
            VerifyError::MissingClaim(_) => "missing_claim",
            VerifyError::InvalidClaim(_) => "invalid_claim",
            VerifyError::WrongTokenUse { .. } => "wrong_token_use",
            VerifyError::NonceMismatch => "nonce_mismatch",
        }
    }
}
