//! The workflow decision (`store::decide`) is monotonic in the provider's
//! `UpdatedAt`: older is skipped, equal is unchanged, newer replaces — whatever
//! the statuses — and the version that wins does not depend on arrival order.

use chrono::{DateTime, Duration, Utc};
use cspm::store::decide::{decide, Decision, Incoming, StoredHead};
use proptest::prelude::*;
use shared_types::{RecordState, Severity, WorkflowStatus};

fn status() -> impl Strategy<Value = WorkflowStatus> {
    prop_oneof![
        Just(WorkflowStatus::New),
        Just(WorkflowStatus::Notified),
        Just(WorkflowStatus::Suppressed),
        Just(WorkflowStatus::Resolved),
    ]
}

fn compliance() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("PASSED".to_string())),
        Just(Some("FAILED".to_string())),
        Just(Some("WARNING".to_string())),
        Just(Some("NOT_AVAILABLE".to_string())),
    ]
}

fn state() -> impl Strategy<Value = RecordState> {
    prop_oneof![Just(RecordState::Active), Just(RecordState::Archived)]
}

fn at(micros: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_micros(1_700_000_000_000_000 + micros).unwrap()
}

fn incoming() -> impl Strategy<Value = Incoming> {
    // Marks from a small set, so equal times meet both equal and other marks.
    (
        -1_000_000i64..1_000_000,
        status(),
        compliance(),
        state(),
        0u64..3,
    )
        .prop_map(|(t, w, c, r, m)| Incoming {
            updated_at: at(t),
            workflow_status: w,
            compliance_status: c,
            record_state: r,
            amendment: m,
        })
}

fn stored() -> impl Strategy<Value = StoredHead> {
    (
        -1_000_000i64..1_000_000,
        1u64..100,
        status(),
        any::<bool>(),
        compliance(),
        state(),
        prop::option::of(0u64..3),
    )
        .prop_map(|(t, revision, w, by_person, c, r, m)| StoredHead {
            updated_at: at(t),
            revision,
            workflow_status: w,
            workflow_by_person: by_person,
            compliance_status: c,
            record_state: r,
            severity: Severity::High,
            amendment: m,
        })
}

/// 0 skipped, 1 unchanged, 2 written: the order the decision must respect.
fn rank(d: &Decision) -> u8 {
    match d {
        Decision::SkippedOlder => 0,
        Decision::Unchanged => 1,
        Decision::Insert(_) | Decision::Replace(_) => 2,
    }
}

proptest! {
    #![proptest_config(super::config(256))]

    #[test]
    fn a_later_updated_at_never_ranks_lower(s in stored(), inc in incoming(), later in 0i64..1_000_000) {
        let d1 = decide(Some(&s), &inc);
        let mut newer = inc.clone();
        newer.updated_at = inc.updated_at + Duration::microseconds(later);
        let d2 = decide(Some(&s), &newer);
        prop_assert!(rank(&d2) >= rank(&d1), "{d1:?} then {d2:?}");
        // The rank is the comparison with the stored UpdatedAt; an equal one is
        // unchanged with the stored amendment mark and written with another.
        match (inc.updated_at.cmp(&s.updated_at), s.amendment) {
            (std::cmp::Ordering::Less, _) => prop_assert_eq!(rank(&d1), 0),
            (std::cmp::Ordering::Greater, _) => prop_assert_eq!(rank(&d1), 2),
            (std::cmp::Ordering::Equal, Some(m)) if m == inc.amendment => {
                prop_assert_eq!(rank(&d1), 1)
            }
            (std::cmp::Ordering::Equal, Some(_)) => prop_assert!(rank(&d1) >= 1),
            (std::cmp::Ordering::Equal, None) => prop_assert!(rank(&d1) >= 1),
        }
        // How much newer does not matter: the same write either way.
        if inc.updated_at > s.updated_at && later > 0 {
            prop_assert_eq!(d1, d2);
        }
        if let Decision::Replace(w) = d1 {
            prop_assert_eq!(w.revision, s.revision + 1);
        }
    }

    #[test]
    fn the_newest_version_wins_whatever_the_arrival_order(
        versions in prop::collection::vec(incoming(), 1..8),
        order in any::<prop::sample::Index>(),
    ) {
        // Apply in the given order and in a rotated one: the stored UpdatedAt ends
        // at the newest either way.
        let newest = versions.iter().map(|v| v.updated_at).max().unwrap();
        let mut rotated = versions.clone();
        rotated.rotate_left(order.index(versions.len()));
        for seq in [versions, rotated] {
            let mut head: Option<StoredHead> = None;
            for v in &seq {
                match decide(head.as_ref(), v) {
                    Decision::Insert(w) | Decision::Replace(w) => {
                        head = Some(StoredHead {
                            updated_at: v.updated_at,
                            revision: w.revision,
                            workflow_status: w.workflow_status,
                            workflow_by_person: w.workflow_by_person,
                            compliance_status: v.compliance_status.clone(),
                            record_state: v.record_state,
                            severity: Severity::High,
                            amendment: Some(v.amendment),
                        })
                    }
                    Decision::Unchanged | Decision::SkippedOlder => {}
                }
            }
            prop_assert_eq!(head.unwrap().updated_at, newest);
        }
    }

    #[test]
    fn same_time_versions_in_any_order_change_a_record_at_most_twice(
        s in stored(),
        versions in prop::collection::vec(incoming(), 1..10),
    ) {
        // Replays and late events give same-time versions no order: each may
        // only move the record one way (a status as the customer's decision,
        // then a suppression), never back, so a sequence settles.
        let mut head = s.clone();
        let mut writes = 0;
        for v in versions {
            let v = Incoming { updated_at: s.updated_at, ..v };
            if let Decision::Replace(w) = decide(Some(&head), &v) {
                writes += 1;
                prop_assert_ne!(w.workflow_status, head.workflow_status, "a write moves the status");
                head = StoredHead {
                    revision: w.revision,
                    workflow_status: w.workflow_status,
                    workflow_by_person: w.workflow_by_person,
                    amendment: Some(v.amendment),
                    ..head
                };
            }
        }
        prop_assert!(writes <= 2, "{writes} writes");
    }
}
