use super::items::*;
use crate::sinks::throttle::decide::{Facts, Subject};
use shared_types::Severity;
use std::collections::HashMap;

#[test]
fn keys_of_different_parts_never_collide() {
    assert_ne!(
        key("dedup", &["s", "r", "a#b", "c"]),
        key("dedup", &["s", "r", "a", "b#c"])
    );
    assert_eq!(
        key("window", &["oncall", "crit"]),
        r#"thr#window#["oncall","crit"]"#
    );
}

#[test]
fn held_groups_read_back_as_one_message_each_at_their_first_time() {
    let f = Facts {
        key: "f:1".into(),
        kind: shared_types::ChangeKind::Inserted,
        finding: "f".into(),
        rule: "r".into(),
        resource: "x".into(),
        account: "111122223333".into(),
        severity: Severity::High,
    };
    let (g, first) = group_names(Subject::Alert, &f);
    let item = HashMap::from([
        (g, n(3)),
        (first, n(1_700_000_000_000_000i64)),
        // A group emptied by a flush that overlapped new holds.
        (r#"g#["alert","LOW","111122223333"]"#.to_string(), n(0)),
        (r#"g#["unknown","HIGH","1"]"#.to_string(), n(2)),
    ]);
    let held = held_of(&item);
    assert_eq!(held.len(), 3);
    assert!(held.iter().all(|h| h.severity == Severity::High
        && h.account == "111122223333"
        && h.at.timestamp() == 1_700_000_000));
}
