//! The credential chain every protected route runs: identities already in the
//! request (API Gateway's verified claims), the browser's session cookie when no
//! `Authorization` header is sent (with the CSRF rule for unsafe methods), then the
//! bearer token — the `--api-token`, a named token, then any plugged-in verifier
//! (OIDC access tokens). With nothing configured, loopback callers act as admin.

use super::session::SessionAuth;
use super::tokens::{TokenHash, TokenStore};
use super::{AuthError, BearerVerifier, Principal, RequestVerifier};
use axum::http::{header, Extensions, HeaderMap, Method};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// A named token's `last_used` is written at most this often: a busy event
/// shipper must not turn every request into a write.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// Decides who a request comes from. Cheap to clone (every part is shared).
#[derive(Clone, Default)]
pub struct Authenticator {
    /// SHA-256 of the `--api-token`: comparing digests keeps the comparison's time
    /// independent of both the token's content and its length.
    api_token: Option<TokenHash>,
    tokens: Option<Arc<dyn TokenStore>>,
    bearers: Vec<Arc<dyn BearerVerifier>>,
    requests: Vec<Arc<dyn RequestVerifier>>,
    sessions: Option<Arc<SessionAuth>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("api_token", &self.api_token.is_some())
            .field("named_tokens", &self.tokens.is_some())
            .field("bearer_verifiers", &self.bearers.len())
            .field("request_verifiers", &self.requests.len())
            .field("sessions", &self.sessions.is_some())
            .finish()
    }
}

/// Compares in time independent of where the inputs first differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive, RFC
/// 7235). `Err` for an `Authorization` header of another kind.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let refused = || AuthError::Rejected("Authorization is not a bearer token".into());
    let value = value.to_str().map_err(|_| refused())?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(refused()),
    }
}

impl Authenticator {
    /// A chain accepting `api_token` (when given and not empty) as an admin token.
    pub fn new(api_token: Option<&str>) -> Self {
        Authenticator {
            api_token: api_token.filter(|t| !t.is_empty()).map(TokenHash::of),
            ..Default::default()
        }
    }

    /// Also accepts the named tokens of `store` (looked up on every request, so a
    /// revoke applies to the next one).
    pub fn with_tokens(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.tokens = Some(store);
        self
    }

    /// Also asks `verifier` about bearer tokens the built-in checks do not know.
    pub fn with_bearer_verifier(mut self, verifier: Arc<dyn BearerVerifier>) -> Self {
        self.bearers.push(verifier);
        self
    }

    /// Also asks `verifier` for an identity carried by the request itself.
    pub fn with_request_verifier(mut self, verifier: Arc<dyn RequestVerifier>) -> Self {
        self.requests.push(verifier);
        self
    }

