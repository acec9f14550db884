//! The token client against a small provider on 127.0.0.1 that checks what a strict
//! provider checks: client authentication, one-time codes bound to a PKCE challenge
//! and a redirect URI, refresh tokens, and revocation.

use super::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

const CLIENT: &str = "dashboard client";
const SECRET: &str = "s3cr:et&+";
const REDIRECT: &str = "http://127.0.0.1:9/auth/callback";

#[derive(Clone)]
struct Provider {
    secret: Option<&'static str>,
    /// code → the S256 challenge its authorization request carried.
    codes: Arc<Mutex<HashMap<String, String>>>,
    revoked: Arc<Mutex<HashSet<String>>>,
    down: Arc<Mutex<bool>>,
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": "details for humans"})),
    )
        .into_response()
}

/// Client authentication as RFC 6749 §2.3.1 describes it.
fn client_ok(p: &Provider, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    match p.secret {
        Some(secret) => {
            let Some(basic) = headers.get("authorization").and_then(|h| h.to_str().ok()) else {
                return false;
            };
            let decoded = STANDARD
                .decode(basic.trim_start_matches("Basic "))
                .unwrap_or_default();
            let text = String::from_utf8(decoded).unwrap_or_default();
            let Some((id, pass)) = text.split_once(':') else {
                return false;
            };
            let unform = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .unwrap()
                    .1
                    .into_owned()
            };
            unform(id) == CLIENT && unform(pass) == secret && !form.contains_key("client_secret")
        }
        None => form.get("client_id").map(String::as_str) == Some(CLIENT),
    }
}

async fn token(
    State(p): State<Provider>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if *p.down.lock().unwrap() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if !client_ok(&p, &headers, &form) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    match field("grant_type") {
        "authorization_code" => {
            // A code works once, whatever happens next.
            let Some(challenge) = p.codes.lock().unwrap().remove(field("code")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let computed = URL_SAFE.encode(Sha256::digest(field("code_verifier").as_bytes()));
            if computed.trim_end_matches('=') != challenge || field("redirect_uri") != REDIRECT {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            Json(json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600,
                        "refresh_token": "rt-1", "id_token": "idt-1"}))
            .into_response()
        }
        "refresh_token" if field("refresh_token") == "rt-1" && !p.revoked.lock().unwrap().contains("rt-1") => {
            Json(json!({"access_token": "at-2", "token_type": "Bearer", "expires_in": 3600, "id_token": "idt-2"}))
                .into_response()
        }
        "refresh_token" => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
        _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

async fn revoke(
    State(p): State<Provider>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !client_ok(&p, &headers, &form) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    p.revoked
        .lock()
        .unwrap()
        .insert(form.get("token").cloned().unwrap_or_default());
    StatusCode::OK.into_response()
}

async fn provider(secret: Option<&'static str>) -> (Provider, TokenClient) {
    let p = Provider {
        secret,
        codes: Arc::default(),
        revoked: Arc::default(),
        down: Arc::default(),
    };
    let app = Router::new()
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .with_state(p.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (p, client(&base, secret))
}

fn client(base: &Url, secret: Option<&str>) -> TokenClient {
    TokenClient::new(
        super::super::http_client(),
        base.join("/token").unwrap(),
        Some(base.join("/revoke").unwrap()),
        CLIENT,
        secret.map(Secret::new),
    )
}

/// What the authorization endpoint does: remembers the code's challenge.
fn authorize(p: &Provider, code: &str, verifier: &PkceVerifier) {
    p.codes
        .lock()
        .unwrap()
        .insert(code.to_string(), verifier.challenge());
}

#[tokio::test]
async fn a_confidential_client_redeems_a_code_once_with_its_verifier() {
    let (p, client) = provider(Some(SECRET)).await;
    let verifier = PkceVerifier::generate();
    authorize(&p, "code-1", &verifier);
    let redirect = Url::parse(REDIRECT).unwrap();
    let tokens = client
        .exchange_code("code-1", &verifier, &redirect)
        .await
        .unwrap();
    assert_eq!(tokens.access_token, "at-1");
    assert_eq!(tokens.refresh_token.as_deref(), Some("rt-1"));
    assert_eq!(tokens.id_token.as_deref(), Some("idt-1"));
    assert!(
        !format!("{tokens:?}").contains("rt-1"),
        "Debug shows no token"
    );
    let err = client
        .exchange_code("code-1", &verifier, &redirect)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TokenError::Refused { status: 400, ref error } if error == "invalid_grant"),
        "{err}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_code_with_another_verifier_is_refused() {
    let (p, client) = provider(Some(SECRET)).await;
    authorize(&p, "code-1", &PkceVerifier::generate());
    let err = client
        .exchange_code(
            "code-1",
            &PkceVerifier::generate(),
            &Url::parse(REDIRECT).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, TokenError::Refused { ref error, .. } if error == "invalid_grant"),
        "{err}"
    );
}

#[tokio::test]
async fn a_public_client_sends_its_id_in_the_form() {
    let (p, client) = provider(None).await;
    let verifier = PkceVerifier::generate();
    authorize(&p, "code-2", &verifier);
    let tokens = client
        .exchange_code("code-2", &verifier, &Url::parse(REDIRECT).unwrap())
        .await
        .unwrap();
    assert_eq!(tokens.token_type, "Bearer");
}

#[tokio::test]
async fn a_wrong_secret_is_an_invalid_client() {
    let (p, right) = provider(Some(SECRET)).await;
    let verifier = PkceVerifier::generate();
    authorize(&p, "code-3", &verifier);
    let base = right.token_endpoint.join("/").unwrap();
    let wrong = client(&base, Some("not-the-secret"));
    let err = wrong
        .exchange_code("code-3", &verifier, &Url::parse(REDIRECT).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, TokenError::Refused { status: 401, ref error } if error == "invalid_client"),
        "{err}"
    );
}

#[tokio::test]
async fn refresh_renews_until_the_refresh_token_is_revoked() {
    let (_p, client) = provider(Some(SECRET)).await;
    let renewed = client.refresh("rt-1").await.unwrap();
    assert_eq!(renewed.access_token, "at-2");
    assert_eq!(
        renewed.refresh_token, None,
        "the caller keeps the old refresh token"
    );
    client
        .revoke("rt-1", TokenKind::RefreshToken)
        .await
        .unwrap();
    let err = client.refresh("rt-1").await.unwrap_err();
    assert!(
        matches!(err, TokenError::Refused { ref error, .. } if error == "invalid_grant"),
        "{err}"
    );
}

#[tokio::test]
async fn a_provider_that_is_down_is_retryable() {
    let (p, client) = provider(Some(SECRET)).await;
    *p.down.lock().unwrap() = true;
    let err = client.refresh("rt-1").await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let none = TokenClient {
        revocation_endpoint: None,
        ..client
    };
    assert!(matches!(
        none.revoke("x", TokenKind::AccessToken).await,
        Err(TokenError::NoRevocation)
    ));
}
