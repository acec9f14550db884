//! OpenID Connect for sign-in and bearer tokens: where the provider's endpoints are
//! (discovery), which keys sign its tokens (a cached JWKS), whether a token is one of
//! ours (verification), and the random values the authorization code flow needs
//! (PKCE S256, `state`, `nonce`).
//!
//! Everything provider-specific is configuration ([`OidcConfig`]); Cognito is one
//! provider among others, with a constructor for its issuer and key URL.
//!
//! ```text
//! OidcConfig ─► OidcProvider::connect ─► (discovery or a plain JWKS URL)
//!                     └─ TokenVerifier ─► JwksCache (by kid, refreshed on an unknown kid)
//!                          ├─ verify_access_token (bearer)   ─► VerifiedIdentity
//!                          └─ verify_id_token (session, nonce) ─► VerifiedIdentity
//! ```

/// What the operator configures: issuer, client, scopes, the claim that carries roles.
pub mod config;
/// The signature checks (RS256, ES256) on `ring`, installed as jsonwebtoken's provider.
pub mod crypto;
/// `/.well-known/openid-configuration`: the provider's endpoints, issuer checked.
pub mod discovery;
/// Why a token was refused, one variant per reason.
pub mod error;
/// Bounded JSON GETs with timeouts: the provider is a remote party.
pub mod fetch;
/// Claims read from a verified token and the identity handed to callers.
pub mod identity;
/// The provider's signing keys by `kid`, refetched on an unknown `kid` (rate-limited);
/// a token without `kid` gets the set's only key for its `alg`, or none.
pub mod jwks;
/// PKCE S256 (RFC 7636), `state` and `nonce`.
pub mod pkce;
/// A configured provider: its metadata and a verifier over its keys.
pub mod provider;
/// Redeeming the code, refreshing and revoking at the token endpoints (our server's side).
pub mod token;
/// Verifying an access token (bearer) or an ID token (session).
pub mod verify;

#[cfg(test)]
mod testkit;

pub use config::{OidcConfig, OidcConfigError, DEFAULT_ROLES_CLAIM};
pub use discovery::{discover, discover_at, DiscoveryError, ProviderMetadata};
pub use error::VerifyError;
pub use fetch::{http_client, FetchError};
pub use identity::{TokenUse, VerifiedIdentity};
pub use jwks::JwksCache;
pub use pkce::{challenge_s256, random_nonce, random_state, secrets_match, PkceVerifier};
pub use provider::OidcProvider;
pub use token::{TokenClient, TokenError, TokenKind, TokenSet};
pub use verify::TokenVerifier;
