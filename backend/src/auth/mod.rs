//! Who is calling: OpenID Connect sign-in and bearer tokens.

/// OpenID Connect: discovery, the provider's keys, JWT verification, PKCE.
pub mod oidc;
