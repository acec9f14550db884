use super::*;

/// A version with `f`'s facets and no compliance results.
fn c(f: &Facets) -> Counted<'static> {
    Counted {
        facets: f.clone(),
        results: Results {
            results: None,
            resource: "",
            title: "",
            updated: "",
        },
        generator: None,
        resource: None,
    }
}

fn facets(sev: Severity, status: WorkflowStatus) -> Facets {
    Facets {
        severity: sev,
        status,
        account: "111".into(),
        region: "eu-west-1".into(),
        resource_type: "AwsS3Bucket".into(),
        product: "Security Hub".into(),
        created_day: NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
    }
}

#[test]
fn a_severity_change_moves_one_count_and_keeps_the_total() {
    let old = facets(Severity::High, WorkflowStatus::New);
    let new = facets(Severity::Critical, WorkflowStatus::New);
    let d = Delta::between(Some(&c(&old)), Some(&c(&new)));
    assert_eq!(d.summary.get("s#HIGH"), Some(&-1));
    assert_eq!(d.summary.get("s#CRITICAL"), Some(&1));
    assert_eq!(d.summary.len(), 2, "{d:?}");
    // The finding moves from one combination to another, in their parts.
    let moved: Vec<(&String, &i64)> = d.views.values().flatten().collect();
    assert_eq!(moved.len(), 2, "{d:?}");
    assert!(moved.contains(&(
        &r#"["HIGH","NEW","111","eu-west-1","AwsS3Bucket","Security Hub"]"#.to_string(),
        &-1
    )));
    assert!(Delta::between(Some(&c(&old)), Some(&c(&old))).is_empty());
    assert_eq!(
        Delta::between(None, Some(&c(&new))).summary.get("t"),
        Some(&1)
    );
}

#[test]
fn view_items_are_named_per_shard_and_part() {
    let ids = all_view_ids();
    assert_eq!(ids.len(), 64);
    assert_eq!(ids[0], "#views#00.0");
    assert_eq!(ids[63], "#views#15.3");
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
}

#[test]
fn summed_deltas_keep_every_change_and_drop_what_nets_to_zero() {
    let high = facets(Severity::High, WorkflowStatus::New);
    let critical = facets(Severity::Critical, WorkflowStatus::New);
    let mut sum = Delta::between(None, Some(&c(&high)));
    sum.add(&Delta::between(Some(&c(&high)), Some(&c(&critical))));
    sum.add(&Delta::between(None, Some(&c(&high))));
    assert_eq!(sum.summary.get("t"), Some(&2));
    assert_eq!(sum.summary.get("s#CRITICAL"), Some(&1));
    assert_eq!(sum.summary.get("s#HIGH"), Some(&1));
    assert_eq!(sum.summary.get("w#NEW"), Some(&2));
    let views: i64 = sum.views.values().flatten().map(|(_, n)| n).sum();
    assert_eq!(views, 2);
    assert!(sum.items() <= 1 + usize::from(VIEW_PARTS));
    sum.add(&Delta::between(Some(&c(&critical)), None));
    sum.add(&Delta::between(Some(&c(&high)), None));
    assert!(sum.is_empty(), "{sum:?}");
    assert_eq!(sum.items(), 0);
}
