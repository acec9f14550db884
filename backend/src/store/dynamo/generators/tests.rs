use super::*;
use shared_types::{Severity::*, WorkflowStatus::*};

fn version<'a>(generator: &'a str, sev: Severity, status: WorkflowStatus) -> GeneratorVersion<'a> {
    GeneratorVersion {
        generator,
        severity: sev,
        status,
    }
}

/// Every tally change of `d`, summed over parts: attribute → change.
fn tallies(d: &PartDelta) -> Vec<(String, i64)> {
    d.tallies
        .values()
        .flatten()
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// The items `d` would leave in an empty table, as the reads see them.
fn items_of(d: &PartDelta) -> Vec<HashMap<String, PartValue>> {
    d.tallies
        .iter()
        .map(|(part, attrs)| {
            assert!(
                !d.labels.contains_key(part),
                "generator items hold numbers only"
            );
            attrs
                .iter()
                .map(|(k, v)| (k.clone(), PartValue::Count(*v)))
                .collect()
        })
        .collect()
}

#[test]
fn an_insert_counts_once() {
    let d = generator_delta(None, Some(version("security-control/S3.1", High, New)));
    assert_eq!(
        tallies(&d),
        vec![(r#"["security-control/S3.1","HIGH","NEW"]"#.to_string(), 1)]
    );
    let counts = generator_counts(&items_of(&d));
    assert_eq!(
        counts.counts,
        vec![("security-control/S3.1".to_string(), High, New, 1)]
    );
}

#[test]
fn a_status_change_moves_one_count_and_an_unchanged_version_touches_nothing() {
    let old = version("aws.iam.root-login", Critical, New);
    let resolved = version("aws.iam.root-login", Critical, Resolved);
    let d = generator_delta(Some(old), Some(resolved));
    let mut t = tallies(&d);
    t.sort();
    assert_eq!(
        t,
        vec![
            (r#"["aws.iam.root-login","CRITICAL","NEW"]"#.to_string(), -1),
            (
                r#"["aws.iam.root-login","CRITICAL","RESOLVED"]"#.to_string(),
                1
            ),
        ]
    );
    // A provider's new UpdatedAt or title: no tally moves, no item is touched.
    let same = generator_delta(Some(old), Some(old));
    assert!(same.is_empty(), "{same:?}");
    // A version not counted per generator (an item from before) subtracts nothing.
    let from_before = generator_delta(None, Some(resolved));
    assert_eq!(tallies(&from_before).len(), 1);
}

#[test]
fn summed_changes_net_out_and_the_shards_items_add_up() {
    let mut sum = generator_delta(None, Some(version("g", Low, New)));
    sum.add(&generator_delta(Some(version("g", Low, New)), None));
    assert!(sum.is_empty(), "{sum:?}");
    // Two shards' items holding the same tally add up.
    let mut items = items_of(&generator_delta(None, Some(version("g", Low, New))));
    items.extend(items_of(&generator_delta(
        None,
        Some(version("g", Low, New)),
    )));
    items.extend(items_of(&generator_delta(
        None,
        Some(version("g", Medium, Notified)),
    )));
    let counts = generator_counts(&items);
    assert_eq!(
        counts.counts,
        vec![
            ("g".to_string(), Low, New, 2),
            ("g".to_string(), Medium, Notified, 1)
        ]
    );
    // A negative or zero sum (a table not yet recounted) lists nothing.
    let gone = items_of(&generator_delta(Some(version("h", Low, New)), None));
    assert!(generator_counts(&gone).counts.is_empty());
}

#[test]
fn a_view_is_answered_by_generator_severity_and_status_only() {
    let mut items = items_of(&generator_delta(None, Some(version("a", High, New))));
    items.extend(items_of(&generator_delta(
        None,
        Some(version("a", Low, Resolved)),
    )));
    items.extend(items_of(&generator_delta(
        None,
        Some(version("b", High, New)),
    )));
    let counts = generator_counts(&items);
    let total = |f: &FindingFilter| counts.matching(f).map(|c| c.3).sum::<u64>();
    let mut f = FindingFilter::default();
    assert!(answers(&f));
    assert_eq!(total(&f), 3);
    f.generator = Some("a".into());
    f.severities = vec![High, Low];
    f.statuses = vec![Resolved];
    assert!(answers(&f));
    assert_eq!(total(&f), 1);
    for other in [
        FindingFilter {
            account: Some("1".into()),
            ..f.clone()
        },
        FindingFilter {
            q: Some("x".into()),
            ..f.clone()
        },
        FindingFilter {
            resource: Some("r".into()),
            ..f.clone()
        },
    ] {
        assert!(!answers(&other), "{other:?}");
    }
}

#[test]
fn generator_items_are_named_per_shard_and_part() {
    let ids = crate::store::dynamo::counters::all_generator_ids();
    assert_eq!(ids.len(), 16 * usize::from(GENERATOR_PARTS));
    assert_eq!(ids[0], "#generators#00.00");
    assert_eq!(ids[ids.len() - 1], "#generators#15.15");
}
