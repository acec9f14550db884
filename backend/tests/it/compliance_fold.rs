//! The compliance results SQLite keeps per control (store/sqlite/compliance_fold.rs)
//! against a report read from every stored finding, through random sequences of
//! the writes that move them: provider upserts (new findings, status, standard,
//! resource and record-state changes), a person's workflow changes, archival
//! deletes, another process's writes, and the change feed trimmed before a fold.

use super::helpers::anchor;
use chrono::{DateTime, Duration, Utc};
use cspm::compliance::report::Report;
use cspm::store::feed::ChangeFeed;
use cspm::store::{SqliteStore, Store};
use serde_json::json;
use shared_types::{Finding, RecordState, WorkflowStatus, WorkflowUpdate};

/// The demo's generator: the same seed replays a failure.
pub(crate) struct Rng(pub(crate) cspm::demo::Rng);

impl Rng {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        self.0.pick(items)
    }
}

const STANDARDS: [&str; 3] = [
    "standards/aws-foundational-security-best-practices/v/1.0.0",
    "standards/cis-aws-foundations-benchmark/v/1.4.0",
    "standards/pci-dss/v/3.2.1",
];
const CONTROLS: [&str; 6] = ["S3.1", "S3.8", "IAM.1", "EC2.2", "KMS.4", "CloudTrail.2"];
const STATUSES: [Option<&str>; 5] = [
    Some("PASSED"),
    Some("FAILED"),
    Some("WARNING"),
    Some("NOT_AVAILABLE"),
    None,
];

/// The stored id of finding number `n` (a real short id: list cursors hold it).
pub(crate) fn id_of(n: usize) -> String {
    cspm::ids::short_id(PRODUCT, &format!("f{n:03}"))
}

const PRODUCT: &str = "arn:aws:securityhub:us-east-1::product/aws/securityhub";

/// Finding number `n` as the provider sends it at `at`: a consolidated control
/// finding in one to three standards, or (one in four) a legacy per-standard one
/// without a security control id; a few are GuardDuty-like (no control).
pub(crate) fn finding(rng: &mut Rng, n: usize, at: DateTime<Utc>) -> Finding {
    let mut f = super::helpers::findings(1, n as u64).remove(0);
    f.product_arn = PRODUCT.into();
    f.asff_id = format!("f{n:03}");
    f.id = id_of(n);
    let control = *rng.pick(&CONTROLS);
    let status = *rng.pick(&STATUSES);
    f.generator_id = format!("security-control/{control}");
    f.title = format!("{control} check");
    f.compliance_status = status.map(str::to_string);
    f.record_state = if rng.below(6) == 0 {
        RecordState::Archived
    } else {
        RecordState::Active
    };
    f.resource_id = format!("arn:aws:s3:::bucket-{}", rng.below(5));
    f.updated_at = at;
    f.workflow_by_person = false;
    f.workflow_status = WorkflowStatus::New;
    let standards: Vec<_> = STANDARDS
        .iter()
        .filter(|_| rng.below(2) == 0)
        .map(|s| json!({"StandardsId": s}))
        .collect();
    f.raw = match rng.below(8) {
        0 => json!({"GeneratorId": "arn:aws:guardduty:us-east-1:1:detector/d"}),
        1 | 2 => {
            let legacy = format!("aws-foundational-security-best-practices/v/1.0.0/{control}");
            f.generator_id = legacy.clone();
            json!({"GeneratorId": legacy, "Compliance": {"Status": status}})
        }
        _ => json!({"GeneratorId": f.generator_id,
            "Compliance": {"Status": status, "SecurityControlId": control,
                "AssociatedStandards": standards}}),
    };
    f
}

