//! The authorization code flow run by our server (backend-for-frontend): the
//! authorization request with PKCE S256, `state` and `nonce`; the callback that
//! redeems the code and verifies the ID token; and sign-out.

use super::return_to::safe_return_to;
use super::settings::LOGIN_TTL;
use super::{
    random_secret, PendingLogin, Session, SessionError, SessionStore, SessionTokens, SessionUser,
    SignInSettings,
};
use crate::auth::oidc::{
    random_nonce, random_state, secrets_match, OidcProvider, PkceVerifier, ProviderMetadata,
    TokenClient, TokenError, TokenKind, TokenSet, TokenVerifier, VerifiedIdentity, VerifyError,
};
use crate::auth::oidc_bearer::principal_of;
use crate::auth::tokens::TokenHash;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use url::Url;

/// Tokens whose lifetime the provider does not state are renewed this soon.
pub(super) const UNSTATED_LIFETIME: chrono::Duration = chrono::Duration::minutes(5);

/// Why a sign-in could not start or finish. Every variant but the retryable ones
/// is the browser's problem (400): the user starts again from `/auth/login`.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The provider's metadata has no authorization or token endpoint (a key-only
    /// configuration): bearer tokens work, browser sign-in does not. Permanent.
    #[error("the OIDC provider offers no {0}: browser sign-in needs discovery with it")]
    NotOffered(&'static str),
    /// `return_to` is not a same-origin path. Permanent.
    #[error("return_to must be a path on this site")]
    BadReturnTo,
    /// `state` is unknown, used before, expired, or not the one this browser's
    /// sign-in cookie holds. Permanent.
    #[error("unknown, expired or already used sign-in state")]
    BadState,
    /// The provider sent the browser back with an error (`access_denied`…). Permanent.
    #[error("the identity provider refused the sign-in ({0})")]
    ProviderError(String),
    /// The token endpoint refused the code or could not be reached.
    #[error("code exchange: {0}")]
    Exchange(#[from] TokenError),
    /// The token answer has no ID token (was `openid` asked for?). Permanent.
    #[error("the provider returned no ID token")]
    NoIdToken,
    /// The ID token failed verification (nonce, signature, audience…).
    #[error("ID token: {0}")]
    IdToken(#[from] VerifyError),
    /// The session table could not be written; retryable.
    #[error(transparent)]
    Store(#[from] SessionError),
}

impl SignInError {
    /// Whether the same request may succeed later (the provider or the store was
    /// unreachable).
    pub fn is_retryable(&self) -> bool {
        match self {
            SignInError::Exchange(e) => e.is_retryable(),
            SignInError::IdToken(e) => e.is_retryable(),
            SignInError::Store(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// Where `/auth/login` sends the browser.
#[derive(Debug)]
pub struct Authorization {
    /// The provider's authorization endpoint with our parameters.
    pub url: Url,
    /// The `state`, for the browser's sign-in cookie.
    pub state: String,
}

/// A session just created by the callback.
#[derive(Debug)]
pub struct SignedIn {
    /// The new session id, for the cookie (only its hash is stored).
    pub id: String,
    /// The session.
    pub session: Session,
}

/// Browser sign-in at one provider. Shared (`Arc`) by the routes and the
/// credential chain.
pub struct SignIn {
    pub(super) settings: SignInSettings,
    metadata: ProviderMetadata,
    sign_out: Option<SignOut>,
    authorization_endpoint: Url,
    client_id: String,
    pub(super) tokens: TokenClient,
    pub(super) verifier: Arc<TokenVerifier>,
    pub(super) store: Arc<dyn SessionStore>,
    /// Serialises renewals: two requests of one browser arriving together must not
    /// both spend a rotating refresh token (the second would end the session).
    pub(super) refreshing: tokio::sync::Mutex<()>,
}

impl SignIn {
    /// Sign-in at `provider` (discovered: it needs the authorization and token
    /// endpoints), keeping sessions in `store`.
    pub fn new(
        provider: &OidcProvider,
        http: reqwest::Client,
        settings: SignInSettings,
        store: Arc<dyn SessionStore>,
    ) -> Result<Self, SignInError> {
        let metadata = provider
            .metadata
            .clone()
            .ok_or(SignInError::NotOffered("discovery document"))?;
        let authorization_endpoint = metadata
            .authorization_endpoint
            .clone()
            .ok_or(SignInError::NotOffered("authorization_endpoint"))?;
        let token_endpoint = metadata
            .token_endpoint
            .clone()
            .ok_or(SignInError::NotOffered("token_endpoint"))?;
        let cognito = settings.cognito_domain.as_ref();
        let revocation_endpoint = metadata
            .revocation_endpoint
            .clone()
            .or_else(|| cognito.map(|d| at_domain(d, "oauth2/revoke")));
        let sign_out = match (cognito, &metadata.end_session_endpoint) {
            // Cognito's discovery names its `/logout` as the end-session endpoint,
            // but it takes Cognito's parameters (`client_id`, `logout_uri`), not
            // RP-initiated logout's: with the domain configured, Cognito's way.
            (Some(d), _) => Some(SignOut::Cognito(at_domain(d, "logout"))),
            (None, Some(url)) => Some(SignOut::Rp(url.clone())),
            (None, None) => None,
        };
        let tokens = TokenClient::new(
            http,
            token_endpoint,
            revocation_endpoint,
            &provider.config.client_id,
            provider.config.client_secret.clone(),
        );
        Ok(SignIn {
            settings,
            metadata,
            sign_out,
            authorization_endpoint,
            client_id: provider.config.client_id.clone(),
            tokens,
            verifier: Arc::clone(&provider.verifier),
            store,
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// [`SignIn::new`], or `None` with a warning saying why (bearer tokens are
    /// still checked without browser sign-in).
    pub fn enabled(
        provider: &OidcProvider,
        http: reqwest::Client,
        settings: SignInSettings,
        store: Arc<dyn SessionStore>,
    ) -> Option<SignIn> {
        match SignIn::new(provider, http, settings, store) {
            Ok(s) => {
                tracing::info!(callback = %s.settings().redirect_uri(), "browser sign-in enabled");
                Some(s)
            }
            Err(e) => {
                tracing::warn!(error = %e, "no browser sign-in");
                None
            }
        }
    }

    /// The settings (cookie policy, lifetime).
    pub fn settings(&self) -> &SignInSettings {
        &self.settings
    }

    /// The session store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// Starts a sign-in that will end at `return_to` (default `/`): keeps the
    /// attempt server-side and gives the provider URL to redirect to.
    pub async fn begin(
        &self,
        return_to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Authorization, SignInError> {
        let return_to = match return_to {
            None => super::return_to::DEFAULT_RETURN_TO,
            Some(r) => safe_return_to(r).ok_or(SignInError::BadReturnTo)?,
        };
        let (state, nonce, verifier) = (random_state(), random_nonce(), PkceVerifier::generate());
        let login = PendingLogin {
            nonce: nonce.clone(),
            verifier: verifier.as_str().to_string(),
            return_to: return_to.to_string(),
            expires_at: now + LOGIN_TTL,
        };
        self.store.put_login(&TokenHash::of(&state), &login).await?;
        // Sign-ins are rare and the tables small: sweeping ended sessions and
        // abandoned attempts here needs no timer of its own.
        if let Err(e) = self.store.purge(now).await {
            tracing::warn!(error = %e, "ended sessions not swept");
        }
        let mut url = self.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", self.settings.redirect_uri().as_str())
            .append_pair("scope", &self.settings.scope(&self.metadata))
            .append_pair("code_challenge", &verifier.challenge())
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce);
        Ok(Authorization { url, state })
    }

    /// Consumes the attempt `state` names, provided `cookie_state` (the browser's
    /// sign-in cookie) is the same value: a callback URL planted in someone else's
    /// browser finds no matching cookie there (login CSRF).
    pub async fn take_attempt(
        &self,
        cookie_state: Option<&str>,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<PendingLogin, SignInError> {
        match cookie_state {
            Some(c) if secrets_match(c, state) => {}
            _ => return Err(SignInError::BadState),
        }
        self.store
            .take_login(&TokenHash::of(state), now)
            .await?
            .ok_or(SignInError::BadState)
    }

    /// Finishes the sign-in of `attempt`: redeems `code`, verifies the ID token
    /// (with the attempt's nonce) and creates the session.
    pub async fn finish(
        &self,
        attempt: &PendingLogin,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, SignInError> {
        // Stored by us, but read back from a file: checked like any input.
        let verifier = PkceVerifier::parse(&attempt.verifier).map_err(|_| SignInError::BadState)?;
        let set = self
            .tokens
            .exchange_code(code, &verifier, &self.settings.redirect_uri())
            .await?;
        let id_token = set.id_token.clone().ok_or(SignInError::NoIdToken)?;
        let identity = self
            .verifier
            .verify_id_token(&id_token, Some(&attempt.nonce))
            .await?;
        let session = Session {
            user: user_of(&identity),
            principal: principal_of(&identity),
            csrf_token: random_secret(),
            tokens_expire_at: tokens_expire_at(&set, Some(&identity), now),
            tokens: SessionTokens {
                access_token: set.access_token,
                id_token: Some(id_token),
                refresh_token: set.refresh_token,
            },
            created_at: now,
            expires_at: now + self.settings.max_age,
        };
        let id = random_secret();
        self.store.save(&TokenHash::of(&id), &session).await?;
        tracing::info!(actor = %session.principal.actor, role = %session.principal.role, "signed in");
        Ok(SignedIn { id, session })
    }

    /// Ends the session `id` here and, where the provider allows, there: the row
    /// is deleted, the refresh token revoked (best effort: the session is over
    /// for us either way), and the provider's sign-out URL returned when it has one.
    pub async fn logout(&self, id: &str) -> Result<Option<Url>, SessionError> {
        let Some(session) = self.store.delete(&TokenHash::of(id)).await? else {
            return Ok(None);
        };
        tracing::info!(actor = %session.principal.actor, "signed out");
        if let Some(rt) = &session.tokens.refresh_token {
            match self.tokens.revoke(rt, TokenKind::RefreshToken).await {
                Ok(()) | Err(TokenError::NoRevocation) => {}
                Err(e) => tracing::warn!(error = %e, "refresh token not revoked at sign-out"),
            }
        }
        Ok(self.end_session_url(&session))
    }

    /// Where the browser goes to be signed out at the provider too.
    fn end_session_url(&self, session: &Session) -> Option<Url> {
        let back = self.settings.post_logout_redirect_uri();
        let mut url = match self.sign_out.as_ref()? {
            // OpenID Connect RP-Initiated Logout 1.0 §2.
            SignOut::Rp(endpoint) => {
                let mut url = endpoint.clone();
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(id) = &session.tokens.id_token {
                        q.append_pair("id_token_hint", id);
                    }
                    q.append_pair("post_logout_redirect_uri", back.as_str());
                }
                url
            }
            // Cognito's `/logout`: `logout_uri` must be one of the app client's
            // allowed sign-out URLs.
            SignOut::Cognito(endpoint) => {
                let mut url = endpoint.clone();
                url.query_pairs_mut()
                    .append_pair("logout_uri", back.as_str());
                url
            }
        };
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id);
        Some(url)
    }
}

/// How the provider signs a browser out.
#[derive(Debug, Clone)]
enum SignOut {
    /// The discovery document's `end_session_endpoint`.
    Rp(Url),
    /// A Cognito domain's `/logout`.
    Cognito(Url),
}

/// `path` under a Cognito domain.
fn at_domain(domain: &Url, path: &str) -> Url {
    domain
        .join(path)
        .expect("a relative path joins an https origin")
}

/// The person as the dashboard shows them: the name, else the sign-in name.
pub(super) fn user_of(identity: &VerifiedIdentity) -> SessionUser {
    SessionUser {
        sub: identity.sub.clone(),
        email: identity.email.clone(),
        name: identity.name.clone().or_else(|| identity.username.clone()),
    }
}

/// When the tokens of `set` must be renewed: the earlier of the access token's
/// `expires_in` and the ID token's `exp`; a few minutes when neither is stated.
pub(super) fn tokens_expire_at(
    set: &TokenSet,
    identity: Option<&VerifiedIdentity>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let access = set
        .expires_in
        .and_then(|s| i64::try_from(s).ok())
        .map(|s| now + chrono::Duration::seconds(s.min(i64::from(u32::MAX))));
    let id = identity.map(|i| i.expires_at);
    match (access, id) {
        (Some(a), Some(i)) => a.min(i),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => now + UNSTATED_LIFETIME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oidc::TokenUse;

    fn set(expires_in: Option<u64>) -> TokenSet {
        serde_json::from_value(serde_json::json!({
            "access_token": "at", "token_type": "Bearer", "expires_in": expires_in
        }))
        .unwrap()
    }

    fn identity(exp: DateTime<Utc>) -> VerifiedIdentity {
        VerifiedIdentity {
            sub: "u1".into(),
            name: None,
            email: None,
            username: Some("ana".into()),
            roles_claim: vec![],
            token_use: TokenUse::Id,
            expires_at: exp,
        }
    }

    #[test]
    fn tokens_are_renewed_by_the_earlier_of_both_expiries() {
        let now: DateTime<Utc> = "2026-05-01T00:00:00Z".parse().unwrap();
        let hour = now + chrono::Duration::hours(1);
        let id = identity(hour);
        assert_eq!(
            tokens_expire_at(&set(Some(300)), Some(&id), now),
            now + chrono::Duration::seconds(300)
        );
        assert_eq!(tokens_expire_at(&set(Some(7200)), Some(&id), now), hour);
        assert_eq!(tokens_expire_at(&set(None), Some(&id), now), hour);
        assert_eq!(
            tokens_expire_at(&set(None), None, now),
            now + UNSTATED_LIFETIME
        );
    }

    #[test]
    fn the_user_is_named_by_name_or_sign_in_name() {
        let u = user_of(&identity(Utc::now()));
        assert_eq!((u.sub.as_str(), u.name.as_deref()), ("u1", Some("ana")));
    }
}
