//! Browser sign-in through our server (backend-for-frontend) against a strict
//! local provider: login → provider → callback → session → a CSRF-guarded change →
//! logout; tampered and replayed `state`, a wrong `nonce`, a provider refusal, an
//! open-redirect `return_to`; the cookies' flags; renewal with the refresh token
//! and a refused renewal; a viewer's session on an analyst route.

mod browser;
mod provider;

use axum::http::{Method, StatusCode};
use browser::{analyst, viewer, Site, API_TOKEN};

const LOCAL: &str = "http://127.0.0.1:8080";

#[tokio::test]
async fn a_browser_signs_in_changes_a_finding_with_the_csrf_token_and_signs_out() {
    let site = Site::start(LOCAL).await;
    site.provider.sign_in_as(analyst());
    let mut b = site.browser();
    let done = b.sign_in(Some("/ui/findings?severity=CRITICAL")).await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    assert_eq!(done.location(), "/ui/findings?severity=CRITICAL");
    assert!(b.jar.contains_key("cspm_session"));
    assert!(
        !b.jar.contains_key("cspm_login"),
        "the sign-in cookie is cleared"
    );

    let s = b.get("/auth/session").await;
    assert_eq!(s.status, StatusCode::OK);
    assert_eq!(s.body["user"]["sub"], "u-ana");
    assert_eq!(s.body["user"]["email"], "ana@example.com");
    assert_eq!(s.body["user"]["name"], "Ana Analyst");
    assert_eq!(s.body["role"], "analyst");
    let csrf = s.body["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(csrf.len(), 43);
    let expires: chrono::DateTime<chrono::Utc> =
        s.body["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires > chrono::Utc::now() + chrono::Duration::hours(11));
    // Tokens stay on the server: nothing the browser sees carries them.
    assert!(s
        .body
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.contains("token") || k == "csrf_token"));

    let path = format!("/findings/{}", site.finding);
    let reads = b.get(&path).await;
    assert_eq!(
        reads.status,
        StatusCode::OK,
        "a safe method needs no CSRF header"
    );
    let bare = b.send(Method::PATCH, &path, &[]).await;
    assert_eq!((bare.status, bare.code()), (StatusCode::FORBIDDEN, "csrf"));
    let wrong = b
        .send(Method::PATCH, &path, &[("x-csrf-token", "guess")])
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::FORBIDDEN, "csrf")
    );
    let ok = b
        .send(Method::PATCH, &path, &[("x-csrf-token", &csrf)])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let api = b
        .send(
            Method::PATCH,
            &format!("/api{path}"),
            &[("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(
        api.status,
        StatusCode::OK,
        "the /api mount takes the cookie too"
    );
    let detail = b.get(&path).await;
    let actors: Vec<_> = detail.body["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        actors.iter().any(|a| a == "u-ana (ana@example.com)"),
        "the audit trail names the person: {actors:?}"
    );
    // A bearer credential is judged by itself and needs no CSRF header.
    let bearer = format!("Bearer {API_TOKEN}");
    let scripted = b
        .send(Method::PATCH, &path, &[("authorization", &bearer)])
        .await;
    assert_eq!(scripted.status, StatusCode::OK, "{}", scripted.body);

    let no_csrf = b.send(Method::POST, "/auth/logout", &[]).await;
    assert_eq!(
        (no_csrf.status, no_csrf.code()),
        (StatusCode::FORBIDDEN, "csrf")
    );
    let out = b
        .send(Method::POST, "/auth/logout", &[("x-csrf-token", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    let logout = url::Url::parse(out.body["logout_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        logout.as_str().split('?').next().unwrap(),
        format!("{}/logout", site.provider.issuer())
    );
    let q: std::collections::HashMap<_, _> = logout.query_pairs().into_owned().collect();
    assert_eq!(q["post_logout_redirect_uri"], "http://127.0.0.1:8080/");
    assert_eq!(q["id_token_hint"].split('.').count(), 3);
    assert_eq!(
        site.provider.revoked().len(),
        1,
        "the refresh token is revoked"
    );
    assert!(!b.jar.contains_key("cspm_session"), "the cookie is cleared");

    assert_eq!(
        b.get("/auth/session").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(b.get(&path).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_old_session_cookie_is_dead_after_logout() {
    let site = Site::start(LOCAL).await;
    site.provider.sign_in_as(analyst());
    let mut b = site.browser();
    b.sign_in(None).await;
    let cookie = b.jar["cspm_session"].clone();
    let csrf = b.csrf().await;
    b.send(Method::POST, "/auth/logout", &[("x-csrf-token", &csrf)])
        .await;
    let mut stolen = site.browser();
    stolen.jar.insert("cspm_session".into(), cookie);
    assert_eq!(
        stolen.get("/findings").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_session_cookie_is_httponly_strict_and_secure_unless_loopback_http() {
    for (public, secure) in [(LOCAL, false), ("https://cspm.example.com", true)] {
        let site = Site::start(public).await;
        site.provider.sign_in_as(analyst());
        let mut b = site.browser();
        b.get("/auth/login").await;
        let login = b.last_set_cookies[0].clone();
        assert!(login.starts_with("cspm_login="), "{login}");
        assert!(
            login.contains("; HttpOnly") && login.contains("; SameSite=Lax"),
            "{login}"
        );
        assert_eq!(login.contains("; Secure"), secure, "{login}");
        let callback = b.visit_provider(None).await;
        b.get(&callback).await;
        let session = b
            .last_set_cookies
            .iter()
            .find(|c| c.starts_with("cspm_session="))
            .unwrap()
            .clone();
        for attr in [
            "; HttpOnly",
            "; SameSite=Strict",
            "; Path=/",
            "; Max-Age=43200",
        ] {
            assert!(session.contains(attr), "{attr} in {session}");
        }
        assert_eq!(session.contains("; Secure"), secure, "{public}: {session}");
    }
}

#[tokio::test]
async fn a_tampered_or_replayed_state_is_refused() {
    let site = Site::start(LOCAL).await;
    site.provider.sign_in_as(analyst());
    let mut b = site.browser();
    let callback = b.visit_provider(None).await;
    let state = b.jar["cspm_login"].clone();
    let flip = if state.ends_with('A') { "B" } else { "A" };
    let tampered = callback.replace(&state, &format!("{}{flip}", &state[..state.len() - 1]));
    assert_ne!(tampered, callback);
    let refused = b.get(&tampered).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );
    assert_eq!(refused.body["error"]["field"], "state");
    assert!(!b.jar.contains_key("cspm_session"));

    // Another browser (no sign-in cookie) cannot use this callback URL either.
    let mut other = site.browser();
    let planted = other.get(&callback).await;
    assert_eq!(
        (planted.status, planted.code()),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );

    // The sign-in cookie was cleared by the refusal; a browser that still has it
    // finishes once, and the same callback replayed is refused.
    let mut again = site.browser();
    again.jar.insert("cspm_login".into(), state.clone());
    let ok = again.get(&callback).await;
    assert_eq!(ok.status, StatusCode::FOUND, "{}", ok.body);
    again.jar.insert("cspm_login".into(), state);
    let replayed = again.get(&callback).await;
    assert_eq!(
        (replayed.status, replayed.code()),
        (StatusCode::BAD_REQUEST, "invalid_state")
    );
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let site = Site::start(LOCAL).await;
    site.provider.sign_in_as(analyst());
    site.provider.wrong_nonce();
    let mut b = site.browser();
    let done = b.sign_in(None).await;
    assert_eq!(
        (done.status, done.code()),
        (StatusCode::BAD_REQUEST, "sign_in_failed")
    );
    assert!(!b.jar.contains_key("cspm_session"));
    assert_eq!(
        b.get("/auth/session").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_provider_refusal_is_a_clear_400() {
    let site = Site::start(LOCAL).await;
    site.provider.sign_in_as(analyst());
    site.provider.deny();
    let mut b = site.browser();
    let done = b.sign_in(None).await;
    assert_eq!(
        (done.status, done.code()),
        (StatusCode::BAD_REQUEST, "sign_in_refused")
    );
    assert!(done.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("access_denied"));
    // Attacker-chosen text in `error` is not echoed.
    let mut c = site.browser();
    c.get("/auth/login").await;
    let state = c.jar["cspm_login"].clone();
    let odd = c
        .get(&format!("/auth/callback?error=%3Cscript%3E&state={state}"))
        .await;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST);
    assert!(!odd.body.to_string().contains("script"), "{}", odd.body);
}

#[tokio::test]
async fn return_to_must_be_a_path_on_this_site() {
    let site = Site::start(LOCAL).await;
    site.provider.sign_in_as(analyst());
    let mut b = site.browser();
    for evil in [
        "https://evil.example",
        "//evil.example/ui",
        "/\\evil.example",
    ] {
        let q: String = url::form_urlencoded::byte_serialize(evil.as_bytes()).collect();
        let refused = b.get(&format!("/auth/login?return_to={q}")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{evil}");
        assert_eq!(refused.body["error"]["field"], "return_to", "{evil}");
        assert!(
            !b.jar.contains_key("cspm_login"),
            "{evil}: no sign-in started"
        );
    }
    let done = b.sign_in(None).await;
    assert_eq!(done.location(), "/", "no return_to: the dashboard's root");
}

#[tokio::test]
async fn expired_tokens_are_renewed_with_the_refresh_token_before_serving() {
    let site = Site::start(LOCAL).await;
    site.provider.sign_in_as(analyst());
    // Issued already expired (within the verifier's 60 s leeway, so sign-in works).
    site.provider.token_lifetime(-30);
    let mut b = site.browser();
    assert_eq!(b.sign_in(None).await.status, StatusCode::FOUND);
    assert_eq!(site.provider.refreshes(), 0);
    site.provider.token_lifetime(3600);
    let s = b.get("/auth/session").await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    assert_eq!(site.provider.refreshes(), 1, "renewed before answering");
    assert_eq!(s.body["role"], "analyst");
    // Renewed for an hour: the next requests use the new tokens.
    assert_eq!(b.get("/findings").await.status, StatusCode::OK);
    assert_eq!(site.provider.refreshes(), 1);
}

#[tokio::test]
async fn a_refused_renewal_ends_the_session() {
    let site = Site::start(LOCAL).await;
    site.provider.sign_in_as(analyst());
    site.provider.token_lifetime(-30);
    let mut b = site.browser();
    assert_eq!(b.sign_in(None).await.status, StatusCode::FOUND);
    site.provider.revoke_all_refresh_tokens();
    let refused = b.get("/findings").await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(
        b.get("/auth/session").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_viewer_session_reads_but_is_refused_an_analyst_route() {
    let site = Site::start(LOCAL).await;
    site.provider.sign_in_as(viewer());
    let mut b = site.browser();
    b.sign_in(None).await;
    let csrf = b.csrf().await;
    assert_eq!(b.get("/auth/session").await.body["role"], "viewer");
    assert_eq!(b.get("/findings").await.status, StatusCode::OK);
    let path = format!("/findings/{}", site.finding);
    let denied = b
        .send(Method::PATCH, &path, &[("x-csrf-token", &csrf)])
        .await;
    assert_eq!(
        (denied.status, denied.code()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
}

#[tokio::test]
async fn without_sign_in_configured_the_session_says_so_and_the_other_auth_routes_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = cspm::store::SqliteStore::open_dir(dir.path()).unwrap();
    let pipeline = crate::helpers::pipeline(std::sync::Arc::new(store));
    let app = cspm::http::router(cspm::http::AppState::new(pipeline, Default::default()));
    // The session, which the dashboard asks for on every load, says "nothing
    // to sign in to" with a 204 rather than a failed request.
    for (method, path, status) in [
        (Method::GET, "/auth/login", StatusCode::NOT_FOUND),
        (Method::GET, "/auth/session", StatusCode::NO_CONTENT),
        (Method::POST, "/auth/logout", StatusCode::NOT_FOUND),
    ] {
        let req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
        assert_eq!(resp.status(), status, "{path}");
    }
}

/// On AWS: the `api` Lambda's own router and cold-start wiring, sessions in
/// DynamoDB, a provider that signs out like Cognito (its domain's `/logout` with
/// `client_id` and `logout_uri`, revocation at `/oauth2/revoke`).
#[tokio::test]
async fn through_the_api_lambda_sessions_live_in_dynamodb_and_sign_out_goes_to_cognito() {
    let Some(ep) = crate::aws_env::endpoint("api_lambda_sign_in") else {
        return;
    };
    const CLOUDFRONT: &str = "https://d111111abcdef8.cloudfront.net";
    let site = Site::lambda(CLOUDFRONT, &ep).await;
    site.provider.sign_in_as(analyst());
    let mut b = site.browser();
    let done = b.sign_in(Some("/ui/findings")).await;
    assert_eq!(done.status, StatusCode::FOUND, "{}", done.body);
    assert!(
        b.last_set_cookies
            .iter()
            .any(|c| c.starts_with("cspm_session=") && c.contains("; Secure")),
        "an https public URL gives Secure cookies: {:?}",
        b.last_set_cookies
    );
    let csrf = b.csrf().await;
    let path = format!("/findings/{}", site.finding);
    let ok = b
        .send(Method::PATCH, &path, &[("x-csrf-token", &csrf)])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let bare = b.send(Method::PATCH, &path, &[]).await;
    assert_eq!((bare.status, bare.code()), (StatusCode::FORBIDDEN, "csrf"));

    let out = b
        .send(Method::POST, "/auth/logout", &[("x-csrf-token", &csrf)])
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    let logout = url::Url::parse(out.body["logout_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        logout.as_str().split('?').next().unwrap(),
        format!("{}/logout", site.provider.issuer())
    );
    let q: std::collections::HashMap<_, _> = logout.query_pairs().into_owned().collect();
    assert_eq!(q["logout_uri"], format!("{CLOUDFRONT}/"));
    assert_eq!(q["client_id"], "cspm-dashboard");
    assert!(
        !q.contains_key("id_token_hint"),
        "Cognito's /logout takes none"
    );
    assert_eq!(
        site.provider.revoked().len(),
        1,
        "the refresh token is revoked at the domain's /oauth2/revoke"
    );
    assert_eq!(
        b.get("/auth/session").await.status,
        StatusCode::UNAUTHORIZED
    );

    // With its own sign-in the Lambda trusts no authorizer claims: API Gateway has
    // no authorizer any more, and claims in an event prove nothing.
    use crate::api_lambda::{invoke, signed_in, v2_anonymous};
    let forged = signed_in(v2_anonymous("GET", "/findings", "", None), Some("[admin]"));
    assert_eq!(invoke(&site.app, forged).await.0, 401);
    let health = v2_anonymous("GET", "/health", "", None);
    assert_eq!(invoke(&site.app, health).await.0, 200);
}
