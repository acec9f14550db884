//! Browser sessions of the backend-for-frontend sign-in: the browser holds only an
//! opaque, HttpOnly cookie; our server keeps the provider's tokens, the principal
//! they prove and the session's CSRF token behind the [`SessionStore`] port.
//!
//! ```text
//! GET /auth/login ─► SignIn::begin ─► PendingLogin (state hash, nonce, PKCE verifier)
//! GET /auth/callback ─► SignIn::finish ─► code exchange, ID token + nonce ─► Session
//! any request with the cookie ─► SessionAuth ─► renew near expiry ─► Principal (+ CSRF)
//! POST /auth/logout ─► SignIn::logout ─► row deleted, refresh token revoked
//! ```

/// The `Set-Cookie` values and reading the `Cookie` header.
pub mod cookie;
/// The `X-CSRF-Token` rule for unsafe methods authenticated by the cookie.
pub mod csrf;
/// Sessions in a DynamoDB table (the `api` Lambda).
#[cfg(feature = "aws")]
pub mod dynamo;
/// The session cookie in the credential chain, renewing tokens near expiry.
pub mod resolve;
/// Where a signed-in browser may be sent back to (same-origin paths only).
pub mod return_to;
/// What the operator configures for sign-in (public URL, scopes, lifetime).
pub mod settings;
/// The sign-in flow: authorization request, callback, sign-out.
pub mod signin;
/// The session table in the server's SQLite file.
pub mod sqlite;

use super::tokens::TokenHash;
use super::Principal;
use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use std::fmt;

#[cfg(feature = "aws")]
pub use dynamo::DynamoSessions;
pub use resolve::SessionAuth;
pub use settings::SignInSettings;
pub use signin::{SignIn, SignInError};
pub use sqlite::SqliteSessions;

/// A fresh random 256-bit value, base64url (43 characters): session ids and CSRF
/// tokens. Only its SHA-256 is stored for ids, so the table alone signs nobody in.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The signed-in person as the dashboard shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// The provider's stable user id.
    pub sub: String,
    /// E-mail, when the provider sent one.
    pub email: Option<String>,
    /// Display name (or user name), when the provider sent one.
    pub name: Option<String>,
}

/// The provider's tokens, kept server-side only. `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionTokens {
    /// The access token (opaque at some providers).
    pub access_token: String,
    /// The ID token: the proof of sign-in, and the `id_token_hint` at sign-out.
    pub id_token: Option<String>,
    /// For renewal and revocation, when the provider issued one.
    pub refresh_token: Option<String>,
}

impl fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionTokens")
            .field("id_token", &self.id_token.is_some())
            .field("refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

/// One signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who signed in.
    pub user: SessionUser,
    /// What they act as (role from the configured claim, as for bearer tokens).
    pub principal: Principal,
    /// The value unsafe requests must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// The provider's tokens.
    pub tokens: SessionTokens,
    /// When the tokens must be renewed by (the earlier of the access token's
    /// `expires_in` and the ID token's `exp`).
    pub tokens_expire_at: DateTime<Utc>,
    /// When the session was created.
    pub created_at: DateTime<Utc>,
    /// The absolute end: renewal never moves it.
    pub expires_at: DateTime<Utc>,
}

/// A sign-in between `/auth/login` and `/auth/callback`, kept under the SHA-256 of
/// its `state`, used at most once.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where to send the browser afterwards (already checked).
    pub return_to: String,
    /// When the attempt stops being accepted.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("return_to", &self.return_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The session table could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The database is locked or unreachable; retryable.
    #[error("session store: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl SessionError {
    /// True when trying again later may succeed (always, for a backend failure).
    pub fn is_retryable(&self) -> bool {
        matches!(self, SessionError::Backend(_))
    }
}

/// Where sessions and pending sign-ins are kept. Every lookup reads the store, so
/// a sign-out in one server process ends the session in all of them.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Keeps a sign-in attempt under the hash of its `state`.
    async fn put_login(&self, state: &TokenHash, login: &PendingLogin) -> Result<(), SessionError>;
    /// Removes and returns the attempt (once: a replayed `state` finds nothing);
    /// `None` as well when it expired before `now`.
    async fn take_login(
        &self,
        state: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingLogin>, SessionError>;
    /// Creates the session under the hash of its id (a new random id: nothing to
    /// overwrite).
    async fn save(&self, id: &TokenHash, session: &Session) -> Result<(), SessionError>;
    /// Replaces the session with its renewal, only while it is still stored as
    /// `was` (same token expiry); `false` when it was signed out or renewed by
    /// another process meanwhile, so a renewal never brings back a session that
    /// ended.
    async fn replace(
        &self,
        id: &TokenHash,
        was: &Session,
        renewed: &Session,
    ) -> Result<bool, SessionError>;
    /// The session, unless it is unknown or ended before `now`.
    async fn find(
        &self,
        id: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, SessionError>;
    /// Removes the session and returns what it was (for revocation at sign-out).
    async fn delete(&self, id: &TokenHash) -> Result<Option<Session>, SessionError>;
    /// Removes sessions and attempts that ended before `now`; how many went.
    async fn purge(&self, now: DateTime<Utc>) -> Result<usize, SessionError>;
}