/// Every standard's card and drill-down from the kept rows equals the one read
/// from the findings.
pub(crate) async fn assert_kept_equals_read(store: &dyn Store, context: &str) {
    let want = cspm::compliance::daily::read_report(store).await.unwrap();
    let overview = Report::from_rows(store.control_results(None).await.unwrap().unwrap());
    assert_eq!(overview.scores(), want.scores(), "{context}");
    let slugs: Vec<String> = want.slugs().map(str::to_string).collect();
    let all = every_finding(store).await;
    for slug in slugs {
        let rows = store.control_results(Some(&slug)).await.unwrap().unwrap();
        let got = Report::from_rows(rows).detail(&slug);
        let detail = want.detail(&slug);
        assert_eq!(got, detail, "{context}: {slug}");
        assert_failing_pages_equal_read(store, &all, &detail.unwrap(), context).await;
    }
}

/// Each control's failing findings from the kept results are the ones the
/// findings name, in id order: as many as the control's failed count, none
/// for a control that does not fail. The most failing control is read in
/// pages of 3 (the others in one page, to keep the emulator's queries few).
async fn assert_failing_pages_equal_read(
    store: &dyn Store,
    all: &[Finding],
    detail: &shared_types::StandardDetail,
    context: &str,
) {
    use cspm::compliance::failing::fails_control;
    let slug = detail.standard.slug.as_str();
    let most = detail.controls.iter().map(|c| c.failed).max().unwrap_or(0);
    for c in &detail.controls {
        let id = &c.control_id;
        let mut want: Vec<String> = all
            .iter()
            .filter(|f| fails_control(f, slug, id))
            .map(|f| f.id.clone())
            .collect();
        want.sort();
        assert_eq!(want.len(), c.failed as usize, "{context}: {slug} {id}");
        let size = if c.failed == most { 3 } else { want.len() + 1 };
        let mut got: Vec<String> = Vec::new();
        for _ in 0..=want.len() / size + 1 {
            let page = store
                .failing_findings(slug, id, got.last().map(String::as_str), size)
                .await
                .unwrap()
                .expect("kept results answer");
            let done = page.len() < size;
            got.extend(page);
            if done {
                break;
            }
        }
        assert_eq!(got, want, "{context}: {slug} {id}");
    }
}

/// Every stored finding.
async fn every_finding(store: &dyn Store) -> Vec<Finding> {
    let mut out = Vec::new();
    cspm::compliance::daily::each_finding(store, |f| out.push(f.clone()))
        .await
        .unwrap();
    out
}

/// A person's workflow change to one of the `stored` findings.
pub(crate) async fn workflow_change(
    store: &dyn Store,
    rng: &mut Rng,
    stored: &[usize],
    at: DateTime<Utc>,
) {
    let id = id_of(*rng.pick(stored));
    let status = *rng.pick(&[
        WorkflowStatus::Suppressed,
        WorkflowStatus::Resolved,
        WorkflowStatus::Notified,
        WorkflowStatus::New,
    ]);
    let u = WorkflowUpdate {
        workflow_status: status,
        note: None,
    };
    store.set_workflow(&id, &u, "analyst", at).await.unwrap();
}

/// Archival of one of the `stored` findings (taken out of `stored`).
pub(crate) async fn archive_one(store: &dyn Store, rng: &mut Rng, stored: &mut Vec<usize>) {
    let i = rng.below(stored.len());
    let id = id_of(stored.remove(i));
    let f = store.get(&id).await.unwrap().unwrap();
    let v = cspm::store::FindingVersion {
        id,
        updated_at: f.finding.updated_at,
        revision: f.finding.revision,
    };
    let report = store.delete_versions(&[v]).await.unwrap();
    assert_eq!(report.deleted.len(), 1, "{report:?}");
}

