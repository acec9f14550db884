//! One contract for the throttle state port (what an alerting channel remembers:
//! decided changes, last alerted severities, dedup and digest windows), run
//! against each implementation: SQLite in a temp file, and DynamoDB on the
//! emulator with the table as Terraform makes it. The verdicts come from the real
//! decision function; time is the test's own.

use crate::aws_env::{endpoint, fanout_state_table, sdk_config};
use chrono::{DateTime, Utc};
use cspm::sinks::throttle::decide::{decide, Decision, Facts, Subject, View};
use cspm::sinks::throttle::dynamo::DynamoThrottle;
use cspm::sinks::throttle::sqlite::SqliteThrottle;
use cspm::sinks::throttle::state::ThrottleState;
use cspm::sinks::throttle::Throttle;
use shared_types::{ChangeKind, Severity};
use std::time::Duration;

const SINK: &str = "oncall";
const ROUTE: &str = "high#prod";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn facts(finding: &str, revision: u32, kind: ChangeKind, rule: &str, resource: &str) -> Facts {
    Facts {
        key: format!("{finding}:{revision}"),
        kind,
        finding: finding.into(),
        rule: rule.into(),
        resource: resource.into(),
        account: "111122223333".into(),
        severity: Severity::High,
    }
}

/// One message at once per 15-minute window, dedup for an hour, follow-ups.
fn options() -> Throttle {
    Throttle {
        dedup: Some(Duration::from_secs(3600)),
        digest: Some((1, Duration::from_secs(900))),
        resolved_followup: true,
    }
}

/// Reads, decides and commits `f` at `now` as the sink does; returns the decision.
async fn decide_and_store(state: &dyn ThrottleState, f: &Facts, now: &str) -> Decision {
    let view = state.view(SINK, ROUTE, f).await.unwrap();
    let v = decide(f, &options(), None, &view, at(now));
    if !matches!(v.decision, Decision::AlreadyDecided | Decision::Resend(_)) {
        assert!(state
            .commit(SINK, ROUTE, f, &view, &v, at(now))
            .await
            .unwrap());
        assert_eq!(
            state.view(SINK, ROUTE, f).await.unwrap(),
            v.next,
            "stored as decided"
        );
    }
    v.decision
}

