//! One contract for the named-token port, run against each implementation:
//! SQLite in a temp file (`cspm serve`) and DynamoDB on the emulator (the auth
//! table of an AWS deployment, beside the browser sessions).

use crate::aws_env::{endpoint, key_table, sdk_config};
use chrono::{DateTime, Utc};
use cspm::auth::session::{DynamoSessions, SessionStore};
use cspm::auth::tokens::{
    DynamoTokens, NamedToken, SqliteTokens, TokenError, TokenHash, TokenStore,
};
use cspm::auth::Role;

fn token(name: &str, role: Role) -> NamedToken {
    NamedToken {
        name: name.into(),
        role,
        created: "2026-03-01T10:00:00Z".parse().unwrap(),
        expires: Some("2026-06-01T10:00:00Z".parse().unwrap()),
        last_used: None,
        revoked: None,
    }
}

async fn contract(store: &dyn TokenStore) {
    // A bad name is refused before anything is written.
    let r = store
        .create(&token("a b", Role::Viewer), &TokenHash::of("z"))
        .await;
    assert!(matches!(r, Err(TokenError::InvalidName(_))));
    assert!(!store.any().await.unwrap());

    let h = TokenHash::of("cspm_first");
    store.create(&token("ci", Role::Ingest), &h).await.unwrap();
    assert!(store.any().await.unwrap(), "the first token turns auth on");
    assert_eq!(
        store.find(&h).await.unwrap(),
        Some(token("ci", Role::Ingest))
    );
    assert_eq!(
        store.find(&TokenHash::of("cspm_other")).await.unwrap(),
        None
    );

    let dup = store
        .create(&token("ci", Role::Admin), &TokenHash::of("x"))
        .await;
    assert!(matches!(dup, Err(TokenError::Duplicate(n)) if n == "ci"));
    assert_eq!(
        store.find(&TokenHash::of("x")).await.unwrap(),
        None,
        "a refused token left nothing behind"
    );
    let mut forever = token("admin-laptop", Role::Admin);
    forever.expires = None;
    store
        .create(&forever, &TokenHash::of("cspm_second"))
        .await
        .unwrap();

    let at: DateTime<Utc> = "2026-03-02T00:00:00Z".parse().unwrap();
    store.touch("ci", at).await.unwrap();
    store.touch("never-made", at).await.unwrap();
    store.revoke("ci", at).await.unwrap();
    let listed = store.list().await.unwrap();
    assert_eq!(
        listed.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["admin-laptop", "ci"],
        "by name, revoked ones included"
    );
    assert_eq!(listed[0], forever);
    assert_eq!(listed[1].last_used, Some(at));
    assert_eq!(listed[1].revoked, Some(at));
    let found = store.find(&h).await.unwrap().unwrap();
    assert!(!found.usable_at(at), "found, and seen to be revoked");
    assert!(matches!(
        store.revoke("ci", at).await,
        Err(TokenError::NotFound(_))
    ));
    assert!(matches!(
        store.revoke("nobody", at).await,
        Err(TokenError::NotFound(_))
    ));
    // Two made at the same moment are both kept.
    let (ta, tb) = (token("ship-a", Role::Ingest), token("ship-b", Role::Ingest));
    let (ha, hb) = (TokenHash::of("cspm_a"), TokenHash::of("cspm_b"));
    let (a, b) = tokio::join!(store.create(&ta, &ha), store.create(&tb, &hb));
    a.unwrap();
    b.unwrap();
    assert_eq!(store.list().await.unwrap().len(), 4);

    // Revoked, the name stays taken and authentication stays on.
    assert!(store.any().await.unwrap());
    let again = store
        .create(&token("ci", Role::Ingest), &TokenHash::of("y"))
        .await;
    assert!(matches!(again, Err(TokenError::Duplicate(_))));
}

#[tokio::test]
async fn the_sqlite_tokens_meet_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract(&SqliteTokens::open_dir(dir.path()).unwrap()).await;
}

#[tokio::test]
async fn the_dynamodb_tokens_meet_the_contract_beside_the_sessions() {
    let Some(ep) = endpoint("dynamodb_tokens_contract") else {
        return;
    };
    let client = cspm::aws::dynamodb_client(&sdk_config(&ep).await);
    let table = key_table(&client, "auth", "pk").await;
    // Sessions in the same table do not count as tokens.
    let sessions = DynamoSessions::new(client.clone(), &table);
    sessions
        .put_login(
            &TokenHash::of("state"),
            &cspm::auth::session::PendingLogin {
                nonce: "n".into(),
                verifier: "v".into(),
                return_to: "/".into(),
                expires_at: "2026-03-01T10:10:00Z".parse().unwrap(),
            },
        )
        .await
        .unwrap();
    contract(&DynamoTokens::new(client, &table)).await;
}