#[tokio::test]
async fn kept_results_equal_a_read_of_every_finding_after_any_write() {
    for seed in 1..=6u64 {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path())
            .unwrap()
            .with_fold_batch(3);
        let other = SqliteStore::open_dir(dir.path()).unwrap();
        let mut rng = Rng(cspm::demo::Rng(seed));
        let mut clock = anchor();
        let mut stored: Vec<usize> = Vec::new();
        let mut rebuilds = 0;
        for step in 0..40 {
            clock += Duration::seconds(1);
            let op = if stored.is_empty() { 0 } else { rng.below(6) };
            match op {
                // Provider versions: new findings and new versions of stored ones.
                0 | 1 => {
                    let batch: Vec<Finding> = (0..1 + rng.below(12))
                        .map(|_| {
                            let n = rng.below(40);
                            if !stored.contains(&n) {
                                stored.push(n);
                            }
                            finding(&mut rng, n, clock)
                        })
                        .collect();
                    let writer = if op == 1 { &other } else { &store };
                    writer.upsert(&batch).await.unwrap();
                }
                2 => workflow_change(&store, &mut rng, &stored, clock).await,
                3 => archive_one(&store, &mut rng, &mut stored).await,
                // The feed trimmed past the fold: the tables are rebuilt, three
                // findings a transaction, with writes between its transactions.
                4 => {
                    store.fold_compliance().await.unwrap();
                    let n = *rng.pick(&stored);
                    store.upsert(&[finding(&mut rng, n, clock)]).await.unwrap();
                    // A workflow change stamped with the findings' clock (long
                    // ago): a trim by age takes it and leaves the later changes,
                    // a hole after the fold's position.
                    let u = WorkflowUpdate {
                        workflow_status: WorkflowStatus::Suppressed,
                        note: None,
                    };
                    let id = id_of(*rng.pick(&stored));
                    store.set_workflow(&id, &u, "analyst", clock).await.unwrap();
                    let n = *rng.pick(&stored);
                    store.upsert(&[finding(&mut rng, n, clock)]).await.unwrap();
                    let head = store.head().await.unwrap();
                    let before = if rng.below(2) == 0 {
                        clock + Duration::hours(1)
                    } else {
                        // Changes are stamped with the wall clock, not the findings'.
                        Utc::now() + Duration::days(1)
                    };
                    assert!(store.trim(head, before).await.unwrap() > 0);
                    for _ in 0..1 + rng.below(4) {
                        store.fold_compliance_once().await.unwrap();
                        let n = rng.below(40);
                        if !stored.contains(&n) {
                            stored.push(n);
                        }
                        other.upsert(&[finding(&mut rng, n, clock)]).await.unwrap();
                    }
                    rebuilds += 1;
                }
                // A background fold between writes.
                _ => {
                    store.fold_compliance().await.unwrap();
                }
            }
            assert_kept_equals_read(&store, &format!("seed {seed}, step {step}, op {op}")).await;
        }
        assert!(rebuilds > 0, "seed {seed} never trimmed the feed");
    }
}

/// A control's title is its most recently updated finding's: a new title from
/// the provider replaces it, an older version's does not.
#[tokio::test]
async fn a_controls_title_follows_its_newest_finding() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let mut rng = Rng(cspm::demo::Rng(7));
    let mut a = finding(&mut rng, 1, anchor());
    a.raw = json!({"Compliance": {"Status": "FAILED", "SecurityControlId": "S3.1",
        "AssociatedStandards": [{"StandardsId": STANDARDS[0]}]}});
    a.record_state = RecordState::Active;
    let mut b = a.clone();
    b.asff_id = "f002".into();
    b.id = id_of(2);
    b.title = "S3.1 renamed".into();
    b.updated_at = anchor() + Duration::hours(1);
    store.upsert(&[b, a.clone()]).await.unwrap();
    let title = |rows: Vec<cspm::store::control_rows::ControlRow>| rows[0].title.clone();
    let rows = store.control_results(None).await.unwrap().unwrap();
    assert_eq!(title(rows), "S3.1 renamed");
    a.title = "S3.1 renamed again".into();
    a.updated_at = anchor() + Duration::hours(2);
    store.upsert(&[a]).await.unwrap();
    let rows = store.control_results(None).await.unwrap().unwrap();
    assert_eq!(title(rows), "S3.1 renamed again");
}
