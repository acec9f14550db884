//! Never flooded, through real parts: the Slack sink posting to the local Slack
//! test server, the throttle state in a SQLite file, routes and quiet hours read
//! from a sinks file. Time is the test's own clock (every decision and flush
//! takes an explicit `now`); nothing here measures time.

use crate::aws_env::{endpoint, fanout_state_table, sdk_config};
use crate::slack::PUBLIC_URL;
use crate::slack_server::{spawn, SlackServer};
use chrono::{DateTime, Duration, Utc};
use cspm::sinks::config::parse;
use cspm::sinks::dedup::MemoryDedup;
use cspm::sinks::secrets::Secret;
use cspm::sinks::slack::{Destination, SlackSettings, SlackSink};
use cspm::sinks::ssrf::SystemResolver;
use cspm::sinks::throttle::decide::Facts;
use cspm::sinks::throttle::dynamo::DynamoThrottle;
use cspm::sinks::throttle::sink::Throttled;
use cspm::sinks::throttle::sqlite::SqliteThrottle;
use cspm::sinks::throttle::state::ThrottleState;
use cspm::sinks::{Filter, Sink};
use cspm::store::change::ChangeFinding;
use cspm::store::Change;
use shared_types::{ChangeKind, FindingListItem, RecordState, Severity};
use std::path::Path;
use std::sync::{Arc, Mutex};

const ACCOUNT: &str = "111122223333";

/// The test's clock: set by the test, read by the sink.
#[derive(Clone)]
struct Clock(Arc<Mutex<DateTime<Utc>>>);

impl Clock {
    fn at(s: &str) -> Clock {
        Clock(Arc::new(Mutex::new(s.parse().unwrap())))
    }
    fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap() = t;
    }
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// `n` distinct findings of `severity` in one account, as inserted changes; with
/// `same_place` they share one rule and one resource.
pub fn changes(n: usize, severity: Severity, same_place: bool) -> Vec<Change> {
    let anchor = cspm::demo::default_anchor();
    cspm::demo::generate(n, anchor, 7)
        .enumerate()
        .map(|(i, f)| {
            let mut item = FindingListItem::from(&f);
            item.id = format!("f{i:04}");
            item.severity = severity;
            item.account_id = ACCOUNT.into();
            if same_place {
                item.resource_type = "AwsS3Bucket".into();
                item.resource_id = "arn:aws:s3:::shared".into();
            }
            Change {
                seq: i as u64 + 1,
                key: format!("{}:1", item.id),
                kind: ChangeKind::Inserted,
                revision: 1,
                at: f.updated_at,
                actor: None,
                quiet: false,
                finding: ChangeFinding {
                    item,
                    generator_id: if same_place {
                        "aws.s3.public".into()
                    } else {
                        format!("rule.{i}")
                    },
                    record_state: RecordState::Active,
                    severity_before: None,
                    status_before: None,
                    note: None,
                    caller: None,
                },
            }
        })
        .collect()
}

/// The sinks file of a test: one Slack sink `oncall` and `rest` (routes, quiet hours).
fn file(rest: &str) -> cspm::sinks::config::SinksFile {
    parse(&format!(
        "sinks:\n  - {{name: oncall, kind: slack, webhook_url_env: SLACK_ONCALL_URL}}\n{rest}"
    ))
    .unwrap()
}

/// The throttled Slack sink posting to `url`, its state in the SQLite file `db`.
fn throttled(url: &str, db: &Path, yaml: &str, clock: &Clock) -> (Throttled, SqliteThrottle) {
    let state = SqliteThrottle::open(db).unwrap();
    (
        throttled_over(url, Arc::new(state.clone()), yaml, clock),
        state,
    )
}

/// The throttled Slack sink posting to `url` (with its own sent-key memory, as
/// each process has), its state in `state`.
fn throttled_over(
    url: &str,
    state: Arc<dyn ThrottleState>,
    yaml: &str,
    clock: &Clock,
) -> Throttled {
    let f = file(yaml);
    let settings = SlackSettings {
        name: "oncall".into(),
        destination: Destination::Webhook {
            url: Secret::new(url),
        },
        described: "Slack webhook from $SLACK_ONCALL_URL".into(),
        min_severity: Severity::Informational,
        filter: Filter::default(),
        // Pacing is the Slack tests' subject; here it would only slow the run.
        min_interval: std::time::Duration::ZERO,
        timeout: std::time::Duration::from_secs(5),
        public_url: Some(PUBLIC_URL.into()),
    };
    let slack = Arc::new(
        SlackSink::new(
            settings,
            Arc::new(MemoryDedup::default()),
            Arc::new(SystemResolver),
        )
        .unwrap(),
    );
    let c = clock.clone();
    Throttled::new(
        slack.clone(),
        slack,
        f.routing().0.into(),
        f.quiet_hours.get("oncall").copied(),
        state,
        Some(PUBLIC_URL.into()),
    )
    .with_clock(Arc::new(move || c.now()))
}

