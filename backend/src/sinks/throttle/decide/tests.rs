//! The decision table, row by row. Expected values are written out, never
//! computed with the code under test.

use super::*;
use crate::sinks::throttle::quiet::QuietHours;
use std::time::Duration;
use ChangeKind::*;
use Severity::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn facts(kind: ChangeKind, severity: Severity) -> Facts {
    Facts {
        key: "f1:2".into(),
        kind,
        finding: "f1".into(),
        rule: "aws.s3.public".into(),
        resource: "AwsS3Bucket b".into(),
        account: "111122223333".into(),
        severity,
    }
}

const NOW: &str = "2026-06-01T10:02:00Z";

fn plain() -> Throttle {
    Throttle::default()
}

fn d(f: &Facts, opts: &Throttle, view: &View) -> Decision {
    decide(f, opts, None, view, at(NOW)).decision
}

#[test]
fn a_finding_alerts_once_and_again_only_when_its_severity_rises_or_it_reopens() {
    let fresh = View::default();
    let alerted_high = View {
        last_alerted: Some(High),
        ..View::default()
    };
    let rows = [
        (Inserted, High, &fresh, Decision::Send(Subject::Alert)),
        (Updated, High, &fresh, Decision::Send(Subject::Alert)),
        (
            Updated,
            High,
            &alerted_high,
            Decision::Drop(DropReason::AlreadyAlerted),
        ),
        (
            Updated,
            Medium,
            &alerted_high,
            Decision::Drop(DropReason::AlreadyAlerted),
        ),
        (
            Inserted,
            High,
            &alerted_high,
            Decision::Drop(DropReason::AlreadyAlerted),
        ),
        (
            Updated,
            Critical,
            &alerted_high,
            Decision::Send(Subject::Alert),
        ),
        (
            Reopened,
            High,
            &alerted_high,
            Decision::Send(Subject::Alert),
        ),
        (
            Resolved,
            High,
            &alerted_high,
            Decision::Drop(DropReason::NoFollowUp),
        ),
        (
            WorkflowChanged,
            High,
            &fresh,
            Decision::Drop(DropReason::NotAlerting),
        ),
        (
            Deleted,
            Critical,
            &fresh,
            Decision::Drop(DropReason::NotAlerting),
        ),
    ];
    for (kind, sev, view, want) in rows {
        assert_eq!(
            d(&facts(kind, sev), &plain(), view),
            want,
            "{kind:?} {sev:?} {view:?}"
        );
    }
    let v = decide(
        &facts(Updated, Critical),
        &plain(),
        None,
        &alerted_high,
        at(NOW),
    );
    assert_eq!(v.next.last_alerted, Some(Critical));
    assert!(v.next.decided);
}

#[test]
fn a_replayed_change_key_decides_nothing_and_changes_nothing() {
    let view = View {
        decided: true,
        last_alerted: Some(High),
        ..View::default()
    };
    let v = decide(&facts(Updated, Critical), &plain(), None, &view, at(NOW));
    assert_eq!(v.decision, Decision::AlreadyDecided);
    assert_eq!(v.next, view);
}

#[test]
fn a_send_is_stored_as_pending_and_a_replay_of_an_unconfirmed_send_sends_again() {
    let v = decide(
        &facts(Inserted, High),
        &plain(),
        None,
        &View::default(),
        at(NOW),
    );
    assert_eq!(v.decision, Decision::Send(Subject::Alert));
    assert_eq!(
        v.next.pending,
        Some(Subject::Alert),
        "stored before the send"
    );
    // The send failed (or the sender died) before confirming: the replay sends
    // again and stores nothing new.
    let v2 = decide(
        &facts(Inserted, High),
        &plain(),
        None,
        &v.next,
        at("2026-06-01T10:02:05Z"),
    );
    assert_eq!(v2.decision, Decision::Resend(Subject::Alert));
    assert_eq!(v2.next, v.next);
    // Confirmed: a replay is nothing.
    let confirmed = View {
        pending: None,
        ..v.next
    };
    let v3 = decide(
        &facts(Inserted, High),
        &plain(),
        None,
        &confirmed,
        at("2026-06-01T10:02:09Z"),
    );
    assert_eq!(v3.decision, Decision::AlreadyDecided);
}

#[test]
fn only_a_send_is_pending_never_a_count_a_hold_or_a_drop() {
    let digest = Throttle {
        dedup: Some(std::time::Duration::from_secs(3600)),
        digest: Some((1, std::time::Duration::from_secs(900))),
        ..Throttle::default()
    };
    let first = decide(
        &facts(Inserted, High),
        &digest,
        None,
        &View::default(),
        at(NOW),
    );
    assert_eq!(first.next.pending, Some(Subject::Alert));
    let counted = decide(
        &facts(Updated, Critical),
        &digest,
        None,
        &View {
            decided: false,
            pending: None,
            last_alerted: Some(High),
            ..first.next.clone()
        },
        at("2026-06-01T10:02:01Z"),
    );
    assert_eq!(counted.decision, Decision::Count);
    assert_eq!(counted.next.pending, None);
    let dropped = decide(
        &facts(Updated, High),
        &digest,
        None,
        &View {
            decided: false,
            pending: None,
            ..first.next
        },
        at("2026-06-01T10:02:02Z"),
    );
    assert!(matches!(dropped.decision, Decision::Drop(_)));
    assert_eq!(dropped.next.pending, None);
}

