//! Browser sign-in on our own origin (backend-for-frontend): `/auth/login` sends
//! the browser to the provider, `/auth/callback` brings it back with a session
//! cookie, `/auth/session` tells the dashboard who is signed in (and its CSRF
//! token), `/auth/logout` ends the session. Tokens never leave the server.
//!
//! These routes are public in the route table (no role check): they are how a
//! browser gets credentials in the first place, and each checks what it needs
//! itself. Without sign-in configured they answer 404.

use super::error::ApiError;
use super::AppState;
use crate::auth::session::{cookie, csrf, SessionError, SignIn, SignInError};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;
use shared_types::{LogoutInfo, SessionInfo, SessionUser};
use std::sync::Arc;

/// `/auth/login` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LoginQuery {
    /// Where to go after signing in: a path on this site (default `/`).
    pub return_to: Option<String>,
}

/// `/auth/callback` query, as the provider sends it (RFC 6749 §4.1.2).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` of the sign-in this answers.
    pub state: Option<String>,
    /// An OAuth error code when the provider refused (`access_denied`…).
    pub error: Option<String>,
}

fn signin(state: &AppState) -> Result<&Arc<SignIn>, ApiError> {
    state
        .signin
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("browser sign-in is not configured".into()))
}

/// Adds `Set-Cookie` values and `Cache-Control: no-store` (answers that carry or
/// reveal a session must never be cached).
fn with_cookies(mut resp: Response, cookies: &[String]) -> Response {
    let h = resp.headers_mut();
    for c in cookies {
        let value = HeaderValue::from_str(c).expect("cookies are built from base64url values");
        h.append(header::SET_COOKIE, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn redirect(location: &str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    let value = HeaderValue::from_str(location).expect("URLs and checked paths are header-safe");
    resp.headers_mut().insert(header::LOCATION, value);
    resp
}

fn store_down(e: SessionError) -> ApiError {
    tracing::warn!(error = %e, "session store unavailable");
    ApiError::Unavailable
}

fn bad_state() -> ApiError {
    ApiError::BadRequest {
        code: "invalid_state",
        message: "this sign-in is unknown, expired or already used; sign in again".into(),
        field: Some("state".into()),
    }
}

/// The API answer for a sign-in that failed: the reason is logged, the browser is
/// told only what it can act on.
impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        if e.is_retryable() {
            tracing::warn!(error = %e, "sign-in could not be completed now");
            return ApiError::Unavailable;
        }
        match e {
            SignInError::BadReturnTo => ApiError::invalid("return_to", e.to_string()),
            SignInError::BadState => bad_state(),
            SignInError::ProviderError(_) => ApiError::BadRequest {
                code: "sign_in_refused",
                message: e.to_string(),
                field: None,
            },
            SignInError::NotOffered(_) => ApiError::Internal(Box::new(e)),
            other => {
                tracing::info!(error = %other, "sign-in refused");
                ApiError::BadRequest {
                    code: "sign_in_failed",
                    message: "the sign-in could not be completed; sign in again".into(),
                    field: None,
                }
            }
        }
    }
}

/// An OAuth error code from the query, shown back only when it has the registered
/// shape (lowercase and `_`): the query is attacker-controlled.
fn provider_error(code: &str) -> String {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if ok { code } else { "unspecified" }.to_string()
}

/// `GET /auth/login`: starts the sign-in and sends the browser to the provider.
#[utoipa::path(get, path = "/auth/login", tag = "sign-in", security(()), params(LoginQuery),
    responses((status = 302, description = "to the provider's authorization endpoint"),
              (status = 400, body = shared_types::ErrorBody), (status = 404, body = shared_types::ErrorBody)))]
pub async fn get_login(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
) -> Result<Response, ApiError> {
    let signin = signin(&state)?;
    let auth = signin.begin(q.return_to.as_deref(), Utc::now()).await?;
    let ttl = crate::auth::session::settings::LOGIN_TTL.num_seconds();
    let policy = signin.settings().cookie_policy();
    Ok(with_cookies(
        redirect(auth.url.as_str()),
        &[policy.login(&auth.state, ttl)],
    ))
}

/// `GET /auth/callback`: the provider's answer; on success a session cookie and a
/// redirect to where the sign-in started.
#[utoipa::path(get, path = "/auth/callback", tag = "sign-in", security(()), params(CallbackQuery),
    responses((status = 302, description = "signed in: session cookie set, back to return_to"),
              (status = 400, body = shared_types::ErrorBody),
              (status = 404, body = shared_types::ErrorBody, description = "Browser sign-in is not configured on this server"),
              (status = 503, body = shared_types::ErrorBody)))]