/// Hands `changes` to `sink` as the dispatcher does: what it wants, in batches,
/// the clock moving `step` per change.
async fn deliver(sink: &Throttled, changes: &[Change], clock: &Clock, step: Duration) {
    let wanted: Vec<Change> = changes.iter().filter(|c| sink.wants(c)).cloned().collect();
    for batch in wanted.chunks(sink.max_batch()) {
        sink.send(batch).await.unwrap();
        clock.set(clock.now() + step * batch.len() as i32);
    }
}

fn texts(server: &SlackServer) -> Vec<String> {
    server
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.body["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

const DIGEST_ROUTE: &str = "routes:\n  - {name: high, match: {severity: HIGH}, to: oncall, digest_after: 20, digest_window: 15m}\n";

#[tokio::test]
async fn five_hundred_high_findings_in_a_minute_send_twenty_messages_then_one_digest_and_a_replay_sends_nothing(
) {
    let (server, url) = spawn(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cspm.db");
    let clock = Clock::at("2026-06-01T10:02:00Z");
    let (sink, _) = throttled(&url, &db, DIGEST_ROUTE, &clock);
    let all = changes(500, Severity::High, false);
    // 500 changes 100 ms apart: 50 seconds.
    deliver(&sink, &all, &clock, Duration::milliseconds(100)).await;
    let sent = texts(&server);
    assert_eq!(sent.len(), 20, "the first digest_after go at once");
    assert!(sent.iter().all(|t| t.starts_with("[HIGH]")), "{sent:?}");

    // The window (10:02 + 15 min) has not ended: nothing yet.
    assert_eq!(
        sink.flush("2026-06-01T10:16:59Z".parse().unwrap())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        sink.flush("2026-06-01T10:17:00Z".parse().unwrap())
            .await
            .unwrap(),
        1
    );
    let sent = texts(&server);
    assert_eq!(sent.len(), 21);
    assert_eq!(
        sent[20],
        format!(
            "480 more HIGH findings in {ACCOUNT} since 10:02 UTC — open the list: \
             {PUBLIC_URL}/ui/findings?severity=HIGH&account={ACCOUNT}"
        )
    );
    let digest = server.received.lock().unwrap()[20].body.clone();
    assert_eq!(
        digest["attachments"][0]["blocks"][0]["text"]["text"],
        format!(
            "480 more HIGH findings in {ACCOUNT} since 10:02 UTC — \
             <{PUBLIC_URL}/ui/findings?severity=HIGH&account={ACCOUNT}|open the list>"
        )
    );
    // Flushed once: a later flush has nothing.
    assert_eq!(
        sink.flush("2026-06-01T10:30:00Z".parse().unwrap())
            .await
            .unwrap(),
        0
    );

    // At-least-once delivery replays the same 500 changes: nothing more.
    clock.set("2026-06-01T10:31:00Z".parse().unwrap());
    deliver(&sink, &all, &clock, Duration::milliseconds(100)).await;
    sink.flush("2026-06-01T11:00:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(texts(&server).len(), 21);

    // The state is in the file: a new process (the file reopened) replays too,
    // and remembers what it alerted.
    drop(sink);
    let (again, state) = throttled(&url, &db, DIGEST_ROUTE, &clock);
    deliver(&again, &all, &clock, Duration::milliseconds(100)).await;
    again
        .flush("2026-06-01T12:00:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(texts(&server).len(), 21);
    let view = state
        .view("oncall", "high", &Facts::of(&all[499]))
        .await
        .unwrap();
    assert!(view.decided);
    assert_eq!(view.last_alerted, Some(Severity::High));
}

#[tokio::test]
async fn the_same_rule_on_the_same_resource_within_the_dedup_window_sends_once_and_counts_the_rest()
{
    let (server, url) = spawn(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cspm.db");
    let clock = Clock::at("2026-06-01T10:00:00Z");
    let route = "routes:\n  - {name: s3, match: {rule: \"aws.s3.*\"}, to: oncall, dedup: 1h}\n";
    let (sink, state) = throttled(&url, &db, route, &clock);
    let all = changes(6, Severity::Critical, true);
    deliver(&sink, &all[..5], &clock, Duration::minutes(1)).await;
    assert_eq!(texts(&server).len(), 1);
    let view = state
        .view("oncall", "s3", &Facts::of(&all[5]))
        .await
        .unwrap();
    assert_eq!(view.dedup.map(|d| d.count), Some(4));
    // An hour after the first message the window is over: one more message.
    clock.set("2026-06-01T11:00:00Z".parse().unwrap());
    deliver(&sink, &all[5..], &clock, Duration::minutes(1)).await;
    assert_eq!(texts(&server).len(), 2);
}

#[tokio::test]
async fn quiet_hours_hold_messages_for_the_digest_sent_when_they_end() {
    let (server, url) = spawn(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cspm.db");
    // 21:00 UTC is 23:00 in Berlin in June.
    let clock = Clock::at("2026-06-01T21:00:00Z");
    let yaml = "routes:\n  - {name: all, to: oncall}\n\
                quiet_hours: {oncall: {from: \"22:00\", to: \"07:00\", tz: \"Europe/Berlin\"}}\n";
    let (sink, _) = throttled(&url, &db, yaml, &clock);
    deliver(
        &sink,
        &changes(3, Severity::Critical, false),
        &clock,
        Duration::minutes(5),
    )
    .await;
    assert!(texts(&server).is_empty(), "nothing goes during quiet hours");
    // 06:59 in Berlin: still quiet.
    assert_eq!(
        sink.flush("2026-06-02T04:59:00Z".parse().unwrap())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        sink.flush("2026-06-02T05:00:00Z".parse().unwrap())
            .await
            .unwrap(),
        1
    );
    let sent = texts(&server);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].starts_with(&format!(
            "3 more CRITICAL findings in {ACCOUNT} since 21:00 UTC"
        )),
        "{}",
        sent[0]
    );
}

/// Several `fanout` invocations at once (one per stream shard, each its own
/// process with its own Slack sink and sent-key memory) share the DynamoDB state:
/// the window's count holds across them, and the scheduled flush sends its digest
/// once.
#[tokio::test]
async fn four_invocations_at_once_over_dynamodb_send_twenty_messages_then_one_digest() {
    let Some(ep) = endpoint("throttle_concurrent_invocations") else {
        return;
    };
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&ep).await);
    let table = fanout_state_table(&client).await;
    let (server, url) = spawn(vec![]).await;
    let clock = Clock::at("2026-06-01T10:02:00Z");
    let all = changes(200, Severity::High, false);
    let invocations: Vec<Throttled> = (0..4)
        .map(|_| {
            let state = Arc::new(DynamoThrottle::new(client.clone(), table.clone()));
            throttled_over(&url, state, DIGEST_ROUTE, &clock).flush_on_schedule_only()
        })
        .collect();
    let runs = invocations.iter().enumerate().map(|(i, sink)| {
        // Each takes every fourth change, one batch at a time, as its shard's
        // records arrive; a batch that lost too many races is retried, as Lambda
        // retries a failed stream batch.
        let mine: Vec<Change> = all.iter().skip(i).step_by(4).cloned().collect();
        async move {
            for batch in mine.chunks(5) {
                let mut tries = 0;
                while let Err(e) = sink.send(batch).await {
                    tries += 1;
                    assert!(e.is_retryable() && tries < 5, "{e}");
                }
            }
        }
    });
    futures::future::join_all(runs).await;
    let sent = texts(&server);
    assert_eq!(
        sent.len(),
        20,
        "the first digest_after go at once, across invocations"
    );
    assert!(sent.iter().all(|t| t.starts_with("[HIGH]")), "{sent:?}");

    // Only the schedule flushes; its first run after the window's end sends the
    // digest, a later one (or another invocation) nothing.
    assert_eq!(
        invocations[0]
            .flush("2026-06-01T10:17:00Z".parse().unwrap())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        invocations[1]
            .flush("2026-06-01T10:18:00Z".parse().unwrap())
            .await
            .unwrap(),
        0
    );
    let sent = texts(&server);
    assert_eq!(sent.len(), 21);
    assert_eq!(
        sent[20],
        format!(
            "180 more HIGH findings in {ACCOUNT} since 10:02 UTC — open the list: \
             {PUBLIC_URL}/ui/findings?severity=HIGH&account={ACCOUNT}"
        )
    );
}
