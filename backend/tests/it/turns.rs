//! Pacing across processes: Slack sinks of several `fanout` invocations posting to
//! one channel at once book their turns in the fan-out state table (the emulator,
//! the table as Terraform makes it), so the channel sees at most one message per
//! interval from all of them together.

use crate::alert_throttle::changes;
use crate::aws_env::{endpoint, fanout_state_table, sdk_config};
use crate::slack::PUBLIC_URL;
use crate::slack_server::spawn;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use cspm::sinks::dedup::MemoryDedup;
use cspm::sinks::secrets::Secret;
use cspm::sinks::slack::{Destination, SlackSettings, SlackSink};
use cspm::sinks::ssrf::SystemResolver;
use cspm::sinks::turns::dynamo::DynamoTurns;
use cspm::sinks::turns::Turns;
use cspm::sinks::{Filter, Sink, SinkError};
use shared_types::Severity;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The DynamoDB book, recording every turn it gave.
struct Recorded {
    inner: DynamoTurns,
    starts: Mutex<Vec<DateTime<Utc>>>,
}

#[async_trait]
impl Turns for Recorded {
    async fn book(
        &self,
        channel: &str,
        interval: Duration,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, SinkError> {
        let start = self.inner.book(channel, interval, now).await?;
        self.starts.lock().unwrap().push(start);
        Ok(start)
    }

    async fn hold(&self, channel: &str, until: DateTime<Utc>) -> Result<(), SinkError> {
        self.inner.hold(channel, until).await
    }
}

async fn book() -> Option<DynamoTurns> {
    let ep = endpoint("dynamodb_turns")?;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&ep).await);
    let table = fanout_state_table(&client).await;
    Some(DynamoTurns::new(client, table))
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[tokio::test]
async fn the_dynamodb_book_gives_each_turn_once_an_interval_apart_and_holds_for_retry_after() {
    let Some(turns) = book().await else {
        return;
    };
    let second = Duration::from_secs(1);
    let t0 = at("2026-06-01T10:00:00Z");
    assert_eq!(turns.book("oncall", second, t0).await.unwrap(), t0);
    assert_eq!(
        turns.book("oncall", second, t0).await.unwrap(),
        at("2026-06-01T10:00:01Z"),
        "the same moment gets the next turn"
    );
    assert_eq!(
        turns
            .book("oncall", second, at("2026-06-01T10:00:10Z"))
            .await
            .unwrap(),
        at("2026-06-01T10:00:10Z"),
        "an idle channel's turn is now"
    );
    assert_eq!(
        turns.book("other", second, t0).await.unwrap(),
        t0,
        "per channel"
    );
    // Slack said Retry-After 20 s: nobody's turn comes before then.
    turns
        .hold("oncall", at("2026-06-01T10:00:30Z"))
        .await
        .unwrap();
    turns
        .hold("oncall", at("2026-06-01T10:00:20Z"))
        .await
        .unwrap();
    assert_eq!(
        turns
            .book("oncall", second, at("2026-06-01T10:00:11Z"))
            .await
            .unwrap(),
        at("2026-06-01T10:00:30Z"),
        "a shorter hold does not shorten a longer one"
    );
}

#[tokio::test]
async fn two_invocations_posting_to_one_channel_keep_its_pace_together() {
    let Some(inner) = book().await else {
        return;
    };
    let book = Arc::new(Recorded {
        inner,
        starts: Mutex::new(Vec::new()),
    });
    let (server, url) = spawn(vec![]).await;
    let interval = Duration::from_millis(250);
    let invocation = || {
        let settings = SlackSettings {
            name: "oncall".into(),
            destination: Destination::Webhook {
                url: Secret::new(url.clone()),
            },
            described: "Slack webhook from $SLACK_ONCALL_URL".into(),
            min_severity: Severity::Informational,
            filter: Filter::default(),
            min_interval: interval,
            timeout: Duration::from_secs(5),
            public_url: Some(PUBLIC_URL.into()),
        };
        SlackSink::new(
            settings,
            Arc::new(MemoryDedup::default()),
            Arc::new(SystemResolver),
        )
        .unwrap()
        .with_turns(book.clone())
    };
    let (a, b) = (invocation(), invocation());
    let all = changes(8, Severity::High, false);
    let (left, right) = all.split_at(4);
    let (ra, rb) = tokio::join!(a.send(left), b.send(right));
    ra.unwrap();
    rb.unwrap();
    assert_eq!(
        server.received.lock().unwrap().len(),
        8,
        "every message went"
    );
    let mut starts = book.starts.lock().unwrap().clone();
    assert_eq!(starts.len(), 8, "every message booked its turn");
    starts.sort();
    for pair in starts.windows(2) {
        assert!(
            pair[1] - pair[0] >= chrono::Duration::from_std(interval).unwrap(),
            "two turns closer than the interval: {pair:?}"
        );
    }
}