async fn contract(state: &dyn ThrottleState) {
    // Nothing is known of a first change; rule and resource names with the
    // characters keys are built from do not mix with others.
    let a = facts(
        "f-a",
        1,
        ChangeKind::Inserted,
        "rule#a",
        "AwsS3Bucket arn:aws:s3:::a#b",
    );
    assert_eq!(state.view(SINK, ROUTE, &a).await.unwrap(), View::default());

    // A send is stored before it goes, as pending, and confirmed after.
    let t0 = "2026-06-01T10:02:00Z";
    assert_eq!(
        decide_and_store(state, &a, t0).await,
        Decision::Send(Subject::Alert)
    );
    let v = state.view(SINK, ROUTE, &a).await.unwrap();
    assert_eq!(v.pending, Some(Subject::Alert));
    assert_eq!(v.last_alerted, Some(Severity::High));
    assert_eq!(v.window.map(|w| (w.sent, w.held)), Some((1, 0)));
    // Not confirmed: a replay sends again. Confirmed: a replay is nothing.
    assert_eq!(
        decide_and_store(state, &a, "2026-06-01T10:02:01Z").await,
        Decision::Resend(Subject::Alert)
    );
    state.settle(SINK, &a.key).await.unwrap();
    assert_eq!(state.view(SINK, ROUTE, &a).await.unwrap().pending, None);
    assert_eq!(
        decide_and_store(state, &a, "2026-06-01T10:02:02Z").await,
        Decision::AlreadyDecided
    );

    // Two deciders read the same window; the second to store finds it moved and
    // decides again on what is there now.
    let b = facts("f-b", 1, ChangeKind::Inserted, "rule.b", "r-b");
    let c = facts("f-c", 1, ChangeKind::Inserted, "rule.c", "r-c");
    let now = at("2026-06-01T10:03:00Z");
    let vb = state.view(SINK, ROUTE, &b).await.unwrap();
    let vc = state.view(SINK, ROUTE, &c).await.unwrap();
    let db = decide(&b, &options(), None, &vb, now);
    let dc = decide(&c, &options(), None, &vc, now);
    assert_eq!(db.decision, Decision::Hold(Subject::Alert));
    assert!(state.commit(SINK, ROUTE, &b, &vb, &db, now).await.unwrap());
    assert!(
        !state.commit(SINK, ROUTE, &c, &vc, &dc, now).await.unwrap(),
        "a decision on a state that moved is refused"
    );
    assert!(
        !state.view(SINK, ROUTE, &c).await.unwrap().decided,
        "and nothing of it was stored"
    );
    assert_eq!(
        decide_and_store(state, &c, "2026-06-01T10:03:00Z").await,
        Decision::Hold(Subject::Alert)
    );
    let window = state.view(SINK, ROUTE, &c).await.unwrap().window.unwrap();
    assert_eq!((window.sent, window.held), (1, 2));

    // The same rule on the same resource within the dedup window is counted.
    let a2 = facts(
        "f-a2",
        1,
        ChangeKind::Inserted,
        "rule#a",
        "AwsS3Bucket arn:aws:s3:::a#b",
    );
    assert_eq!(
        decide_and_store(state, &a2, "2026-06-01T10:04:00Z").await,
        Decision::Count
    );
    assert_eq!(
        state
            .view(SINK, ROUTE, &a2)
            .await
            .unwrap()
            .dedup
            .map(|d| d.count),
        Some(1)
    );

    // The window's digest is due at its end, with what it held.
    assert!(state
        .due(SINK, at("2026-06-01T10:16:59Z"))
        .await
        .unwrap()
        .is_empty());
    let due = state.due(SINK, at("2026-06-01T10:17:00Z")).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].route, ROUTE);
    assert_eq!(due[0].window.started_at, at(t0));
    assert_eq!(due[0].held.len(), 2);
    assert!(due[0]
        .held
        .iter()
        .all(|h| h.severity == Severity::High && h.account == "111122223333"));
    assert_eq!(
        due[0].held.iter().map(|h| h.at).min(),
        Some(at("2026-06-01T10:03:00Z")),
        "the first held time"
    );
    assert!(
        state
            .due("another-sink", at("2026-06-01T11:00:00Z"))
            .await
            .unwrap()
            .is_empty(),
        "windows are per sink"
    );

    // A message held while the digest goes stays for the next one.
    let d = facts("f-d", 1, ChangeKind::Inserted, "rule.d", "r-d");
    assert_eq!(
        decide_and_store(state, &d, "2026-06-01T10:17:01Z").await,
        Decision::Hold(Subject::Alert)
    );
    assert_eq!(due[0].flushed, 0, "the window's first digest");
    state.close(SINK, &due[0]).await.unwrap();
    // A second flush that read the window at the same moment (a timer and a
    // batch, overlapping scheduled runs) takes nothing more.
    state.close(SINK, &due[0]).await.unwrap();
    let rest = state.due(SINK, at("2026-06-01T10:18:00Z")).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        rest[0].flushed, 1,
        "its next digest is another one (another key)"
    );
    assert_eq!(
        rest[0].held.len(),
        1,
        "only the message held after the digest"
    );
    state.close(SINK, &rest[0]).await.unwrap();
    assert!(state
        .due(SINK, at("2026-06-01T12:00:00Z"))
        .await
        .unwrap()
        .is_empty());
    // Closing a window already closed changes nothing.
    state.close(SINK, &rest[0]).await.unwrap();

    // A follow-up for a resolved finding this channel alerted: it forgets the
    // severity, so a reopening alerts afresh.
    let resolved = facts(
        "f-a",
        2,
        ChangeKind::Resolved,
        "rule#a",
        "AwsS3Bucket arn:aws:s3:::a#b",
    );
    assert_eq!(
        decide_and_store(state, &resolved, "2026-06-01T12:00:00Z").await,
        Decision::Send(Subject::Resolved)
    );
    assert_eq!(
        state
            .view(SINK, ROUTE, &resolved)
            .await
            .unwrap()
            .last_alerted,
        None
    );
}

#[tokio::test]
async fn the_sqlite_throttle_state_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let state = SqliteThrottle::open(&dir.path().join("cspm.db")).unwrap();
    contract(&state).await;
}

#[tokio::test]
async fn the_dynamodb_throttle_state_meets_the_contract() {
    let Some(ep) = endpoint("dynamodb_throttle_contract") else {
        return;
    };
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&ep).await);
    let table = fanout_state_table(&client).await;
    contract(&DynamoThrottle::new(client, table)).await;
}

/// A state file from before windows counted their digests opens, gains the
/// count, and keeps its open window.
#[tokio::test]
async fn a_sqlite_file_from_before_digest_counts_opens_and_keeps_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE throttle_windows (
                sink TEXT NOT NULL, route TEXT NOT NULL, started_at INTEGER NOT NULL,
                flush_at INTEGER NOT NULL, sent INTEGER NOT NULL, held INTEGER NOT NULL,
                PRIMARY KEY (sink, route)
            ) WITHOUT ROWID;",
        )
        .unwrap();
        let us = |s: &str| at(s).timestamp_micros();
        c.execute(
            "INSERT INTO throttle_windows VALUES ('oncall', 'high#prod', ?1, ?2, 1, 0)",
            [us("2026-06-01T10:02:00Z"), us("2026-06-01T10:17:00Z")],
        )
        .unwrap();
    }
    let state = SqliteThrottle::open(&path).unwrap();
    let due = state.due(SINK, at("2026-06-01T10:17:00Z")).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].window.sent, due[0].flushed), (1, 0));
    state.close(SINK, &due[0]).await.unwrap();
    assert!(state
        .due(SINK, at("2026-06-01T11:00:00Z"))
        .await
        .unwrap()
        .is_empty());
}
