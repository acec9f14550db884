//! The sink contract on Slack, against a local server speaking Slack's webhook
//! protocol (`crate::slack_server`): one that takes everything, one that answers
//! 404 `channel_not_found`, and a port nobody listens on. Pacing is off here (the
//! contract sends dozens of alerts); `crate::slack` checks it.

use super::{arc_dyn, ready, run_contract, Input, Probe, Subject, WithFilter};
use crate::slack::slack;
use crate::slack_server::{spawn, SECRET_PATH};
use cspm::sinks::dedup::MemoryDedup;
use cspm::sinks::{Filter, Sink};
use std::sync::Arc;
use std::time::Duration;

fn sink(url: &str, filter: Filter) -> Arc<dyn Sink> {
    slack(
        url,
        Duration::ZERO,
        filter,
        Arc::new(MemoryDedup::default()),
    )
}

/// A loopback port with nothing listening on it (bound, then let go).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_slack_sink_meets_the_sink_contract() {
    let input = Input::build().await;
    let (server, url) = spawn(Vec::new()).await;
    let target = server.clone();
    let seen: Probe = Box::new(move || ready(target.ids_answered(200)));
    let mut s = Subject::new("oncall", arc_dyn(sink(&url, Filter::default())), seen);
    let same_url = url.clone();
    let with_filter: WithFilter = Box::new(move |f: Filter| sink(&same_url, f));
    s.with_filter = Some(with_filter);
    s.unreachable = Some(sink(
        &format!("http://127.0.0.1:{}{SECRET_PATH}", closed_port()),
        Filter::default(),
    ));
    let (no, no_url) = spawn(vec![(404, "channel_not_found", None); 3]).await;
    s.refused = Some(sink(&no_url, Filter::default()));
    // One message per change key: a redelivered batch posts nothing again.
    s.dedups = true;
    // The webhook URL is the secret; its path is what identifies it.
    s.secrets = vec![SECRET_PATH.to_string(), url.clone()];
    run_contract(&s, &input).await;
    assert!(
        !no.received.lock().unwrap().is_empty(),
        "the refusing server was asked"
    );
}