    /// Also accepts the session cookie of browser sign-in.
    pub fn with_sessions(mut self, sessions: Arc<SessionAuth>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// True when credentials are required: an API token, a verifier or sign-in is
    /// configured, or a named token was ever created (asked on every call, so the
    /// first `cspm tokens create` turns authentication on in a running server).
    pub async fn required(&self) -> Result<bool, AuthError> {
        if self.api_token.is_some()
            || !self.bearers.is_empty()
            || !self.requests.is_empty()
            || self.sessions.is_some()
        {
            return Ok(true);
        }
        match &self.tokens {
            Some(t) => t
                .any()
                .await
                .map_err(|e| AuthError::Unavailable(Box::new(e))),
            None => Ok(false),
        }
    }

    /// Who sent the request with this `method`, `headers` and `extensions`, at `now`.
    pub async fn authenticate(
        &self,
        method: &Method,
        headers: &HeaderMap,
        extensions: &Extensions,
        now: DateTime<Utc>,
    ) -> Result<Principal, AuthError> {
        for v in &self.requests {
            if let Some(p) = v.identify(headers, extensions).await? {
                return Ok(p);
            }
        }
        // A bearer token, when sent, is the credential: a script that also carries
        // a stale cookie is judged by its token, and needs no CSRF header.
        if let (Some(sessions), None) = (&self.sessions, headers.get(header::AUTHORIZATION)) {
            if let Some(p) = sessions.identify(method, headers, now).await? {
                return Ok(p);
            }
        }
        let token = match bearer(headers) {
            Ok(Some(t)) => t,
            other => {
                // Without authentication configured, credentials are not needed
                // and whatever a client sends is ignored, as before roles existed.
                if !self.required().await? {
                    return Ok(Principal::local());
                }
                return Err(other.err().unwrap_or(AuthError::Missing));
            }
        };
        if let Some(p) = self.check_bearer(token, now).await? {
            return Ok(p);
        }
        if self.required().await? {
            Err(AuthError::Rejected("unknown bearer token".into()))
        } else {
            Ok(Principal::local())
        }
    }

    async fn check_bearer(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>, AuthError> {
        let hash = TokenHash::of(token);
        if let Some(expected) = &self.api_token {
            if constant_time_eq(&hash.0, &expected.0) {
                return Ok(Some(Principal::api_token()));
            }
        }
        if let Some(store) = &self.tokens {
            let found = store
                .find(&hash)
                .await
                .map_err(|e| AuthError::Unavailable(Box::new(e)))?;
            if let Some(t) = found {
                if !t.usable_at(now) {
                    return Err(AuthError::Rejected(format!(
                        "named token {:?} is revoked or expired",
                        t.name
                    )));
                }
                if t.last_used.is_none_or(|u| now - u >= TOUCH_EVERY) {
                    // Best effort: a failed bookkeeping write must not refuse a
                    // valid token.
                    if let Err(e) = store.touch(&t.name, now).await {
                        tracing::warn!(error = %e, token = %t.name, "last use of a token not recorded");
                    }
                }
                return Ok(Some(Principal::named_token(&t.name, t.role)));
            }
        }
        for v in &self.bearers {
            if let Some(p) = v.verify(token).await? {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tokens::{NamedToken, SqliteTokens};
    use crate::auth::Role;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(header::AUTHORIZATION, a.parse().unwrap());
        }
        h
    }

    async fn who(a: &Authenticator, auth: Option<&str>) -> Result<Principal, AuthError> {
        let now = "2026-05-01T00:00:00Z".parse().unwrap();
        a.authenticate(&Method::GET, &headers(auth), &Extensions::new(), now)
            .await
    }

    #[test]
    fn digests_compare_only_when_equal() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[tokio::test]
    async fn nothing_configured_is_local_admin_whatever_is_sent() {
        let a = Authenticator::new(None);
        assert_eq!(who(&a, None).await.unwrap(), Principal::local());
        assert_eq!(
            who(&a, Some("Bearer nonsense")).await.unwrap(),
            Principal::local()
        );
        assert_eq!(
            who(&a, Some("Basic Zm9vOmJhcg==")).await.unwrap(),
            Principal::local()
        );
    }

    #[tokio::test]
    async fn api_token_is_admin_and_anything_else_is_refused() {
        let a = Authenticator::new(Some("0123456789abcdef"));
        assert_eq!(
            who(&a, Some("bearer 0123456789abcdef")).await.unwrap(),
            Principal::api_token()
        );
        assert!(matches!(who(&a, None).await, Err(AuthError::Missing)));
        assert!(matches!(
            who(&a, Some("Bearer 0123456789abcdeF")).await,
            Err(AuthError::Rejected(_))
        ));
        assert!(matches!(
            who(&a, Some("Basic 0123456789abcdef")).await,
            Err(AuthError::Rejected(_))
        ));
        assert!(matches!(
            who(&a, Some("Bearer ")).await,
            Err(AuthError::Rejected(_))
        ));
    }

    #[tokio::test]
    async fn a_named_token_turns_auth_on_and_carries_its_name_and_role() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteTokens::open_dir(dir.path()).unwrap());
        let a = Authenticator::new(None).with_tokens(store.clone());
        assert_eq!(who(&a, None).await.unwrap(), Principal::local());
        let t = NamedToken {
            name: "shipper".into(),
            role: Role::Ingest,
            created: "2026-04-01T00:00:00Z".parse().unwrap(),
            expires: Some("2026-05-02T00:00:00Z".parse().unwrap()),
            last_used: None,
            revoked: None,
        };
        store
            .create(&t, &TokenHash::of("cspm_shipper"))
            .await
            .unwrap();
        assert!(matches!(who(&a, None).await, Err(AuthError::Missing)));
        let p = who(&a, Some("Bearer cspm_shipper")).await.unwrap();
        assert_eq!(p, Principal::named_token("shipper", Role::Ingest));
        assert!(store.list().await.unwrap()[0].last_used.is_some());
        store.revoke("shipper", t.created).await.unwrap();
        assert!(matches!(
            who(&a, Some("Bearer cspm_shipper")).await,
            Err(AuthError::Rejected(_))
        ));
    }

    struct Fixed;

    #[async_trait::async_trait]
    impl BearerVerifier for Fixed {
        async fn verify(&self, bearer: &str) -> Result<Option<Principal>, AuthError> {
            match bearer {
                "jwt-ok" => Ok(Some(Principal::person("u1", Some("u@x"), Role::Analyst))),
                "jwt-expired" => Err(AuthError::Rejected("expired".into())),
                _ => Ok(None),
            }
        }
    }

    #[tokio::test]
    async fn a_bearer_verifier_is_asked_after_the_built_in_tokens() {
        let a = Authenticator::new(Some("0123456789abcdef")).with_bearer_verifier(Arc::new(Fixed));
        assert_eq!(
            who(&a, Some("Bearer jwt-ok")).await.unwrap().role,
            Role::Analyst
        );
        assert_eq!(
            who(&a, Some("Bearer 0123456789abcdef")).await.unwrap(),
            Principal::api_token()
        );
        assert!(matches!(
            who(&a, Some("Bearer jwt-expired")).await,
            Err(AuthError::Rejected(_))
        ));
        assert!(matches!(
            who(&a, Some("Bearer other")).await,
            Err(AuthError::Rejected(_))
        ));
    }
}
