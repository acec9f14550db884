//! One contract for the browser-session port (sessions and pending sign-ins,
//! keyed by hashes), run against each implementation: SQLite in a temp file
//! (`cspm serve`) and DynamoDB on the emulator (the `api` Lambda), the table as
//! Terraform makes it. Time is the test's own.

use crate::aws_env::{endpoint, key_table, sdk_config};
use chrono::{DateTime, Duration, Utc};
use cspm::auth::session::{
    DynamoSessions, PendingLogin, Session, SessionStore, SessionTokens, SessionUser, SqliteSessions,
};
use cspm::auth::tokens::TokenHash;
use cspm::auth::{Principal, Role};

fn t0() -> DateTime<Utc> {
    "2026-05-01T00:00:00Z".parse().unwrap()
}

fn session(sub: &str, refresh: Option<&str>) -> Session {
    Session {
        user: SessionUser {
            sub: sub.into(),
            email: Some(format!("{sub}@example.com")),
            name: Some(format!("{sub} Example")),
        },
        principal: Principal::person(sub, Some(&format!("{sub}@example.com")), Role::Analyst),
        csrf_token: "csrf-token".into(),
        tokens: SessionTokens {
            access_token: "access".into(),
            id_token: Some("id.token.sig".into()),
            refresh_token: refresh.map(str::to_string),
        },
        tokens_expire_at: t0() + Duration::minutes(5),
        created_at: t0(),
        expires_at: t0() + Duration::hours(12),
    }
}

fn login(return_to: &str) -> PendingLogin {
    PendingLogin {
        nonce: "nonce".into(),
        verifier: "verifier".into(),
        return_to: return_to.into(),
        expires_at: t0() + Duration::minutes(10),
    }
}

async fn contract(store: &dyn SessionStore) {
    // Sessions: found by the hash of their id until they end, deleted once.
    let id = TokenHash::of("session-id");
    let ana = session("ana", Some("refresh-1"));
    store.save(&id, &ana).await.unwrap();
    assert_eq!(store.find(&id, t0()).await.unwrap(), Some(ana.clone()));
    assert_eq!(
        store.find(&TokenHash::of("other"), t0()).await.unwrap(),
        None
    );
    let end = t0() + Duration::hours(12);
    assert_eq!(store.find(&id, end).await.unwrap(), None, "ended");
    assert_eq!(
        store
            .find(&id, end - Duration::milliseconds(1))
            .await
            .unwrap(),
        Some(ana.clone()),
        "the end is kept to the millisecond"
    );

    // A renewal replaces the session whole, only while it is stored as it was
    // read; absent fields read back as absent.
    let mut renewed = session("ana", None);
    renewed.tokens.access_token = "access-2".into();
    renewed.tokens.id_token = None;
    renewed.user.email = None;
    renewed.user.name = None;
    renewed.principal.role = Role::Viewer;
    renewed.tokens_expire_at = t0() + Duration::minutes(65);
    assert!(store.replace(&id, &ana, &renewed).await.unwrap());
    assert_eq!(store.find(&id, t0()).await.unwrap(), Some(renewed.clone()));
    let mut late = renewed.clone();
    late.tokens.access_token = "access-from-a-stale-read".into();
    assert!(
        !store.replace(&id, &ana, &late).await.unwrap(),
        "a renewal of what is no longer stored is refused"
    );
    assert_eq!(store.find(&id, t0()).await.unwrap(), Some(renewed.clone()));

    assert_eq!(store.delete(&id).await.unwrap(), Some(renewed.clone()));
    assert_eq!(store.delete(&id).await.unwrap(), None, "once");
    assert_eq!(store.find(&id, t0()).await.unwrap(), None);
    assert!(
        !store.replace(&id, &renewed, &late).await.unwrap(),
        "a renewal never brings back a signed-out session"
    );
    assert_eq!(store.find(&id, t0()).await.unwrap(), None);

    // Sign-in attempts: taken once, not after they expire.
    let (a, b) = (TokenHash::of("state-a"), TokenHash::of("state-b"));
    store
        .put_login(&a, &login("/ui/findings?severity=HIGH"))
        .await
        .unwrap();
    store.put_login(&b, &login("/ui/")).await.unwrap();
    assert_eq!(
        store.take_login(&a, t0()).await.unwrap(),
        Some(login("/ui/findings?severity=HIGH"))
    );
    assert_eq!(store.take_login(&a, t0()).await.unwrap(), None, "replayed");
    let late = t0() + Duration::minutes(10);
    assert_eq!(store.take_login(&b, late).await.unwrap(), None, "expired");
    assert_eq!(
        store.take_login(&b, t0()).await.unwrap(),
        None,
        "an expired attempt is gone after it was asked for"
    );

    // Two callbacks racing with one state: exactly one gets the attempt.
    let c = TokenHash::of("state-c");
    store.put_login(&c, &login("/ui/")).await.unwrap();
    let (x, y) = tokio::join!(store.take_login(&c, t0()), store.take_login(&c, t0()));
    assert_eq!(
        [x.unwrap(), y.unwrap()]
            .iter()
            .filter(|l| l.is_some())
            .count(),
        1
    );
}

#[tokio::test]
async fn the_sqlite_sessions_meet_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&SqliteSessions::open_dir(dir.path()).unwrap()).await;
}

#[tokio::test]
async fn the_dynamodb_sessions_meet_the_contract() {
    let Some(ep) = endpoint("dynamodb_sessions_contract") else {
        return;
    };
    let client = cspm::aws::dynamodb_client(&sdk_config(&ep).await);
    let table = key_table(&client, "auth", "pk").await;
    let store = DynamoSessions::new(client.clone(), &table);
    contract(&store).await;

    // What the table holds: hashes for keys, and the TTL attribute in seconds.
    let id = TokenHash::of("raw-session-id");
    store.save(&id, &session("bo", Some("r"))).await.unwrap();
    let items = client.scan().table_name(&table).send().await.unwrap();
    let item = items
        .items()
        .iter()
        .find(|i| i["pk"].as_s().unwrap().starts_with("session#"))
        .unwrap();
    assert_eq!(
        item["pk"].as_s().unwrap(),
        &format!("session#{}", id.to_hex())
    );
    assert_eq!(
        item["expires_at"].as_n().unwrap(),
        &(t0() + Duration::hours(12)).timestamp().to_string()
    );
    let raw = format!("{items:?}");
    assert!(!raw.contains("raw-session-id"), "the id itself is stored");
}
