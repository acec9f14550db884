//! The session cookie as a credential: look the session up, renew its tokens when
//! they are about to expire, and hold unsafe requests to the CSRF rule.
//!
//! Renewal happens before the request is served, when the tokens are within
//! [`RENEW_BEFORE`] of expiry: with the refresh token when there is one (the role is
//! taken again from the new ID token, so a group removed at the provider takes
//! effect), otherwise the session ends with its tokens. A refresh the provider
//! refuses ends the session (401); one that cannot reach the provider answers 503
//! and keeps the session, so a provider outage does not sign everybody out.

use super::signin::{tokens_expire_at, user_of, SignIn};
use super::{cookie, csrf, Session, SessionError};
use crate::auth::oidc::VerifyError;
use crate::auth::oidc_bearer::principal_of;
use crate::auth::tokens::TokenHash;
use crate::auth::{AuthError, Principal};
use axum::http::{HeaderMap, Method};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Tokens are renewed this long before they expire.
pub const RENEW_BEFORE: chrono::Duration = chrono::Duration::seconds(60);

/// Why a session could not be renewed.
enum Renewal {
    /// The session is over (no refresh token, refused, a different user).
    Ended(String),
    /// The provider could not be reached; the session may renew later.
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
}

fn unavailable(e: SessionError) -> AuthError {
    AuthError::Unavailable(Box::new(e))
}

impl SignIn {
    /// The live session with id `id` at `now`, renewed first when its tokens are
    /// about to expire; `None` when it is unknown or has ended (then it is gone).
    pub async fn current(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, AuthError> {
        let key = TokenHash::of(id);
        let found = self.store.find(&key, now).await.map_err(unavailable)?;
        let Some(session) = found else {
            return Ok(None);
        };
        if session.tokens_expire_at - RENEW_BEFORE > now {
            return Ok(Some(session));
        }
        // One renewal at a time in this process; across processes, `replace`
        // only stores a renewal of the session as it was read.
        let _one_at_a_time = self.refreshing.lock().await;
        // Another request may have renewed it while this one waited.
        let Some(session) = self.store.find(&key, now).await.map_err(unavailable)? else {
            return Ok(None);
        };
        if session.tokens_expire_at - RENEW_BEFORE > now {
            return Ok(Some(session));
        }
        match self.renew(&session, now).await {
            Ok(renewed) => {
                let stored = self
                    .store
                    .replace(&key, &session, &renewed)
                    .await
                    .map_err(unavailable)?;
                if !stored {
                    // Signed out meanwhile (then it stays out), or renewed by
                    // another process (then that renewal is the session).
                    tracing::info!(actor = %session.principal.actor, "session changed while renewing; read again");
                    return self.store.find(&key, now).await.map_err(unavailable);
                }
                tracing::info!(actor = %renewed.principal.actor, "session renewed");
                Ok(Some(renewed))
            }
            Err(Renewal::Ended(why)) => {
                tracing::info!(actor = %session.principal.actor, reason = %why, "session ended: not renewed");
                self.store.delete(&key).await.map_err(unavailable)?;
                Ok(None)
            }
            Err(Renewal::Unavailable(e)) => Err(AuthError::Unavailable(e)),
        }
    }

    async fn renew(&self, old: &Session, now: DateTime<Utc>) -> Result<Session, Renewal> {
        let Some(refresh_token) = &old.tokens.refresh_token else {
            if old.tokens_expire_at > now {
                // Not expired yet, just close to it: serve it until it is.
                return Ok(old.clone());
            }
            return Err(Renewal::Ended("tokens expired, no refresh token".into()));
        };
        let set = self.tokens.refresh(refresh_token).await.map_err(|e| {
            if e.is_retryable() {
                Renewal::Unavailable(Box::new(e))
            } else {
                Renewal::Ended(e.to_string())
            }
        })?;
        let mut renewed = old.clone();
        let identity = match &set.id_token {
            Some(id_token) => {
                // No nonce on a refresh (OIDC Core §12.2), but the same person.
                let identity = self
                    .verifier
                    .verify_id_token(id_token, None)
                    .await
                    .map_err(|e: VerifyError| {
                        if e.is_retryable() {
                            Renewal::Unavailable(Box::new(e))
                        } else {
                            Renewal::Ended(format!("renewed ID token: {e}"))
                        }
                    })?;
                if identity.sub != old.user.sub {
                    return Err(Renewal::Ended("renewed ID token names another user".into()));
                }
                renewed.user = user_of(&identity);
                renewed.principal = principal_of(&identity);
                renewed.tokens.id_token = Some(id_token.clone());
                Some(identity)
            }
            None => None,
        };
        renewed.tokens_expire_at = tokens_expire_at(&set, identity.as_ref(), now);
        renewed.tokens.access_token = set.access_token;
        // A provider that does not rotate refresh tokens sends none: keep the old one.
        if let Some(rt) = set.refresh_token {
            renewed.tokens.refresh_token = Some(rt);
        }
        Ok(renewed)
    }
}

/// The session cookie in the credential chain.
pub struct SessionAuth {
    signin: Arc<SignIn>,
}

impl SessionAuth {
    /// Sessions of `signin`.
    pub fn new(signin: Arc<SignIn>) -> Self {
        SessionAuth { signin }
    }

    /// The principal of the request's session cookie: `Ok(None)` without the
    /// cookie; 401 (`Rejected`) for an unknown or ended session; 403 (`Csrf`) for
    /// an unsafe method without the session's `X-CSRF-Token`.
    pub async fn identify(
        &self,
        method: &Method,
        headers: &HeaderMap,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>, AuthError> {
        let Some(id) = cookie::read(headers, cookie::SESSION_COOKIE) else {
            return Ok(None);
        };
        let Some(session) = self.signin.current(id, now).await? else {
            return Err(AuthError::Rejected("unknown or ended session".into()));
        };
        if !csrf::allows(method, headers, &session.csrf_token) {
            tracing::info!(actor = %session.principal.actor, %method, "request refused: no valid X-CSRF-Token");
            return Err(AuthError::Csrf);
        }
        Ok(Some(session.principal))
    }
}