#[test]
fn resolved_follow_ups_go_only_for_alerted_findings_of_routes_that_ask() {
    let follow = Throttle {
        resolved_followup: true,
        ..Throttle::default()
    };
    let alerted = View {
        last_alerted: Some(High),
        ..View::default()
    };
    let v = decide(&facts(Resolved, High), &follow, None, &alerted, at(NOW));
    assert_eq!(v.decision, Decision::Send(Subject::Resolved));
    // Closed: a second resolution says nothing.
    assert_eq!(v.next.last_alerted, None);
    assert_eq!(
        d(&facts(Resolved, High), &follow, &View::default()),
        Decision::Drop(DropReason::NoFollowUp)
    );
}

#[test]
fn the_same_rule_on_the_same_resource_within_the_dedup_window_is_counted() {
    let opts = Throttle {
        dedup: Some(Duration::from_secs(3600)),
        ..Throttle::default()
    };
    let first = decide(
        &facts(Inserted, High),
        &opts,
        None,
        &View::default(),
        at(NOW),
    );
    assert_eq!(first.decision, Decision::Send(Subject::Alert));
    assert_eq!(
        first.next.dedup,
        Some(DedupEntry {
            since: at(NOW),
            count: 0
        })
    );
    let open = View {
        dedup: Some(DedupEntry {
            since: at("2026-06-01T09:30:00Z"),
            count: 4,
        }),
        ..View::default()
    };
    let v = decide(&facts(Inserted, High), &opts, None, &open, at(NOW));
    assert_eq!(v.decision, Decision::Count);
    assert_eq!(v.next.dedup.unwrap().count, 5);
    // An hour after it opened, the window is over: a message again.
    let v = decide(
        &facts(Inserted, High),
        &opts,
        None,
        &open,
        at("2026-06-01T10:30:00Z"),
    );
    assert_eq!(v.decision, Decision::Send(Subject::Alert));
    assert_eq!(v.next.dedup.unwrap().count, 0);
}

#[test]
fn more_than_digest_after_messages_in_a_window_are_held_for_its_digest() {
    let opts = Throttle {
        digest: Some((2, Duration::from_secs(900))),
        ..Throttle::default()
    };
    let first = decide(
        &facts(Inserted, High),
        &opts,
        None,
        &View::default(),
        at(NOW),
    );
    assert_eq!(first.decision, Decision::Send(Subject::Alert));
    assert_eq!(
        first.next.window,
        Some(Window {
            started_at: at(NOW),
            flush_at: at("2026-06-01T10:17:00Z"),
            sent: 1,
            held: 0
        })
    );
    let mut view = View {
        window: first.next.window,
        ..View::default()
    };
    let second = decide(&facts(Inserted, High), &opts, None, &view, at(NOW));
    assert_eq!(second.decision, Decision::Send(Subject::Alert));
    view.window = second.next.window;
    let third = decide(&facts(Inserted, High), &opts, None, &view, at(NOW));
    assert_eq!(third.decision, Decision::Hold(Subject::Alert));
    assert_eq!(third.next.window.unwrap().held, 1);
    assert_eq!(third.next.window.unwrap().sent, 2);
    // After the window ended and was flushed (no window), messages go again.
    let later = decide(
        &facts(Inserted, High),
        &opts,
        None,
        &View::default(),
        at("2026-06-01T10:20:00Z"),
    );
    assert_eq!(later.decision, Decision::Send(Subject::Alert));
    // A window due but not flushed keeps its held messages ahead of new ones.
    let due = View {
        window: third.next.window,
        ..View::default()
    };
    assert_eq!(
        decide(
            &facts(Inserted, High),
            &opts,
            None,
            &due,
            at("2026-06-01T10:20:00Z")
        )
        .decision,
        Decision::Hold(Subject::Alert)
    );
}

#[test]
fn quiet_hours_hold_immediate_messages_until_they_end() {
    let quiet = QuietHours::parse("22:00", "07:00", "Europe/Berlin").unwrap();
    let night = at("2026-06-01T21:00:00Z"); // 23:00 in Berlin (UTC+2)
    let v = decide(
        &facts(Inserted, Critical),
        &plain(),
        Some(&quiet),
        &View::default(),
        night,
    );
    assert_eq!(v.decision, Decision::Hold(Subject::Alert));
    let w = v.next.window.unwrap();
    assert_eq!(
        (w.started_at, w.flush_at, w.held),
        (night, at("2026-06-02T05:00:00Z"), 1)
    );
    // By day the same change goes at once.
    let day = at("2026-06-02T09:00:00Z");
    let v = decide(
        &facts(Inserted, Critical),
        &plain(),
        Some(&quiet),
        &View::default(),
        day,
    );
    assert_eq!(v.decision, Decision::Send(Subject::Alert));
    // A digest window ending inside quiet hours is pushed to their end.
    let opts = Throttle {
        digest: Some((5, Duration::from_secs(900))),
        ..Throttle::default()
    };
    let open = View {
        window: Some(Window {
            started_at: at("2026-06-01T19:55:00Z"),
            flush_at: at("2026-06-01T20:10:00Z"),
            sent: 1,
            held: 0,
        }),
        ..View::default()
    };
    let v = decide(
        &facts(Inserted, High),
        &opts,
        Some(&quiet),
        &open,
        at("2026-06-01T20:05:00Z"),
    );
    assert_eq!(v.decision, Decision::Hold(Subject::Alert));
    assert_eq!(v.next.window.unwrap().flush_at, at("2026-06-02T05:00:00Z"));
}
