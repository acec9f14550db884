//! The sink contract on the webhook, against receivers that speak HTTP for real
//! (`crate::webhook`'s): one that takes everything, one that answers 404, and a
//! port nobody listens on.

use super::{arc, id_of_key, ready, run_contract, Input, Probe, Subject, WithFilter};
use crate::webhook::{spawn_receiver, Receiver};
use cspm::sinks::secrets::Secret;
use cspm::sinks::ssrf::{SystemResolver, Target};
use cspm::sinks::webhook::WebhookSink;
use cspm::sinks::{Filter, Sink};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The signing secret (it must never show in an error).
const SECRET: &str = "contract-s3cret";

fn hook(url: &str, filter: Filter) -> Arc<dyn Sink> {
    arc(WebhookSink::new(
        "hook",
        Target::parse(url).unwrap(),
        Some(Secret::new(SECRET)),
        filter,
        Duration::from_secs(5),
        Arc::new(SystemResolver),
    )
    .unwrap())
}

/// The finding ids of every change the receiver was posted, by their keys.
fn posted(r: &Receiver) -> Vec<String> {
    let requests = r.requests.lock().unwrap();
    let mut ids = Vec::new();
    for (_, body, _) in requests.iter() {
        let v: Value = serde_json::from_slice(body).expect("a JSON body");
        for c in v["changes"].as_array().expect("a list of changes") {
            ids.push(id_of_key(
                c["key"].as_str().expect("each change has its key"),
            ));
        }
    }
    ids
}

/// A loopback port with nothing listening on it (bound, then let go).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_sink_meets_the_sink_contract() {
    let input = Input::build().await;
    let (r, url) = spawn_receiver().await;
    let target = r.clone();
    let seen: Probe = Box::new(move || ready(posted(&target)));
    let mut s = Subject::new("hook", hook(&url, Filter::default()), seen);
    let same_url = url.clone();
    let with_filter: WithFilter = Box::new(move |f: Filter| hook(&same_url, f));
    s.with_filter = Some(with_filter);
    s.unreachable = Some(hook(
        &format!("http://127.0.0.1:{}/hook", closed_port()),
        Filter::default(),
    ));
    let (no, no_url) = spawn_receiver().await;
    no.script.lock().unwrap().extend([(404, None), (404, None)]);
    s.refused = Some(hook(&no_url, Filter::default()));
    // Paths and queries may hold tokens: errors name scheme, host and port only.
    s.secrets = vec![SECRET.to_string(), "/hook".to_string()];
    run_contract(&s, &input).await;
    assert!(
        !no.requests.lock().unwrap().is_empty(),
        "the refusing receiver was asked"
    );
}
