//! The `api` Lambda handler fed API Gateway HTTP API (payload v2) events built on
//! the recorded samples shipped with `aws_lambda_events`, answered by the shared
//! router over the DynamoDB store, through the same `lambda_http` adapter the
//! runtime uses; the findings a `POST /events` stored printed as EMF lines.

use crate::aws_env::{self, dynamo_store_at};
use crate::corpus::lambda_fixture;
use cspm::config::lambda::LambdaConfig;
use cspm::lambda::api;
use cspm::pipeline::Pipeline;
use cspm::sources::Normalizer;
use cspm::store::Store;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Service};
use serde_json::Value;
use shared_types::{FindingDetail, FindingPage, Severity, Summary};
use std::collections::HashMap;
use std::sync::Arc;

/// The recorded HTTP API v2 request, re-aimed at `method path?query` with `body`,
/// from an analyst the JWT authorizer verified.
fn v2_event(method: &str, path: &str, query: &str, body: Option<&str>) -> Value {
    signed_in(v2_anonymous(method, path, query, body), Some("[analyst]"))
}

/// `event` with the claims API Gateway's JWT authorizer passes for a Cognito
/// access token: `sub`, `username` and, when given, `cognito:groups` flattened
/// as HTTP APIs flatten arrays.
pub fn signed_in(mut event: Value, groups: Option<&str>) -> Value {
    let mut claims =
        serde_json::json!({"sub": "7d1e-user", "username": "ana", "token_use": "access"});
    if let Some(g) = groups {
        claims["cognito:groups"] = Value::String(g.into());
    }
    event["requestContext"]["authorizer"] =
        serde_json::json!({"jwt": {"claims": claims, "scopes": null}});
    event
}

/// The recorded request without an authorizer (only `/health` is routed so).
pub fn v2_anonymous(method: &str, path: &str, query: &str, body: Option<&str>) -> Value {
    let mut e = lambda_fixture("example-apigw-v2-request-no-authorizer.json");
    e["rawPath"] = Value::String(path.into());
    e["rawQueryString"] = Value::String(query.into());
    e["requestContext"]["http"]["method"] = Value::String(method.into());
    e["requestContext"]["http"]["path"] = Value::String(path.into());
    e["routeKey"] = Value::String("$default".into());
    e["queryStringParameters"] = serde_json::to_value(
        url_pairs(query)
            .into_iter()
            .collect::<HashMap<String, String>>(),
    )
    .unwrap();
    e["pathParameters"] = Value::Null;
    e["cookies"] = Value::Null;
    if let Some(h) = e["headers"].as_object_mut() {
        h.remove("authorization");
        h.insert(
            "content-type".into(),
            Value::String("application/json".into()),
        );
    }
    e["body"] = body.map(|b| Value::String(b.into())).unwrap_or(Value::Null);
    e["isBase64Encoded"] = Value::Bool(false);
    e
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2C", ",")))
        .collect()
}

