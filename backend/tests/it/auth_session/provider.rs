//! A strict OpenID provider on 127.0.0.1 for the sign-in tests: discovery, an
//! authorization endpoint that checks the request (client, registered redirect
//! URI, `code` + S256 challenge, `state`, `nonce`, `openid`), a token endpoint
//! that redeems a code once, only with the matching PKCE verifier and redirect
//! URI, and rotates refresh tokens; RS256 ID tokens signed with a key made here;
//! revocation and an end-session endpoint. Knobs let a test change the user, the
//! token lifetime, or make the provider misbehave (a wrong nonce, a refusal).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair, RsaPublicKeyComponents};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use url::Url;

/// Our client id at the provider (a public client: no secret).
pub const CLIENT_ID: &str = "cspm-dashboard";

/// The person who signs in at the provider.
#[derive(Clone)]
pub struct User {
    pub sub: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub groups: Vec<&'static str>,
}

struct Grant {
    user: User,
    challenge: String,
    redirect_uri: String,
    nonce: String,
}

#[derive(Default)]
struct Knobs {
    user: Option<User>,
    /// Seconds tokens live (negative: issued already expired).
    lifetime: i64,
    /// Put this nonce in ID tokens instead of the one asked for.
    wrong_nonce: bool,
    /// Send the browser back with `error=access_denied`.
    deny: bool,
    /// Discovery as Cognito's: the end-session endpoint is its `/logout` (which
    /// takes Cognito's parameters), revocation at `/oauth2/revoke`; the pool's
    /// domain is here the issuer's origin.
    cognito: bool,
    /// A confidential client: the token and revocation endpoints want HTTP Basic
    /// with this secret (RFC 6749 §2.3.1) instead of `client_id` in the form.
    client_secret: Option<String>,
}

struct Inner {
    issuer: String,
    redirect_uri: String,
    key: RsaKeyPair,
    knobs: Mutex<Knobs>,
    codes: Mutex<HashMap<String, Grant>>,
    refresh: Mutex<HashMap<String, User>>,
    revoked: Mutex<HashSet<String>>,
    refreshes: Mutex<usize>,
}

/// The running provider.
#[derive(Clone)]
pub struct Provider(Arc<Inner>);

fn random() -> String {
    cspm::auth::session::random_secret()
}

impl Provider {
    /// Starts a provider that accepts `redirect_uri` as the only callback.
    pub async fn start(redirect_uri: &str) -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let inner = Inner {
            issuer,
            redirect_uri: redirect_uri.to_string(),
            key: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
            knobs: Mutex::new(Knobs {
                lifetime: 3600,
                ..Default::default()
            }),
            codes: Mutex::default(),
            refresh: Mutex::default(),
            revoked: Mutex::default(),
            refreshes: Mutex::new(0),
        };
        let p = Provider(Arc::new(inner));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/oauth2/revoke", post(revoke))
            .with_state(p.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        p
    }

    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// Who signs in next.
    pub fn sign_in_as(&self, user: User) {
        self.0.knobs.lock().unwrap().user = Some(user);
    }

    /// Tokens issued from now on live `secs` seconds (negative: already expired).
    pub fn token_lifetime(&self, secs: i64) {
        self.0.knobs.lock().unwrap().lifetime = secs;
    }

    /// ID tokens from now on carry a nonce other than the one asked for.
    pub fn wrong_nonce(&self) {
        self.0.knobs.lock().unwrap().wrong_nonce = true;
    }

    /// Discovery from now on looks like Cognito's (its `/logout` as the end-session
    /// endpoint, revocation at `/oauth2/revoke`).
    pub fn like_cognito(&self) {
        self.0.knobs.lock().unwrap().cognito = true;
    }

    /// From now on the client is confidential, with `secret`.
    pub fn require_secret(&self, secret: &str) {
        self.0.knobs.lock().unwrap().client_secret = Some(secret.to_string());
    }

    /// The next authorization requests are refused (`access_denied`).
    pub fn deny(&self) {
        self.0.knobs.lock().unwrap().deny = true;
    }

    /// Every refresh token issued so far stops working (as a revocation would).
    pub fn revoke_all_refresh_tokens(&self) {
        self.0.refresh.lock().unwrap().clear();
    }

    /// How many refresh grants were served.
    pub fn refreshes(&self) -> usize {
        *self.0.refreshes.lock().unwrap()
    }

    /// The tokens revoked at `/revoke`.
    pub fn revoked(&self) -> HashSet<String> {
        self.0.revoked.lock().unwrap().clone()
    }

    /// An ID token for `user` (signed with the provider's key).
    fn id_token(&self, user: &User, nonce: Option<&str>, lifetime: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": self.0.issuer, "aud": CLIENT_ID, "sub": user.sub, "email": user.email,
            "name": user.name, "groups": user.groups, "iat": now, "exp": now + lifetime,
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        let header = json!({"alg": "RS256", "kid": "k1", "typ": "JWT"});
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        let input = format!("{}.{}", part(&header), part(&claims));
        let mut sig = vec![0; self.0.key.public_modulus_len()];
        self.0
            .key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }

