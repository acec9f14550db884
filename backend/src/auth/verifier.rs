//! The slots other credential kinds plug into: bearer tokens verified by someone
//! else (OIDC access tokens against a JWKS) and identities already established
//! before the router (API Gateway's JWT authorizer, a session cookie).

use super::{AuthError, Principal};
use axum::http::{Extensions, HeaderMap};

/// Verifies a bearer token the built-in checks (the `--api-token`, named tokens)
/// did not recognise.
///
/// * `Ok(Some(p))`: the token is valid and belongs to `p`.
/// * `Ok(None)`: not this verifier's kind of token (the next verifier is asked;
///   when none knows it, the request gets 401).
/// * `Err(AuthError::Rejected(_))`: this verifier's kind, but invalid (expired,
///   wrong issuer, bad signature…): 401, the reason logged.
/// * `Err(AuthError::Unavailable(_))`: could not check now (JWKS unreachable): 503.
#[async_trait::async_trait]
pub trait BearerVerifier: Send + Sync {
    /// Checks `bearer` (the text after `Authorization: Bearer `, trimmed).
    async fn verify(&self, bearer: &str) -> Result<Option<Principal>, AuthError>;
}

/// Finds an identity in the request itself rather than in a bearer token: claims
/// API Gateway's JWT authorizer already verified, a session cookie. Asked before
/// the bearer checks; same answers as [`BearerVerifier::verify`].
#[async_trait::async_trait]
pub trait RequestVerifier: Send + Sync {
    /// Looks at the request's headers and extensions.
    async fn identify(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<Option<Principal>, AuthError>;
}
