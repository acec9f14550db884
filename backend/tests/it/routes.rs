//! Routes on real changes: the corpus's Security Hub, CloudTrail, GuardDuty and
//! alarm documents through the pipeline, plus a person's workflow change, read
//! back from the feed. Each match key is checked against a plain predicate over
//! the change (never against the code under test), on input where the predicate
//! both takes and refuses something; then `stop`, "no route names it, it gets
//! nothing", and the sinks file building routed sinks.

use crate::corpus::corpus;
use cspm::sinks::config::{parse, BuildContext};
use cspm::sinks::dedup::MemoryDedup;
use cspm::sinks::routes::{matching, sends_to, Route};
use cspm::sinks::ssrf::SystemResolver;
use cspm::store::{Change, ChangeFeed, SqliteStore};
use shared_types::{ChangeKind, FindingSource, Severity, WorkflowStatus, WorkflowUpdate};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every change the corpus makes, and the store's temp dir (kept alive).
async fn corpus_changes() -> (Vec<Change>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let pipeline = crate::helpers::pipeline(Arc::new(store.clone()));
    for folder in ["asff-envelope", "cloudtrail", "guardduty", "alarm"] {
        for (name, doc) in corpus(folder) {
            // Near misses are rejected by design; what is stored is what counts.
            let _ = pipeline.run_document(&name, &doc).await;
        }
    }
    let first = store.changes_after(0, 100_000).await.unwrap()[0].clone();
    let update = WorkflowUpdate {
        workflow_status: WorkflowStatus::Suppressed,
        note: Some("accepted risk".into()),
    };
    pipeline
        .set_workflow(
            first.finding_id(),
            &update,
            "alice@example.com",
            chrono::Utc::now(),
        )
        .await
        .unwrap()
        .expect("the finding exists");
    (store.changes_after(0, 100_000).await.unwrap(), dir)
}

/// The routes of a sinks file with sinks `x` and `y` (log) and `routes`.
fn routes(routes_yaml: &str) -> Vec<Route> {
    let text = format!(
        "sinks:\n  - {{name: x, kind: log}}\n  - {{name: y, kind: log}}\nroutes:\n{routes_yaml}"
    );
    parse(&text)
        .unwrap_or_else(|p| panic!("{text}: {p:?}"))
        .routes
        .expect("routes given")
}

/// The most common value of `key` among `changes`.
fn commonest(changes: &[Change], key: impl Fn(&Change) -> String) -> String {
    let mut n: BTreeMap<String, usize> = BTreeMap::new();
    for c in changes {
        *n.entry(key(c)).or_default() += 1;
    }
    n.into_iter().max_by_key(|(_, k)| *k).unwrap().0
}

#[tokio::test]
async fn every_match_key_selects_what_a_plain_predicate_selects() {
    let (changes, _dir) = corpus_changes().await;
    let account = commonest(&changes, |c| c.finding.item.account_id.clone());
    let region = commonest(&changes, |c| c.finding.item.region.clone());
    let rtype = commonest(&changes, |c| c.finding.item.resource_type.clone());
    let product = commonest(&changes, |c| c.finding.item.product_name.clone());
    type Pred = Box<dyn Fn(&Change) -> bool>;
    let cases: Vec<(String, Pred)> = vec![
        (
            "{severity_at_least: HIGH}".into(),
            Box::new(|c| matches!(c.finding.item.severity, Severity::High | Severity::Critical)),
        ),
        (
            "{severity: [LOW, MEDIUM]}".into(),
            Box::new(|c| matches!(c.finding.item.severity, Severity::Low | Severity::Medium)),
        ),
        (
            "{source: cloudtrail}".into(),
            Box::new(|c| c.finding.item.source == FindingSource::Cloudtrail),
        ),
        (
            format!("{{account: [\"{account}\", \"000000000000\"]}}"),
            Box::new(move |c| {
                [account.as_str(), "000000000000"].contains(&c.finding.item.account_id.as_str())
            }),
        ),
        (
            format!("{{region: {region}}}"),
            Box::new(move |c| c.finding.item.region == region),
        ),
        (
            format!("{{resource_type: {rtype}}}"),
            Box::new(move |c| c.finding.item.resource_type == rtype),
        ),
        (
            "{rule: [\"aws.iam.*\"]}".into(),
            Box::new(|c| c.finding.generator_id.starts_with("aws.iam.")),
        ),
        (
            format!("{{product: \"{product}\"}}"),
            Box::new(move |c| c.finding.item.product_name == product),
        ),
        (
            "{change: workflow_changed}".into(),
            Box::new(|c| c.kind == ChangeKind::WorkflowChanged),
        ),
        (
            "{severity_at_least: MEDIUM, source: [security_hub, guardduty]}".into(),
            Box::new(|c| {
                c.finding.item.severity >= Severity::Medium
                    && matches!(
                        c.finding.item.source,
                        FindingSource::SecurityHub | FindingSource::Guardduty
                    )
            }),
        ),
    ];
    for (m, want) in cases {
        let r = routes(&format!("  - {{name: r, match: {m}, to: [x]}}\n"));
        let (mut took, mut refused) = (0, 0);
        for c in &changes {
            let expected = want(c);
            assert_eq!(!matching(&r, c).is_empty(), expected, "{m} on {}", c.key);
            assert_eq!(sends_to(&r, c, "x"), expected, "{m} on {}", c.key);
            assert!(!sends_to(&r, c, "y"), "{m}: y is named by no route");
            if expected {
                took += 1
            } else {
                refused += 1
            }
        }
        assert!(
            took > 0 && refused > 0,
            "{m}: took {took}, refused {refused}: the case proves nothing"
        );
    }
    // A route without `match` takes everything.
    let all = routes("  - {name: all, to: y}\n");
    assert!(changes.iter().all(|c| sends_to(&all, c, "y")));
}

