//! `cspm tokens` through the real binary: `create` prints the token alone,
//! `list` never shows it, a duplicate name is refused, and a revoke (or the first
//! token) changes what a running `cspm serve` accepts from its next request.

use crate::serve_e2e::serve;
use std::process::{Command, Output};

const CSPM: &str = env!("CARGO_BIN_EXE_cspm");

fn tokens(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(CSPM)
        .arg("tokens")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("CSPM_DATA_DIR")
        .output()
        .expect("run cspm tokens")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn create_prints_only_the_token_list_never_shows_it_and_names_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    let made = tokens(
        dir.path(),
        &[
            "create",
            "--name",
            "ci",
            "--role",
            "ingest",
            "--expires",
            "90d",
        ],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let out = stdout(&made);
    let token = out.strip_suffix('\n').expect("one line");
    assert!(!token.contains(char::is_whitespace), "{out:?}");
    assert!(token.starts_with("cspm_") && token.len() >= 40, "{out:?}");

    let again = tokens(dir.path(), &["create", "--name", "ci", "--role", "viewer"]);
    assert!(!again.status.success());
    assert!(
        stdout(&again).is_empty(),
        "a refused create prints no token"
    );
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let bad_role = tokens(dir.path(), &["create", "--name", "x", "--role", "root"]);
    assert!(!bad_role.status.success());
    assert!(stdout(&bad_role).is_empty());

    let listed = tokens(dir.path(), &["list"]);
    assert!(listed.status.success());
    let text = stdout(&listed);
    assert!(
        !text.contains(token) && !text.contains(&token[5..]),
        "{text}"
    );
    let row = text.lines().find(|l| l.starts_with("ci ")).expect(&text);
    assert!(row.contains("ingest") && row.ends_with("active"), "{row}");
    assert!(
        !text.lines().any(|l| l.starts_with("x ")),
        "the refused token was not kept"
    );

    // Only the hash is in the database file.
    let db = std::fs::read(dir.path().join("cspm.db")).unwrap();
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()));

    let revoked = tokens(dir.path(), &["revoke", "ci"]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(stdout(&tokens(dir.path(), &["list"]))
        .lines()
        .any(|l| l.starts_with("ci ") && l.ends_with("revoked")));
    assert!(
        !tokens(dir.path(), &["revoke", "ci"]).status.success(),
        "revoked twice"
    );
}

#[tokio::test]
async fn a_running_server_follows_create_and_revoke_from_its_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]);
    let client = reqwest::Client::new();
    let get = |bearer: Option<&str>| {
        let mut req = client.get(format!("{}/findings", server.base));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        get(None).await,
        200,
        "open on loopback with nothing configured"
    );

    let made = tokens(
        dir.path(),
        &["create", "--name", "reader", "--role", "viewer"],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let token = stdout(&made).trim().to_string();
    assert_eq!(
        get(None).await,
        401,
        "the first token turns authentication on"
    );
    assert_eq!(get(Some(&token)).await, 200);
    let patch = client
        .patch(format!("{}/findings/0000000000000000000000", server.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"workflow_status": "RESOLVED"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 403, "a viewer may not change findings");
    let health = client
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "health stays open");

    assert!(tokens(dir.path(), &["revoke", "reader"]).status.success());
    assert_eq!(
        get(Some(&token)).await,
        401,
        "revoked: refused by the next request"
    );
    let listed = stdout(&tokens(dir.path(), &["list"]));
    let row = listed.lines().find(|l| l.starts_with("reader ")).unwrap();
    let cols: Vec<&str> = row
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(cols.len(), 6, "{row}");
    assert_ne!(cols[4], "never", "its last use was recorded: {row}");
    assert_eq!(cols[5], "revoked");
}

/// `--table`: the same commands against an AWS deployment's auth table (on the
/// emulator), where the `api` Lambda looks tokens up.
#[tokio::test]
async fn the_same_commands_keep_tokens_in_the_auth_table_with_table() {
    use cspm::auth::tokens::{DynamoTokens, TokenHash, TokenStore};
    let Some(ep) = crate::aws_env::endpoint("tokens_cli_table") else {
        return;
    };
    let client = cspm::aws::dynamodb_client(&crate::aws_env::sdk_config(&ep).await);
    let table = crate::aws_env::key_table(&client, "auth", "pk").await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([
            "--table",
            &table,
            "--aws-endpoint",
            &ep,
            "--aws-region",
            "us-east-1",
        ]);
        Command::new(CSPM)
            .arg("tokens")
            .args(&all)
            .arg("--data-dir")
            .arg(dir.path())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("CSPM_DATA_DIR")
            .output()
            .expect("run cspm tokens")
    };
    let made = run(&["create", "--name", "ci", "--role", "ingest"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let token = stdout(&made).trim_end().to_string();
    let store = DynamoTokens::new(client, &table);
    let found = store.find(&TokenHash::of(&token)).await.unwrap().unwrap();
    assert_eq!(found.role, cspm::auth::Role::Ingest);
    assert!(
        !dir.path().join("cspm.db").exists(),
        "nothing written to the data dir"
    );
    let listed = run(&["list"]);
    assert!(stdout(&listed).contains("ci") && !stdout(&listed).contains(&token));
    let dup = run(&["create", "--name", "ci", "--role", "viewer"]);
    assert!(!dup.status.success() && stderr(&dup).contains("already exists"));
    assert!(run(&["revoke", "ci"]).status.success());
    let found = store.find(&TokenHash::of(&token)).await.unwrap().unwrap();
    assert!(found.revoked.is_some());
}