    fn tokens(&self, user: &User, nonce: Option<&str>) -> Value {
        let (lifetime, wrong) = {
            let k = self.0.knobs.lock().unwrap();
            (k.lifetime, k.wrong_nonce)
        };
        let nonce = nonce.map(|n| if wrong { "not-the-nonce" } else { n });
        let refresh = random();
        self.0
            .refresh
            .lock()
            .unwrap()
            .insert(refresh.clone(), user.clone());
        json!({
            "access_token": random(), "token_type": "Bearer",
            // RFC 6749 gives expires_in as a positive lifetime; an already expired
            // token is stated as 0.
            "expires_in": lifetime.max(0), "refresh_token": refresh,
            "id_token": self.id_token(user, nonce, lifetime),
        })
    }
}

/// Whether the request authenticates our client: HTTP Basic with the secret for a
/// confidential client, `client_id` in the form for a public one.
fn client_ok(
    p: &Provider,
    headers: &axum::http::HeaderMap,
    form: &HashMap<String, String>,
) -> bool {
    let secret = p.0.knobs.lock().unwrap().client_secret.clone();
    match secret {
        Some(secret) => {
            let want = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{secret}"))
            );
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                == Some(want.as_str())
        }
        None => form.get("client_id").map(String::as_str) == Some(CLIENT_ID),
    }
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({"error": error}))).into_response()
}

async fn discovery(State(p): State<Provider>) -> Json<Value> {
    let i = &p.0.issuer;
    if p.0.knobs.lock().unwrap().cognito {
        return Json(json!({
            "issuer": i, "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"),
            "end_session_endpoint": format!("{i}/logout"),
            "revocation_endpoint": format!("{i}/oauth2/revoke"),
            "scopes_supported": ["openid", "email", "phone", "profile"],
        }));
    }
    Json(json!({
        "issuer": i, "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"), "jwks_uri": format!("{i}/jwks"),
        "revocation_endpoint": format!("{i}/revoke"),
        "end_session_endpoint": format!("{i}/logout"),
        "scopes_supported": ["openid", "email", "profile", "offline_access"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(p): State<Provider>) -> Json<Value> {
    let c = RsaPublicKeyComponents::<Vec<u8>>::from(p.0.key.public_key());
    Json(
        json!({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(c.n), "e": URL_SAFE_NO_PAD.encode(c.e)}]}),
    )
}

/// The authorization endpoint: a bad request is answered here (400), never sent
/// to a redirect URI it did not register.
async fn authorize(
    State(p): State<Provider>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let f = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let bad = f("response_type") != "code"
        || f("client_id") != CLIENT_ID
        || f("redirect_uri") != p.0.redirect_uri
        || f("code_challenge_method") != "S256"
        || f("code_challenge").len() != 43
        || f("state").is_empty()
        || f("nonce").is_empty()
        || !f("scope").split(' ').any(|s| s == "openid");
    if bad {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let mut back = Url::parse(&p.0.redirect_uri).unwrap();
    let (deny, user) = {
        let k = p.0.knobs.lock().unwrap();
        (k.deny, k.user.clone().expect("a user to sign in"))
    };
    if deny {
        back.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("state", f("state"));
    } else {
        let code = random();
        p.0.codes.lock().unwrap().insert(
            code.clone(),
            Grant {
                user,
                challenge: f("code_challenge").to_string(),
                redirect_uri: f("redirect_uri").to_string(),
                nonce: f("nonce").to_string(),
            },
        );
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", f("state"));
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

async fn token(
    State(p): State<Provider>,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let f = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    if !client_ok(&p, &headers, &form) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    match f("grant_type") {
        "authorization_code" => {
            // A code works once, whatever happens next.
            let Some(grant) = p.0.codes.lock().unwrap().remove(f("code")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(f("code_verifier").as_bytes()));
            if computed != grant.challenge || f("redirect_uri") != grant.redirect_uri {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            Json(p.tokens(&grant.user, Some(&grant.nonce))).into_response()
        }
        "refresh_token" => {
            // Rotation: a refresh token works once.
            let Some(user) = p.0.refresh.lock().unwrap().remove(f("refresh_token")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            *p.0.refreshes.lock().unwrap() += 1;
            let user = p.0.knobs.lock().unwrap().user.clone().unwrap_or(user);
            Json(p.tokens(&user, None)).into_response()
        }
        _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

async fn revoke(
    State(p): State<Provider>,
    headers: axum::http::HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !client_ok(&p, &headers, &form) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let token = form.get("token").cloned().unwrap_or_default();
    p.0.refresh.lock().unwrap().remove(&token);
    p.0.revoked.lock().unwrap().insert(token);
    StatusCode::OK.into_response()
}