#[tokio::test]
async fn stop_ends_routing_at_the_first_matching_route_that_says_so() {
    let (changes, _dir) = corpus_changes().await;
    let r = routes(
        "  - {name: trail, match: {source: cloudtrail}, to: [x], stop: true}\n  \
         - {name: severe, match: {severity_at_least: HIGH}, to: [y]}\n",
    );
    let without_stop = routes(
        "  - {name: trail, match: {source: cloudtrail}, to: [x]}\n  \
         - {name: severe, match: {severity_at_least: HIGH}, to: [y]}\n",
    );
    let trail = |c: &Change| c.finding.item.source == FindingSource::Cloudtrail;
    let severe = |c: &Change| c.finding.item.severity >= Severity::High;
    assert!(
        changes.iter().any(|c| trail(c) && severe(c)),
        "a severe CloudTrail detection"
    );
    assert!(changes.iter().any(|c| !trail(c) && severe(c)));
    for c in &changes {
        assert_eq!(sends_to(&r, c, "x"), trail(c), "{}", c.key);
        assert_eq!(sends_to(&r, c, "y"), !trail(c) && severe(c), "{}", c.key);
        assert_eq!(sends_to(&without_stop, c, "y"), severe(c), "{}", c.key);
        let names: Vec<&str> = matching(&r, c)
            .into_iter()
            .map(|r| r.name.0.as_str())
            .collect();
        let expected: &[&str] = match (trail(c), severe(c)) {
            (true, _) => &["trail"],
            (false, true) => &["severe"],
            (false, false) => &[],
        };
        assert_eq!(names, expected, "{}", c.key);
    }
}

fn ctx() -> BuildContext {
    BuildContext {
        sdk: None,
        dedup: Arc::new(MemoryDedup::default()),
        resolver: Arc::new(SystemResolver),
        dashboard_url: None,
        throttle: None,
        digests_on_schedule: false,
        turns: None,
    }
}

#[tokio::test]
async fn with_routes_a_sink_no_route_names_receives_nothing_and_without_them_filters_stay() {
    let (changes, _dir) = corpus_changes().await;
    let loud: Vec<&Change> = changes.iter().filter(|c| !c.quiet).collect();
    let routed = parse(
        "sinks:\n  - {name: x, kind: log}\n  - {name: y, kind: log}\n\
         routes:\n  - {name: trail, match: {source: cloudtrail}, to: x}\n",
    )
    .unwrap();
    let sinks = routed.build_all(&ctx()).await.unwrap().sinks;
    let (x, y) = (&sinks[0], &sinks[1]);
    assert_eq!((x.name(), y.name()), ("x", "y"));
    assert!(loud.iter().all(|c| !y.wants(c)), "y is named by no route");
    for c in &loud {
        assert_eq!(
            x.wants(c),
            c.finding.item.source == FindingSource::Cloudtrail
        );
    }
    // No routes: a log sink keeps its own filter (everything loud), as before.
    let plain = parse("sinks:\n  - {name: x, kind: log, min_severity: MEDIUM}\n").unwrap();
    let sinks = plain.build_all(&ctx()).await.unwrap().sinks;
    for c in &loud {
        assert_eq!(
            sinks[0].wants(c),
            c.finding.item.severity >= Severity::Medium
        );
    }
}
