//! Our server's side of the authorization code flow (backend-for-frontend): redeeming
//! the code with its PKCE verifier, renewing with the refresh token, and revoking a
//! token at sign-out (RFC 6749 §4.1.3 and §6, RFC 7636 §4.5, RFC 7009). A confidential
//! client authenticates with HTTP Basic (`client_secret_basic`, the method every
//! provider supports); a public one sends its `client_id` in the form.

use super::fetch::{read_bounded, FetchError};
use super::pkce::PkceVerifier;
use crate::sinks::secrets::Secret;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use std::fmt;
use url::Url;

/// Tokens from the token endpoint. `Debug` shows which are present, never their values.
#[derive(Clone, Deserialize)]
pub struct TokenSet {
    /// The access token (a JWT at Cognito; opaque at some providers).
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives, when the provider says.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// For renewal; a refresh answer may omit it (keep the old one then).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// The ID token (present on the code exchange when `openid` was asked for).
    #[serde(default)]
    pub id_token: Option<String>,
    /// Granted scopes, when they differ from those asked for.
    #[serde(default)]
    pub scope: Option<String>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .field("id_token", &self.id_token.as_ref().map(|_| "***"))
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Which token is being revoked (RFC 7009 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Revoking a refresh token ends the whole grant at most providers (Cognito included).
    RefreshToken,
    /// An access token.
    AccessToken,
}

/// The token endpoint refused or could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Network, timeout, 5xx/429, an oversized or unparsable answer
    /// ([`FetchError::is_retryable`] tells).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The provider answered with an OAuth error (`invalid_grant`: the code was used or
    /// expired, the verifier is wrong, the refresh token was revoked). Permanent: the
    /// user signs in again.
    #[error("token endpoint refused: {error} (HTTP {status})")]
    Refused { status: u16, error: String },
    /// The provider offers no revocation endpoint. Permanent.
    #[error("the provider has no revocation endpoint")]
    NoRevocation,
}

impl TokenError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, TokenError::Fetch(e) if e.is_retryable())
    }
}

/// Talks to one provider's token (and revocation) endpoint as one client.
pub struct TokenClient {
    http: reqwest::Client,
    token_endpoint: Url,
    revocation_endpoint: Option<Url>,
    client_id: String,
    client_secret: Option<Secret>,
}

impl TokenClient {
    /// A client for these endpoints (from discovery) and credentials (from config).
    pub fn new(
        http: reqwest::Client,
        token_endpoint: Url,
        revocation_endpoint: Option<Url>,
        client_id: &str,
        client_secret: Option<Secret>,
    ) -> Self {
        TokenClient {
            http,
            token_endpoint,
            revocation_endpoint,
            client_id: client_id.to_string(),
            client_secret,
        }
    }

    /// Redeems an authorization code. `redirect_uri` must be the one the authorization
    /// request used (our `/auth/callback`).
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &PkceVerifier,
        redirect_uri: &Url,
    ) -> Result<TokenSet, TokenError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ];
        self.token_request(&form).await
    }

    /// Renews the tokens with a refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenSet, TokenError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// Revokes a token at sign-out. RFC 7009 §2.2: an unknown or already revoked token
    /// also answers 200, so success means "no longer valid", whatever it was.
    pub async fn revoke(&self, token: &str, kind: TokenKind) -> Result<(), TokenError> {
        let url = self
            .revocation_endpoint
            .as_ref()
            .ok_or(TokenError::NoRevocation)?;
        let hint = match kind {
            TokenKind::RefreshToken => "refresh_token",
            TokenKind::AccessToken => "access_token",
        };
        let response = self
            .post(url, &[("token", token), ("token_type_hint", hint)])
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        Err(refusal(status.as_u16(), response, url).await)
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, TokenError> {
        let url = &self.token_endpoint;
        let response = self.post(url, form).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(refusal(status.as_u16(), response, url).await);
        }
        let body = read_bounded(response, url.as_str()).await?;
        serde_json::from_slice(&body).map_err(|source| {
            TokenError::Fetch(FetchError::Json {
                url: url.to_string(),
                source,
            })
        })
    }

    /// POSTs a form, authenticating the client: Basic with a secret (RFC 6749 §2.3.1,
    /// both parts form-encoded first), else `client_id` in the form.
    async fn post(
        &self,
        url: &Url,
        form: &[(&str, &str)],
    ) -> Result<reqwest::Response, TokenError> {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        let mut request = self
            .http
            .post(url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        match &self.client_secret {
            Some(secret) => {
                let id = form_encode(&self.client_id);
                let pass = form_encode(secret.expose());
                let basic = STANDARD.encode(format!("{id}:{pass}"));
                request = request.header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"));
            }
            None => fields.push(("client_id", &self.client_id)),
        }
        let body = serde_urlencoded::to_string(&fields).expect("string pairs always encode");
        request
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|source| {
                TokenError::Fetch(FetchError::Transport {
                    url: url.to_string(),
                    source,
                })
            })
    }
}

/// The OAuth error answer (`{"error": "invalid_grant", ...}`), or a retryable status.
/// Only the error code is kept: it is a short registered word, while the description
/// is free text from the provider that has no place in our logs.
async fn refusal(status: u16, response: reqwest::Response, url: &Url) -> TokenError {
    if status == 429 || status >= 500 {
        return TokenError::Fetch(FetchError::Status {
            url: url.to_string(),
            status,
        });
    }
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
    }
    let code = read_bounded(response, url.as_str())
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<OAuthError>(&b).ok())
        .map(|e| e.error)
        .filter(|e| e.len() <= 64 && e.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .unwrap_or_else(|| "unspecified".to_string());
    TokenError::Refused {
        status,
        error: code,
    }
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