/// Runs one event through the Lambda adapter; returns `(status, body JSON)`.
pub async fn invoke(app: &axum::Router, event: Value) -> (u16, Value) {
    let req: LambdaRequest = serde_json::from_value(event).expect("a valid HTTP API v2 event");
    let mut adapter = Adapter::from(app.clone());
    let resp = adapter
        .call(LambdaEvent::new(req, Context::default()))
        .await
        .expect("adapter answer");
    let v = serde_json::to_value(resp).unwrap();
    let status = v["statusCode"].as_u64().unwrap() as u16;
    let body = v["body"].as_str().unwrap_or("null");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn api_lambda_serves_the_router_for_http_api_v2_events() {
    let Some(ep) = aws_env::endpoint("api_lambda_v2_events") else {
        return;
    };
    let store = Arc::new(dynamo_store_at(&ep).await);
    let anchor = "2026-06-01T12:00:00Z".parse().unwrap();
    let fs: Vec<_> = cspm::demo::generate(40, anchor, 11).collect();
    assert!(store.upsert(&fs).await.unwrap().failed.is_empty());
    let config =
        LambdaConfig::from_lookup(|k| (k == "CSPM_TABLE_NAME").then(|| store.table().to_string()))
            .unwrap();
    let pipeline = Pipeline::new(Arc::new(Normalizer::default()), store.clone());
    let app = api::app(&config, pipeline, api::Parts::default());

    let (status, body) = invoke(&app, v2_event("GET", "/health", "", None)).await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = invoke(
        &app,
        v2_event("GET", "/findings", "severity=CRITICAL&limit=5", None),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let page: FindingPage = serde_json::from_value(body).unwrap();
    let want = fs
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    assert_eq!(page.items.len(), want.min(5));
    assert!(page.items.iter().all(|i| i.severity == Severity::Critical));

    let (status, body) = invoke(&app, v2_event("GET", "/summary", "", None)).await;
    assert_eq!(status, 200, "{body}");
    let summary: Summary = serde_json::from_value(body).unwrap();
    assert_eq!(summary.total, 40);

    let id = &fs[0].id;
    let patch = r#"{"workflow_status":"SUPPRESSED","note":"accepted"}"#;
    let (status, body) = invoke(
        &app,
        v2_event("PATCH", &format!("/findings/{id}"), "", Some(patch)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let d: FindingDetail = serde_json::from_value(body).unwrap();
    assert_eq!(d.audit.len(), 1);
    assert_eq!(d.audit[0].actor, "7d1e-user (ana)");

    let (status, _) = invoke(
        &app,
        v2_event("GET", "/findings/AAAAAAAAAAAAAAAAAAAAAA", "", None),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = invoke(&app, v2_event("GET", "/findings", "severity=SEVERE", None)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "severity");
}

/// What the Lambda printed, captured: a writer into a shared buffer.
#[derive(Clone, Default)]
struct Printed(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Printed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Printed {
    /// The lines printed since the last call.
    fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The metering is the pipeline's and the same over every store, so this runs on
/// SQLite (no emulator needed); the adapter and the router are the Lambda's.
#[tokio::test]
async fn each_api_invocation_prints_the_findings_it_stored_as_emf_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(cspm::store::SqliteStore::open_dir(tmp.path()).unwrap());
    let config =
        LambdaConfig::from_lookup(|k| (k == "CSPM_TABLE_NAME").then(|| "unused".to_string()))
            .unwrap();
    let metrics = cspm::metrics::Registry::new();
    let pipeline = crate::helpers::pipeline(store).with_metrics(metrics.clone(), api::SOURCE);
    let printed = Printed::default();
    let out: api::EmfOut = {
        let p = printed.clone();
        Arc::new(move || Box::new(p.clone()) as Box<dyn std::io::Write + Send>)
    };
    let app = api::print_metrics(
        api::app(&config, pipeline, api::Parts::default()),
        metrics,
        out,
    );
    // Three distinct findings, two HIGH and one CRITICAL.
    let docs: Vec<Value> = [("HIGH", 0), ("HIGH", 1), ("CRITICAL", 2)]
        .iter()
        .map(|(label, i)| {
            let mut d = crate::events::compact_finding();
            d["Id"] = serde_json::json!(format!("api-emf-{i}"));
            d["Severity"] = serde_json::json!({ "Label": label });
            d
        })
        .collect();
    let body = Value::Array(docs).to_string();
    let (status, answer) = invoke(&app, v2_event("POST", "/events", "", Some(&body))).await;
    assert_eq!(status, 200, "{answer}");
    let mut got: Vec<(String, String, f64)> = Vec::new();
    for line in printed.take() {
        let e = crate::metrics::decode_emf(&line);
        assert_eq!(
            (e.namespace.as_str(), e.name.as_str(), e.unit.as_str()),
            ("cspm", "FindingsStored", "Count"),
            "{line}"
        );
        assert_eq!(
            e.sets,
            vec![vec!["Severity".to_string(), "Source".into()], vec![]]
        );
        got.push((
            e.dims["Severity"].clone(),
            e.dims["Source"].clone(),
            e.value,
        ));
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("CRITICAL".to_string(), "api".to_string(), 1.0),
            ("HIGH".to_string(), "api".to_string(), 2.0),
        ]
    );
    // The same documents again store nothing new; a read stores nothing: no lines.
    let (status, answer) = invoke(&app, v2_event("POST", "/events", "", Some(&body))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(printed.take(), Vec::<String>::new());
    let (status, _) = invoke(&app, v2_event("GET", "/summary", "", None)).await;
    assert_eq!(status, 200);
    assert_eq!(printed.take(), Vec::<String>::new());
}

/// The Lambda's router with `parts` over a SQLite store (in the returned temp
/// dir) holding `n` findings: for what the router decides the same over every store.
async fn sqlite_app(
    n: usize,
    parts: api::Parts,
) -> (tempfile::TempDir, Vec<shared_types::Finding>, axum::Router) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(cspm::store::SqliteStore::open_dir(tmp.path()).unwrap());
    let fs = crate::helpers::findings(n, 5);
    store.upsert(&fs).await.unwrap();
    let config =
        LambdaConfig::from_lookup(|k| (k == "CSPM_TABLE_NAME").then(|| "unused".to_string()))
            .unwrap();
    let app = api::app(&config, crate::helpers::pipeline(store), parts);
    (tmp, fs, app)
}

/// The role comes from `cognito:groups` in the authorizer's claims; the check is
/// the router's and the same over every store, so this runs on SQLite.
#[tokio::test]
async fn api_lambda_takes_the_role_from_the_authorizers_cognito_groups() {
    let (_tmp, fs, app) = sqlite_app(3, api::Parts::default()).await;
    let patch = r#"{"workflow_status":"NOTIFIED"}"#;
    let path = format!("/findings/{}", fs[0].id);
    let as_groups = |groups: Option<&str>, method: &str, path: &str, body: Option<&str>| {
        signed_in(v2_anonymous(method, path, "", body), groups)
    };
    for (groups, read, write) in [
        (Some("[viewer]"), 200, 403),
        (None, 200, 403),
        (Some("[ops auditors]"), 200, 403),
        (Some("[viewer analyst]"), 200, 200),
        (Some("[admin]"), 200, 200),
    ] {
        let (status, _) = invoke(&app, as_groups(groups, "GET", "/findings", None)).await;
        assert_eq!(status, read, "{groups:?} reading");
        let (status, body) = invoke(&app, as_groups(groups, "PATCH", &path, Some(patch))).await;
        assert_eq!(status, write, "{groups:?} writing: {body}");
        if write == 403 {
            assert_eq!(body["error"]["code"], "forbidden");
        }
    }
    // Without verified claims (the gateway routes only /health so) nothing else answers.
    let (status, _) = invoke(&app, v2_anonymous("GET", "/findings", "", None)).await;
    assert_eq!(status, 401);
    let (status, _) = invoke(&app, v2_anonymous("GET", "/health", "", None)).await;
    assert_eq!(status, 200);
}

/// Named tokens on AWS: made by `cspm tokens` in the auth table, accepted by the
/// Lambda with their role, refused from the request after a revoke.
#[tokio::test]
async fn api_lambda_accepts_named_tokens_from_the_auth_table_until_revoked() {
    use cspm::auth::tokens::{DynamoTokens, NamedToken, TokenHash, TokenStore};
    let Some(ep) = aws_env::endpoint("api_lambda_named_tokens") else {
        return;
    };
    let client = cspm::aws::dynamodb_client(&aws_env::sdk_config(&ep).await);
    let table = aws_env::key_table(&client, "auth", "pk").await;
    let tokens = Arc::new(DynamoTokens::new(client, &table));
    let now = chrono::Utc::now();
    let secret = cspm::auth::tokens::generate();
    let token = NamedToken {
        name: "ci-ingest".into(),
        role: cspm::auth::Role::Viewer,
        created: now,
        expires: None,
        last_used: None,
        revoked: None,
    };
    tokens
        .create(&token, &TokenHash::of(&secret))
        .await
        .unwrap();

    let parts = api::Parts {
        tokens: Some(tokens.clone()),
        ..Default::default()
    };
    let (_tmp, fs, app) = sqlite_app(2, parts).await;
    let with = |token: &str, method: &str, path: &str, body: Option<&str>| {
        let mut e = v2_anonymous(method, path, "", body);
        e["headers"]["authorization"] = Value::String(format!("Bearer {token}"));
        e
    };
    let (status, _) = invoke(&app, with(&secret, "GET", "/findings", None)).await;
    assert_eq!(status, 200, "the token reads");
    let path = format!("/findings/{}", fs[0].id);
    let (status, body) = invoke(
        &app,
        with(
            &secret,
            "PATCH",
            &path,
            Some(r#"{"workflow_status":"NOTIFIED"}"#),
        ),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "a viewer token does not write"
    );
    let (status, _) = invoke(&app, with("cspm_not-a-token", "GET", "/findings", None)).await;
    assert_eq!(status, 401);
    assert!(
        tokens.list().await.unwrap()[0].last_used.is_some(),
        "its use is recorded"
    );
    tokens
        .revoke("ci-ingest", chrono::Utc::now())
        .await
        .unwrap();
    let (status, _) = invoke(&app, with(&secret, "GET", "/findings", None)).await;
    assert_eq!(status, 401, "revoked: refused from the next request");
}

/// The static admin token comes from the SecureString of its own that
/// `CSPM_API_TOKEN_PARAMETER` names, and opens the API; one under the SSM prefix
/// (readable by the scanner and the fanout too) is not used, and a parameter that
/// does not exist leaves the api without a static token rather than failing it.
/// (Other read failures fail the cold start; the emulator has no way to cause one.)
#[tokio::test(flavor = "multi_thread")]
async fn api_lambda_reads_its_static_token_from_its_own_parameter_only() {
    use tower::ServiceExt;
    let Some(ep) = aws_env::endpoint("api_lambda_static_token") else {
        return;
    };
    let sdk = aws_env::sdk_config(&ep).await;
    let name = format!("/{}-api/api_token", aws_env::unique("cspm"));
    let token = "static-admin-token-0123456789abcdef";
    aws_env::put_secure(&aws_sdk_ssm::Client::new(&sdk), &name, token).await;
    let config_naming = |parameter: Option<String>| {
        LambdaConfig::from_lookup(move |k| match k {
            "CSPM_TABLE_NAME" => Some("unused".to_string()),
            "CSPM_API_TOKEN_PARAMETER" => parameter.clone(),
            _ => None,
        })
        .unwrap()
    };
    let prefix = HashMap::from([(
        "api_token".to_string(),
        "under-the-prefix-0123456789".into(),
    )]);
    let read = |parameter: Option<String>| {
        let (sdk, prefix) = (&sdk, &prefix);
        async move {
            cspm::lambda::boot::api_token(&config_naming(parameter), sdk, prefix)
                .await
                .unwrap()
        }
    };
    assert_eq!(read(Some(name.clone())).await.as_deref(), Some(token));
    assert_eq!(read(None).await, None, "the prefix's token is not used");
    assert_eq!(read(Some(format!("{name}-missing"))).await, None);

    // The token read opens the API; the prefix's does not.
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(cspm::store::SqliteStore::open_dir(tmp.path()).unwrap());
    let app = api::app(
        &config_naming(Some(name.clone())),
        crate::helpers::pipeline(store),
        api::Parts {
            api_token: read(Some(name)).await,
            ..Default::default()
        },
    );
    for (bearer, status) in [(token, 200), ("under-the-prefix-0123456789", 401)] {
        let request = axum::http::Request::get("/findings?limit=1")
            .header("authorization", format!("Bearer {bearer}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let answer = app.clone().oneshot(request).await.unwrap();
        assert_eq!(answer.status().as_u16(), status, "bearer {bearer}");
    }
}
