//! The live dashboard on AWS against the emulator: tickets in DynamoDB and the
//! `$connect` authorizer, the live sink posting through the real API Gateway
//! Management API client, and `resume` from the findings table's change index.
//!
//! moto answers every `PostToConnection` with 200, so a small fault layer in
//! front of it (this file's gateway proxy) answers 410 Gone for the connections
//! a test marks as closed and 429 once for one it marks as throttled, and
//! records what every connection was sent.

use super::aws_env::{endpoint, fanout_state_table, key_table, sdk_config, unique};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cspm::lambda::live::{Admission, LiveAuthorizer, LiveRoutes};
use cspm::live::connections::Connections;
use cspm::live::gateway::ApiGateway;
use cspm::live::resume::{Resume, Resumed};
use cspm::live::tickets::{DynamoTickets, Tickets};
use cspm::sinks::websocket::WebSocketSink;
use cspm::store::dynamo::{schema, DynamoStore};
use cspm::store::Store;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// What the gateway proxy was asked and how it answers.
#[derive(Default)]
struct Plan {
    gone: HashSet<String>,
    throttle_once: HashSet<String>,
    posted: HashMap<String, Vec<String>>,
    answered_410: Vec<String>,
}

async fn gateway_proxy(upstream: String, plan: Arc<Mutex<Plan>>) -> String {
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (plan, http, upstream) = (plan.clone(), http.clone(), upstream.clone());
            async move {
                // Connection ids end in `=`, which the SDK percent-encodes in the path.
                let id = uri
                    .path()
                    .rsplit("/@connections/")
                    .next()
                    .unwrap_or("")
                    .replace("%3D", "=");
                {
                    let mut p = plan.lock().unwrap();
                    if p.gone.contains(&id) {
                        p.answered_410.push(id);
                        return (
                            StatusCode::GONE,
                            [("x-amzn-errortype", "GoneException")],
                            r#"{"message":"injected: the connection is gone"}"#,
                        )
                            .into_response();
                    }
                    if p.throttle_once.remove(&id) {
                        return (
                            StatusCode::TOO_MANY_REQUESTS,
                            [("x-amzn-errortype", "LimitExceededException")],
                            r#"{"message":"injected: slow down"}"#,
                        )
                            .into_response();
                    }
                }
                let mut req = http
                    .request(method, format!("{upstream}{}", uri.path()))
                    .body(body.clone());
                for (k, v) in headers.iter() {
                    if k != "host" && k != "content-length" {
                        req = req.header(k, v);
                    }
                }
                let r = req.send().await.expect("emulator");
                let status = r.status().as_u16();
                if status == 200 {
                    let frame = String::from_utf8_lossy(&body).to_string();
                    plan.lock()
                        .unwrap()
                        .posted
                        .entry(id)
                        .or_default()
                        .push(frame);
                }
                let bytes = r.bytes().await.unwrap_or_default();
                Response::builder()
                    .status(status)
                    .body(axum::body::Body::from(bytes))
                    .unwrap()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn connect_event(ticket: Option<&str>, origin: &str) -> serde_json::Value {
    json!({
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/live/$connect",
        "headers": {"Host": "abcdef1234.execute-api.us-east-1.amazonaws.com", "Origin": origin,
            "Sec-WebSocket-Version": "13"},
        "queryStringParameters": ticket.map(|t| json!({"ticket": t})).unwrap_or(json!(null)),
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "Abc123="}
    })
}

#[tokio::test]
async fn the_authorizer_admits_a_fresh_ticket_once_and_refuses_reused_expired_and_foreign() {
    let Some(ep) = endpoint("live authorizer") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = fanout_state_table(&client).await;
    let tickets = DynamoTickets::new(client.clone(), &table);
    let auth = LiveAuthorizer {
        tickets: Box::new(tickets.clone()),
        allowed_origins: vec!["https://d111.cloudfront.net".into()],
    };
    let dashboard = "https://d111.cloudfront.net";
    let ticket = tickets.issue("alice@example.com").await.unwrap();
    // The table holds the ticket's hash, never the ticket.
    let scan = client.scan().table_name(&table).send().await.unwrap();
    assert!(!format!("{:?}", scan.items()).contains(&ticket));
    let ok = auth
        .handle(&connect_event(Some(&ticket), dashboard))
        .await
        .unwrap();
    assert_eq!(ok["principalId"], "alice@example.com");
    assert_eq!(ok["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(
        ok["policyDocument"]["Statement"][0]["Resource"],
        "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/live/$connect"
    );
    // Used once: refused (401).
    let again = auth.handle(&connect_event(Some(&ticket), dashboard)).await;
    assert_eq!(again.unwrap_err().to_string(), "Unauthorized");
    // No ticket, a forged one: 401.
    assert_eq!(
        auth.admit(&connect_event(None, dashboard)).await.unwrap(),
        Admission::Unauthorized
    );
    assert_eq!(
        auth.admit(&connect_event(Some(&"0".repeat(64)), dashboard))
            .await
            .unwrap(),
        Admission::Unauthorized
    );
    // Another site's page: denied (403) and the ticket is not spent.
    let fresh = tickets.issue("bob").await.unwrap();
    let denied = auth
        .handle(&connect_event(Some(&fresh), "https://evil.example"))
        .await
        .unwrap();
    assert_eq!(denied["policyDocument"]["Statement"][0]["Effect"], "Deny");
    assert_eq!(tickets.take(&fresh).await.unwrap().as_deref(), Some("bob"));
    // Expired (valid 30 s; this one's time ran out): refused even though the
    // item is still there (DynamoDB's TTL deletes late).
    let old = tickets.issue("carol").await.unwrap();
    use sha2::Digest;
    let key = format!("ticket#{}", hex::encode(sha2::Sha256::digest(&old)));
    client
        .update_item()
        .table_name(&table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(key))
        .update_expression("SET valid_until = :t")
        .expression_attribute_values(
            ":t",
            aws_sdk_dynamodb::types::AttributeValue::N(
                (chrono::Utc::now().timestamp() - 1).to_string(),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        auth.admit(&connect_event(Some(&old), dashboard))
            .await
            .unwrap(),
        Admission::Unauthorized
    );
}

struct Setup {
    client: aws_sdk_dynamodb::Client,
    connections: Connections,
    plan: Arc<Mutex<Plan>>,
    gateway: Arc<ApiGateway>,
}

async fn setup(ep: &str) -> Setup {
    let sdk = sdk_config(ep).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let connections_table = key_table(&client, "live", "connection_id").await;
    let connections = Connections::new(client.clone(), connections_table);
    let plan = Arc::new(Mutex::new(Plan::default()));
    let proxy = gateway_proxy(ep.trim_end_matches('/').to_string(), plan.clone()).await;
    Setup {
        gateway: Arc::new(ApiGateway::new(&sdk, &proxy)),
        client,
        connections,
        plan,
    }
}

#[tokio::test]
async fn the_live_sink_posts_to_every_connection_and_deletes_exactly_the_gone_ones() {
    let Some(ep) = endpoint("live sink") else {
        return;
    };
    let s = setup(&ep).await;
    let now = chrono::Utc::now();
    let ids: Vec<String> = (0..8).map(|i| format!("conn{i}=")).collect();
    for id in &ids {
        s.connections.add(id, "alice", now).await.unwrap();
    }
    {
        let mut p = s.plan.lock().unwrap();
        p.gone = HashSet::from(["conn2=".to_string(), "conn5=".to_string()]);
        p.throttle_once = HashSet::from(["conn7=".to_string()]);
    }
    let sink = WebSocketSink::new(s.connections.clone(), s.gateway.clone(), None);
    let mut changes = Vec::new();
    for (i, f) in crate::helpers::findings(3, 81).iter().enumerate() {
        let mut c = cspm::cli::sinks::test_change();
        c.finding.item = shared_types::FindingListItem::from(f);
        c.revision = i as u64 + 1;
        changes.push(c);
    }
    let pushed = sink.push(&changes).await.unwrap();
    assert_eq!((pushed.delivered, pushed.gone, pushed.failed), (6, 2, 0));
    let gone = {
        let p = s.plan.lock().unwrap();
        for id in &ids {
            let got = p.posted.get(id).map(Vec::len).unwrap_or(0);
            let want = if p.gone.contains(id) { 0 } else { 3 };
            assert_eq!(got, want, "{id}");
        }
        let frame: serde_json::Value = serde_json::from_str(&p.posted["conn0="][0]).unwrap();
        assert_eq!(frame["type"], "finding");
        assert!(frame.to_string().len() <= shared_types::MAX_FRAME_BYTES);
        assert_eq!(p.answered_410.len(), 2, "one post each, then deleted");
        p.gone.clone()
    };
    let mut left = s.connections.list(chrono::Utc::now()).await.unwrap();
    left.sort();
    let mut want: Vec<String> = ids.iter().filter(|i| !gone.contains(*i)).cloned().collect();
    want.sort();
    assert_eq!(
        left, want,
        "exactly the connections that answered 410 are deleted"
    );
}

#[tokio::test]
async fn a_resume_after_500_changes_returns_them_all_and_a_longer_absence_resyncs() {
    let Some(ep) = endpoint("live resume") else {
        return;
    };
    let s = setup(&ep).await;
    let table = unique("findings");
    schema::create_table(&s.client, &table).await.unwrap();
    let store = DynamoStore::new(
        cspm::aws::dynamodb_client(&sdk_config(&ep).await),
        super::aws_env::emulator_settings(&table),
    );
    let before =
        cspm::live::resume::position(chrono::Utc::now() - chrono::Duration::seconds(1), "x", 0);
    let fs = crate::helpers::findings(500, 82);
    store.upsert(&fs).await.unwrap();
    let resume = Resume::new(s.client.clone(), &table);
    let Resumed::Frames(frames) = resume.after(&before, 10_000).await.unwrap() else {
        panic!("500 changes fit a resume");
    };
    assert_eq!(frames.len(), 500);
    let ids: HashSet<String> = frames
        .iter()
        .map(|f| {
            serde_json::from_str::<serde_json::Value>(f).unwrap()["item"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, fs.iter().map(|f| f.id.clone()).collect::<HashSet<_>>());
    assert_eq!(resume.after(&before, 100).await.unwrap(), Resumed::TooFar);
    // Nothing changed after now (beyond the slack): nothing to send.
    let later =
        cspm::live::resume::position(chrono::Utc::now() + chrono::Duration::minutes(5), "x", 0);
    assert_eq!(
        resume.after(&later, 10_000).await.unwrap(),
        Resumed::Frames(vec![])
    );
    // Through the `live` function: the client's resume frame, answered on its connection.
    let routes = LiveRoutes {
        push: WebSocketSink::new(s.connections.clone(), s.gateway.clone(), None),
        connections: s.connections.clone(),
        resume,
        metrics: cspm::metrics::Registry::new(),
    };
    let connect = json!({"requestContext": {"eventType": "CONNECT", "connectionId": "page1=",
        "authorizer": {"principalId": "alice", "user": "alice"}}});
    assert_eq!(routes.handle(&connect).await.unwrap()["statusCode"], 200);
    let body = json!({"v": 1, "type": "resume", "after": before}).to_string();
    let msg =
        json!({"requestContext": {"eventType": "MESSAGE", "connectionId": "page1="}, "body": body});
    routes.handle(&msg).await.unwrap();
    assert_eq!(s.plan.lock().unwrap().posted["page1="].len(), 500);
    let bad = json!({"requestContext": {"eventType": "MESSAGE", "connectionId": "page1="}, "body": "{nope"});
    routes.handle(&bad).await.unwrap();
    assert!(s.plan.lock().unwrap().posted["page1="]
        .last()
        .unwrap()
        .contains("resync"));
    let disconnect =
        json!({"requestContext": {"eventType": "DISCONNECT", "connectionId": "page1="}});
    routes.handle(&disconnect).await.unwrap();
    assert!(s
        .connections
        .list(chrono::Utc::now())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_keep_alive_prints_the_open_connections_as_one_emf_line() {
    let Some(ep) = endpoint("live keep-alive metrics") else {
        return;
    };
    let s = setup(&ep).await;
    let now = chrono::Utc::now();
    let ids: Vec<String> = (0..5).map(|i| format!("keep{i}=")).collect();
    for id in &ids {
        s.connections.add(id, "alice", now).await.unwrap();
    }
    // One page closed without saying goodbye: its ping answers 410 and it is
    // deleted, so it is not counted as open.
    s.plan.lock().unwrap().gone = HashSet::from(["keep3=".to_string()]);
    let routes = LiveRoutes {
        push: WebSocketSink::new(s.connections.clone(), s.gateway.clone(), None),
        connections: s.connections.clone(),
        // The keep-alive reads no findings.
        resume: Resume::new(s.client.clone(), "unused"),
        metrics: cspm::metrics::Registry::new(),
    };
    // A route event counts nothing, so it prints nothing.
    let connect = json!({"requestContext": {"eventType": "CONNECT", "connectionId": "keep5=",
        "authorizer": {"principalId": "bob", "user": "bob"}}});
    assert_eq!(routes.handle(&connect).await.unwrap()["statusCode"], 200);
    let mut quiet = Vec::new();
    routes.emit_metrics(&mut quiet);
    assert!(quiet.is_empty(), "{}", String::from_utf8_lossy(&quiet));

    let schedule = crate::corpus::lambda_fixture("example-eventbridge-schedule.json");
    assert_eq!(routes.handle(&schedule).await.unwrap(), json!({}));
    let open = s.connections.list(chrono::Utc::now()).await.unwrap();
    assert_eq!(open.len(), 5, "six connected, one gone: {open:?}");
    {
        let p = s.plan.lock().unwrap();
        assert_eq!(p.answered_410, ["keep3="]);
        for id in &open {
            assert!(p.posted[id][0].contains("ping"), "{id}: {:?}", p.posted[id]);
        }
    }
    let mut out = Vec::new();
    routes.emit_metrics(&mut out);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let e = crate::metrics::decode_emf(lines[0]);
    assert_eq!(
        (e.namespace.as_str(), e.name.as_str(), e.unit.as_str()),
        ("cspm", "LiveConnections", "Count")
    );
    assert_eq!(e.sets, vec![Vec::<String>::new()], "published as the total");
    assert!(e.dims.is_empty());
    assert_eq!(e.value, 5.0);
    assert_eq!(e.value, open.len() as f64);
    // Printed once per invocation.
    let mut again = Vec::new();
    routes.emit_metrics(&mut again);
    assert!(again.is_empty());
}
