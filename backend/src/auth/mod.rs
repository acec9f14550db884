//! Who may do what: roles, the authenticated principal, the credential chain
//! (`--api-token`, named tokens, plug-in verifiers for OIDC tokens, API Gateway's
//! verified claims, the browser's session cookie), OpenID Connect token
//! verification, browser sign-in and the named-token store.

/// The credential chain a protected route runs.
pub mod authenticator;
/// Why authentication failed.
pub mod error;
/// API Gateway JWT authorizer claims as an identity (the `api` Lambda).
#[cfg(feature = "aws")]
pub mod gateway;
/// OpenID Connect: discovery, the provider's keys, JWT verification, PKCE.
pub mod oidc;
/// OIDC access tokens as bearer credentials, roles from the configured claim.
pub mod oidc_bearer;
/// The authenticated caller.
pub mod principal;
/// The roles and their order.
pub mod role;
/// Browser sessions: sign-in through our server, the session cookie, CSRF.
pub mod session;
/// Named API tokens and where they are kept.
pub mod tokens;
/// The traits other credential kinds (OIDC, sessions) implement.
pub mod verifier;

pub use authenticator::Authenticator;
pub use error::AuthError;
pub use principal::Principal;
pub use role::{Role, UnknownRole, ROLES};
pub use verifier::{BearerVerifier, RequestVerifier};
