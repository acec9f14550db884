//! The sink contract on the kinds whose target is on AWS, against the emulator:
//! SNS (alerts read back through a queue subscribed to both topics), SES (mail
//! read back from the emulator's data.json) and the live
//! sink of the `fanout` Lambda (connections in a DynamoDB table; frames recorded by
//! a gateway double — the real management API client, with 410s and throttling,
//! is `live_aws.rs`'s subject, and moto only answers 200 to it).

use super::{arc, ready, run_contract, Input, Probe, Subject, WithFilter};
use crate::aws_env::{endpoint, key_table, sdk_config, unique};
use crate::sns_topics::{drain, topics};
use async_trait::async_trait;
use cspm::live::connections::Connections;
use cspm::live::gateway::{Gateway, PostError};
use cspm::sinks::dedup::MemoryDedup;
use cspm::sinks::sns::{SnsSettings, SnsSink};
use cspm::sinks::websocket::WebSocketSink;
use cspm::sinks::{Filter, Sink};
use futures::FutureExt;
use serde_json::Value;
use shared_types::Severity;
use std::sync::{Arc, Mutex};

/// Base URL of the dashboard: alerts link each finding under it.
const DASHBOARD: &str = "https://cspm.example.com";

/// An SNS sink publishing through `sdk` to `standard` and `critical`.
fn sns(
    sdk: &aws_config::SdkConfig,
    standard: &str,
    critical: &str,
    filter: Filter,
) -> Arc<dyn Sink> {
    arc(SnsSink::new(
        SnsSettings {
            name: "alerts".into(),
            standard_topic: standard.to_string(),
            critical_topic: Some(critical.to_string()),
            min_severity: Severity::High,
            filter,
            dashboard_url: Some(DASHBOARD.into()),
        },
        sdk,
        Arc::new(MemoryDedup::default()),
    ))
}

/// The finding an alert is about, from its link (`Finding:  <dashboard>/ui/findings/<id>`).
fn linked_id(message: &str) -> String {
    message
        .lines()
        .find_map(|l| l.strip_prefix("Finding:"))
        .and_then(|link| link.trim().rsplit('/').next())
        .unwrap_or_else(|| panic!("an alert without its link: {message}"))
        .to_string()
}

/// A loopback port with nothing listening on it (bound, then let go).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn the_sns_sink_meets_the_sink_contract() {
    let Some(ep) = endpoint("sns_sink_contract") else {
        return;
    };
    let input = Input::build().await;
    let t = Arc::new(topics(&ep).await);
    let sdk = sdk_config(&ep).await;
    // Draining the queue deletes what it read: the probe keeps what it saw.
    let queue = t.clone();
    let kept: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen: Probe = Box::new(move || {
        let (queue, kept) = (queue.clone(), kept.clone());
        async move {
            let new: Vec<String> = drain(&queue)
                .await
                .iter()
                .map(|(_, _, message)| linked_id(message))
                .collect();
            let mut all = kept.lock().unwrap();
            all.extend(new);
            all.clone()
        }
        .boxed()
    });
    let mut s = Subject::new(
        "alerts",
        sns(&sdk, &t.standard, &t.critical, Filter::default()),
        seen,
    );
    let (filter_sdk, standard, critical) = (sdk.clone(), t.standard.clone(), t.critical.clone());
    let with_filter: WithFilter =
        Box::new(move |f: Filter| sns(&filter_sdk, &standard, &critical, f));
    s.with_filter = Some(with_filter);
    let nowhere = sdk_config(&format!("http://127.0.0.1:{}", closed_port())).await;
    s.unreachable = Some(sns(&nowhere, &t.standard, &t.critical, Filter::default()));
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic";
    s.refused = Some(sns(&sdk, missing, missing, Filter::default()));
    // One alert per change key: a redelivered batch pages nobody twice.
    s.dedups = true;
    run_contract(&s, &input).await;
}

/// Records every frame posted, as API Gateway would deliver it.
#[derive(Default)]
struct Posts(Mutex<Vec<(String, String)>>);

#[async_trait]
impl Gateway for Posts {
    async fn post(&self, id: &str, data: &[u8]) -> Result<(), PostError> {
        let frame = String::from_utf8_lossy(data).into_owned();
        self.0.lock().unwrap().push((id.to_string(), frame));
        Ok(())
    }
}

#[tokio::test]
async fn the_aws_live_sink_meets_the_sink_contract() {
    let Some(ep) = endpoint("websocket_sink_contract") else {
        return;
    };
    let input = Input::build().await;
    let sdk = sdk_config(&ep).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let connections = Connections::new(
        client.clone(),
        key_table(&client, "connections", "connection_id").await,
    );
    connections
        .add("dash1=", "alice@example.com", chrono::Utc::now())
        .await
        .unwrap();
    let posts = Arc::new(Posts::default());
    let target = posts.clone();
    let seen: Probe = Box::new(move || {
        let posted = target.0.lock().unwrap();
        let ids = posted
            .iter()
            .map(|(connection, frame)| {
                assert_eq!(
                    connection, "dash1=",
                    "a frame to a connection nobody opened"
                );
                let v: Value = serde_json::from_str(frame).unwrap();
                v["item"]["id"]
                    .as_str()
                    .expect("a change's frame carries its item")
                    .to_string()
            })
            .collect();
        ready(ids)
    });
    let sink = WebSocketSink::new(connections, posts, None);
    let mut s = Subject::new("live", arc(sink), seen);
    // The one failure it reports: the connections cannot be listed.
    let lost = Connections::new(client, unique("no-such-table"));
    s.unreachable = Some(arc(WebSocketSink::new(
        lost,
        Arc::new(Posts::default()),
        None,
    )));
    run_contract(&s, &input).await;
}

#[tokio::test]
async fn the_ses_sink_meets_the_sink_contract() {
    let Some(ep) = endpoint("ses_sink_contract") else {
        return;
    };
    let input = Input::build().await;
    let sdk = sdk_config(&ep).await;
    let from = crate::ses::verified_sender(&sdk).await;
    let to = ["secops@example.com"];
    let (probe_ep, probe_from) = (ep.clone(), from.clone());
    let seen: Probe = Box::new(move || {
        let (ep, from) = (probe_ep.clone(), probe_from.clone());
        async move {
            crate::ses::sent_from(&ep, &from)
                .await
                .iter()
                .map(|m| linked_id(&m.text))
                .collect()
        }
        .boxed()
    });
    let mut s = Subject::new("secmail", crate::ses::ses(&sdk, &from, &to), seen);
    let (filter_sdk, filter_from) = (sdk.clone(), from.clone());
    let with_filter: WithFilter =
        Box::new(move |f: Filter| crate::ses::ses_filtered(&filter_sdk, &filter_from, &to, f));
    s.with_filter = Some(with_filter);
    let nowhere = sdk_config(&format!("http://127.0.0.1:{}", closed_port())).await;
    s.unreachable = Some(crate::ses::ses(&nowhere, &from, &to));
    // An address no identity covers: SES refuses it until someone verifies it.
    s.refused = Some(crate::ses::ses(&sdk, "unverified@example.org", &to));
    s.dedups = true;
    run_contract(&s, &input).await;
}
