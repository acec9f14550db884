//! Who acted: the audit trail names the token that changed a finding, and a
//! server without any auth configured treats loopback as the local admin.

use super::*;

#[tokio::test]
async fn the_audit_trail_names_the_token_that_changed_a_finding() {
    let m = matrix().await;
    let analyst = m.callers.iter().find(|c| c.label == "analyst").unwrap();
    let req = request(
        &Method::PATCH,
        "/findings/{id}",
        &m.id,
        analyst.bearer.as_deref(),
    );
    let (status, detail) = send(&m.app, req).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let last = detail["audit"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], "token:analyst-bot");
    // The use is recorded on the token (never the token itself).
    let listed = m.tokens.list().await.unwrap();
    let used = listed.iter().find(|t| t.name == "analyst-bot").unwrap();
    assert!(used.last_used.is_some());
    let never = listed.iter().find(|t| t.name == "gone").unwrap();
    assert!(
        never.last_used.is_none(),
        "a revoked token is never marked used"
    );
}

#[tokio::test]
async fn without_any_auth_configured_loopback_acts_as_local_admin() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let fixtures = findings(3, 9);
    store.upsert(&fixtures).await.unwrap();
    let tokens = Arc::new(SqliteTokens::open_dir(dir.path()).unwrap());
    let pipeline = crate::helpers::pipeline(Arc::new(store) as Arc<dyn Store>);
    let app = router(
        AppState::new(pipeline, HttpConfig::default())
            .with_auth(Authenticator::new(None).with_tokens(tokens.clone())),
    );
    let patch = || request(&Method::PATCH, "/findings/{id}", &fixtures[0].id, None);
    let (status, detail) = send(&app, patch()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["audit"][0]["actor"], "local");
    // The first named token turns authentication on for the running router.
    tokens
        .create(
            &token("first", Role::Viewer, None),
            &TokenHash::of("cspm_first"),
        )
        .await
        .unwrap();
    assert_eq!(send(&app, patch()).await.0, StatusCode::UNAUTHORIZED);
    let viewer = request(
        &Method::PATCH,
        "/findings/{id}",
        &fixtures[0].id,
        Some("cspm_first"),
    );
    assert_eq!(send(&app, viewer).await.0, StatusCode::FORBIDDEN);
}
