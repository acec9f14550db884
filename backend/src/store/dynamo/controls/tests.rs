use super::*;
use serde_json::json;
use shared_types::RecordState;

/// A consolidated control finding of `control` in FSBP and CIS 1.4.
fn control_finding(control: &str, status: &str, resource: &str) -> Finding {
    let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 1)
        .next()
        .unwrap();
    f.id = "fid".into();
    f.title = format!("{control} title");
    f.resource_id = resource.into();
    f.record_state = RecordState::Active;
    f.compliance_status = Some(status.into());
    f.generator_id = format!("security-control/{control}");
    f.raw = json!({"Compliance": {"Status": status, "SecurityControlId": control,
        "AssociatedStandards": [
            {"StandardsId": "standards/aws-foundational-security-best-practices/v/1.0.0"},
            {"StandardsId": "standards/cis-aws-foundations-benchmark/v/1.4.0"}]}});
    f
}

fn version<'a>(results: &'a [StoredResult], resource: &'a str, title: &'a str) -> Results<'a> {
    Results {
        results: Some(results),
        resource,
        title,
        updated: "2026-06-01T00:00:00.000000Z",
    }
}

/// Every tally change of `d`, summed over parts: attribute → change.
fn tallies(d: &ControlDelta) -> BTreeMap<String, i64> {
    d.tallies
        .values()
        .flatten()
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

#[test]
fn a_results_verdict_follows_the_written_status_not_the_incoming_one() {
    let f = control_finding("S3.1", "FAILED", "arn:aws:s3:::b");
    let new = results_of(&f, WorkflowStatus::New);
    assert_eq!(new.len(), 2);
    assert_eq!(new[0].slug, "aws-fsbp");
    assert_eq!(new[1].slug, "cis-1.4");
    assert!(new.iter().all(|r| r.verdict == Verdict::Fail.code()));
    let suppressed = results_of(&f, WorkflowStatus::Suppressed);
    assert!(suppressed
        .iter()
        .all(|r| r.verdict == Verdict::Ignored.code()));
    let mut other = f.clone();
    other.raw = json!({"GeneratorId": "arn:aws:guardduty:us-east-1:1:detector/d"});
    other.generator_id = "arn:aws:guardduty:us-east-1:1:detector/d".into();
    assert!(results_of(&other, WorkflowStatus::New).is_empty());
}

#[test]
fn a_verdict_change_moves_one_count_per_standard_and_relabels_the_control() {
    let f = control_finding("S3.1", "FAILED", "arn:aws:s3:::b");
    let failing = results_of(&f, WorkflowStatus::New);
    let ignored = results_of(&f, WorkflowStatus::Suppressed);
    let inserted = control_delta(None, Some(version(&failing, "r", "S3.1 title")));
    assert_eq!(
        tallies(&inserted),
        BTreeMap::from([
            (r#"["aws-fsbp","S3.1",0]"#.to_string(), 1),
            (r#"["cis-1.4","S3.1",0]"#.to_string(), 1),
        ])
    );
    let labels: BTreeMap<&String, &String> = inserted.labels.values().flatten().collect();
    assert_eq!(
        labels.get(&r#"["aws-fsbp","S3.1"]"#.to_string()),
        Some(&&r#"["2026-06-01T00:00:00.000000Z","S3.1 title"]"#.to_string())
    );
    assert!(labels.contains_key(&r#"["cis-1.4"]"#.to_string()));

    let suppressed = control_delta(
        Some(version(&failing, "r", "")),
        Some(version(&ignored, "r", "S3.1 title")),
    );
    assert_eq!(
        tallies(&suppressed),
        BTreeMap::from([
            (r#"["aws-fsbp","S3.1",0]"#.to_string(), -1),
            (r#"["aws-fsbp","S3.1",3]"#.to_string(), 1),
            (r#"["cis-1.4","S3.1",0]"#.to_string(), -1),
            (r#"["cis-1.4","S3.1",3]"#.to_string(), 1),
        ])
    );
    // The same results again (a provider's new `UpdatedAt`): nothing moves,
    // no control item is written.
    let same = control_delta(
        Some(version(&failing, "r", "")),
        Some(version(&failing, "r", "S3.1 new title")),
    );
    assert!(same.is_empty() && same.labels.is_empty(), "{same:?}");
    // Summed with its reverse, a batch's change is nothing.
    let mut sum = inserted.clone();
    sum.add(&control_delta(Some(version(&failing, "r", "")), None));
    assert!(sum.is_empty() && sum.labels.is_empty(), "{sum:?}");
}

#[test]
fn failing_rows_follow_the_verdict_and_the_resource() {
    let f = control_finding("S3.1", "FAILED", "arn:aws:s3:::a");
    let failing = results_of(&f, WorkflowStatus::New);
    let passing = results_of(
        &control_finding("S3.1", "PASSED", "arn:aws:s3:::a"),
        WorkflowStatus::New,
    );
    let puts = row_writes("fid", None, Some(version(&failing, "arn:aws:s3:::a", "")));
    assert_eq!(puts.len(), 4, "{puts:?}");
    assert!(puts.contains(&RowWrite::Put {
        id: "#cfr#fid#aws-fsbp".into(),
        partition: "#cfr#aws-fsbp#S3.1".into(),
        sort: "arn:aws:s3:::a".into(),
    }));
    assert!(puts.contains(&RowWrite::Put {
        id: "#cff#fid#cis-1.4".into(),
        partition: "#cff#cis-1.4#S3.1".into(),
        sort: "fid".into(),
    }));
    let a = version(&failing, "arn:aws:s3:::a", "");
    assert!(row_writes("fid", Some(a), Some(a)).is_empty());
    // The resource moves: only the resource rows are put again.
    let moved = row_writes(
        "fid",
        Some(a),
        Some(version(&failing, "arn:aws:s3:::b", "")),
    );
    assert_eq!(moved.len(), 2, "{moved:?}");
    assert!(moved
        .iter()
        .all(|w| matches!(w, RowWrite::Put { id, .. } if id.starts_with(RESOURCE_ROW_PREFIX))));
    // Passing, or deleted: every row goes.
    for gone in [
        row_writes(
            "fid",
            Some(a),
            Some(version(&passing, "arn:aws:s3:::a", "")),
        ),
        row_writes("fid", Some(a), None),
    ] {
        assert_eq!(gone.len(), 4);
        assert!(gone.iter().all(|w| matches!(w, RowWrite::Delete { .. })));
    }
    // No resource: no resource row. A key past the index's limit: no row.
    assert_eq!(
        row_writes("fid", None, Some(version(&failing, "", ""))).len(),
        2
    );
    let long = "r".repeat(MAX_SORT_BYTES + 1);
    assert_eq!(
        row_writes("fid", None, Some(version(&failing, &long, ""))).len(),
        2
    );
}

#[test]
fn rows_sum_the_shards_tallies_and_take_their_labels() {
    let count = |n| crate::store::dynamo::parted::PartValue::Count(n);
    let text = |t: &str| crate::store::dynamo::parted::PartValue::Text(t.into());
    let shard_a = HashMap::from([
        (r#"["aws-fsbp","S3.1",0]"#.to_string(), count(2)),
        (r#"["aws-fsbp","S3.1",2]"#.to_string(), count(1)),
        (
            r#"["aws-fsbp","S3.1"]"#.to_string(),
            text(r#"["2026-06-01T00:00:00.000000Z","S3 buckets should block public access"]"#),
        ),
        (r#"["aws-fsbp"]"#.to_string(), text("AWS FSBP v1.0.0")),
        // A control whose findings have all gone: no row.
        (r#"["aws-fsbp","IAM.1",2]"#.to_string(), count(0)),
        ("not json".to_string(), count(7)),
    ]);
    let shard_b = HashMap::from([
        (r#"["aws-fsbp","S3.1",0]"#.to_string(), count(1)),
        // An older finding's title, in another shard: the newest wins.
        (
            r#"["aws-fsbp","S3.1"]"#.to_string(),
            text(r#"["2025-01-01T00:00:00.000000Z","an old title"]"#),
        ),
        (r#"["cis-1.4","1.4",1]"#.to_string(), count(3)),
    ]);
    let rows = rows_of(&[shard_a, shard_b]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].slug, "aws-fsbp");
    assert_eq!(rows[0].control_id, "S3.1");
    assert_eq!(rows[0].standard_name, "AWS FSBP v1.0.0");
    assert_eq!(rows[0].title, "S3 buckets should block public access");
    assert_eq!((rows[0].tally.failed, rows[0].tally.passed), (3, 1));
    // No label read: the slug names the standard until one is.
    assert_eq!(rows[1].standard_name, "cis-1.4");
    assert_eq!(rows[1].tally.unknown, 3);
}

#[test]
fn control_items_are_named_per_shard_and_part() {
    let ids = crate::store::dynamo::counters::all_control_ids();
    assert_eq!(ids.len(), 16 * usize::from(CONTROL_PARTS));
    assert_eq!(ids[0], "#controls#00.00");
    assert_eq!(ids[ids.len() - 1], "#controls#15.15");
}
