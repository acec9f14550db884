//! The role matrix for people signed in with Cognito: access tokens from the
//! emulator's user pool, verified by `cspm serve`'s OIDC bearer check, get exactly
//! their group's routes; a user in no group is a viewer.

use crate::oidc_cognito::pool;
use crate::roles::{admitted, exports_in, remediation_off, request, send};
use axum::http::StatusCode;
use cspm::auth::oidc_bearer::OidcBearer;
use cspm::auth::{Authenticator, Role};
use cspm::http::routes::{table, Access};
use cspm::http::{router, AppState, HttpConfig};
use cspm::live::tickets::MemoryTickets;
use cspm::store::{SqliteStore, Store};
use std::sync::Arc;

#[tokio::test]
async fn each_cognito_group_gets_exactly_its_roles_routes() {
    let Some(endpoint) =
        crate::aws_env::endpoint("each_cognito_group_gets_exactly_its_roles_routes")
    else {
        return;
    };
    let pool = pool(&endpoint).await;
    let users = [
        ("vera", Some("viewer"), Role::Viewer),
        ("ana", Some("analyst"), Role::Analyst),
        ("adam", Some("admin"), Role::Admin),
        ("nora", None, Role::Viewer),
    ];
    for (name, group, _) in users {
        pool.user(name, group).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let fixtures = crate::helpers::findings(5, 3);
    store.upsert(&fixtures).await.unwrap();
    store
        .upsert(&[crate::helpers::control_finding()])
        .await
        .unwrap();
    let pipeline = crate::helpers::pipeline(Arc::new(store) as Arc<dyn Store>)
        .with_metrics(cspm::metrics::Registry::new(), "api");
    let bearer = OidcBearer::new(Arc::new(pool.verifier(&endpoint)));
    let auth = Authenticator::new(None).with_bearer_verifier(Arc::new(bearer));
    let exports = exports_in(&pipeline, dir.path());
    let remediation = remediation_off(&pipeline, dir.path());
    let state = AppState::new(pipeline, HttpConfig::default())
        .with_auth(auth)
        .with_tickets(Arc::new(MemoryTickets::default()))
        .with_exports(exports)
        .with_remediation(remediation);
    let app = router(state);
    let id = &fixtures[0].id;
    for (name, _, role) in users {
        let (access, id_token) = pool.sign_in(&pool.app_client_id, name).await;
        for route in table() {
            let Access::Role(required) = route.access else {
                continue;
            };
            let req = request(&route.method, route.path, id, Some(&access));
            let (status, body) = send(&app, req).await;
            let what = format!("{} {} as {name}: {body}", route.method, route.path);
            if role.includes(required) {
                assert_eq!(status, admitted(&route.method, route.path), "{what}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
            }
        }
        // An ID token is no bearer credential, whoever holds it.
        let req = request(&axum::http::Method::GET, "/summary", id, Some(&id_token));
        assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED, "{name}");
    }
    // A token no one issued.
    let req = request(
        &axum::http::Method::GET,
        "/summary",
        id,
        Some("aaa.bbb.ccc"),
    );
    assert_eq!(send(&app, req).await.0, StatusCode::UNAUTHORIZED);
}