pub async fn get_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, ApiError> {
    let signin = signin(&state)?;
    let policy = signin.settings().cookie_policy();
    let now = Utc::now();
    let cookie_state = cookie::read(&headers, cookie::LOGIN_COOKIE);
    let result = async {
        let s = q.state.as_deref().ok_or_else(bad_state)?;
        // The attempt is used up whatever happens next: a `state` never works twice.
        let attempt = signin.take_attempt(cookie_state, s, now).await?;
        if let Some(e) = &q.error {
            return Err(SignInError::ProviderError(provider_error(e)).into());
        }
        let code = q
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 2048)
            .ok_or_else(|| ApiError::invalid("code", "the provider sent no code"))?;
        let done = signin.finish(&attempt, code, now).await?;
        let max_age = (done.session.expires_at - now).num_seconds();
        Ok::<_, ApiError>(with_cookies(
            redirect(&attempt.return_to),
            &[policy.session(&done.id, max_age), policy.clear_login()],
        ))
    }
    .await;
    // Clear the sign-in cookie on failure too: it belongs to an attempt that is over.
    result.or_else(|e| Ok(with_cookies(e.into_response(), &[policy.clear_login()])))
}

/// `GET /auth/session`: who is signed in in this browser, or 401; 204 when the
/// server has no browser sign-in. The dashboard asks on every load, so "not
/// configured" is an answer, not an error: a 404 would mark every page load of
/// an open local server with a failed request in the browser's console.
#[utoipa::path(get, path = "/auth/session", tag = "sign-in", security(()),
    responses((status = 200, body = SessionInfo), (status = 401, body = shared_types::ErrorBody),
              (status = 204, description = "Browser sign-in is not configured on this server")))]
pub async fn get_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(signin) = state.signin.as_ref() else {
        return Ok(with_cookies(StatusCode::NO_CONTENT.into_response(), &[]));
    };
    let id = cookie::read(&headers, cookie::SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
    let Some(s) = signin.current(id, Utc::now()).await? else {
        let policy = signin.settings().cookie_policy();
        return Ok(with_cookies(
            ApiError::Unauthorized.into_response(),
            &[policy.clear_session()],
        ));
    };
    let body = SessionInfo {
        user: SessionUser {
            sub: s.user.sub,
            email: s.user.email,
            name: s.user.name,
        },
        role: s.principal.role.as_str().to_string(),
        expires_at: s.expires_at,
        csrf_token: s.csrf_token,
    };
    Ok(with_cookies(Json(body).into_response(), &[]))
}

/// `POST /auth/logout`: ends this browser's session here and, where offered, at the
/// provider (the answer's `logout_url`). Needs `X-CSRF-Token` like any other
/// state change made with the session cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "sign-in", security(()),
    responses((status = 200, body = LogoutInfo), (status = 403, body = shared_types::ErrorBody),
              (status = 404, body = shared_types::ErrorBody, description = "Browser sign-in is not configured on this server")))]
pub async fn post_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let signin = signin(&state)?;
    let policy = signin.settings().cookie_policy();
    let mut logout_url = None;
    if let Some(id) = cookie::read(&headers, cookie::SESSION_COOKIE) {
        let found = signin
            .store()
            .find(&crate::auth::tokens::TokenHash::of(id), Utc::now())
            .await
            .map_err(store_down)?;
        if let Some(session) = found {
            if !csrf::allows(&axum::http::Method::POST, &headers, &session.csrf_token) {
                return Err(ApiError::Csrf);
            }
            logout_url = signin
                .logout(id)
                .await
                .map_err(store_down)?
                .map(String::from);
        }
    }
    // Signed out already (or never signed in): the answer is the same, and the
    // browser's cookie goes either way.
    Ok(with_cookies(
        Json(LogoutInfo { logout_url }).into_response(),
        &[policy.clear_session()],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_registered_shaped_error_codes_are_echoed() {
        assert_eq!(provider_error("access_denied"), "access_denied");
        assert_eq!(provider_error("<script>"), "unspecified");
        assert_eq!(provider_error(""), "unspecified");
        assert_eq!(provider_error(&"a".repeat(65)), "unspecified");
    }
}
