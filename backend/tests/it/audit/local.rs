//! The audit sink in the dispatcher on a real SQLite store, as `cspm serve` runs
//! it: a suppression that matches, alerts sent on two channels, one batch parked
//! and a person's workflow change come out as the expected lines, phase by phase;
//! the chain verifies; a crash between the append and its commit is recovered.

use super::support::{cspm_audit, gist, lines, objects, set};
use crate::helpers::{anchor, findings};
use async_trait::async_trait;
use cspm::detect::suppress::Suppressions;
use cspm::feed::{DispatchSettings, Dispatcher, FeedMetrics, RetryPolicy, SinkState};
use cspm::metrics::{Registry, ALERTS_SENT, AUDIT_LINES, BATCHES_PARKED, CHANGES_DISPATCHED};
use cspm::retry::Backoff;
use cspm::sinks::audit::local::{LocalWriter, Outbox};
use cspm::sinks::audit::record::{AuditEvent, AuditRecord};
use cspm::sinks::audit::LocalAudit;
use cspm::sinks::recording::RecordingSink;
use cspm::sinks::{Filter, Sink, SinkError};
use cspm::store::{Change, SqliteStore, Store};
use serde_json::Value;
use shared_types::{WorkflowStatus, WorkflowUpdate};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A recording sink that says it alerts on `channel`.
struct Alerting {
    inner: RecordingSink,
    channel: &'static str,
}

#[async_trait]
impl Sink for Alerting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn wants(&self, c: &Change) -> bool {
        self.inner.wants(c)
    }
    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        self.inner.send(changes).await
    }
    fn channel(&self) -> Option<&'static str> {
        Some(self.channel)
    }
}

fn alerting(name: &str, channel: &'static str) -> Arc<Alerting> {
    Arc::new(Alerting {
        inner: RecordingSink::new(name, Filter::default()),
        channel,
    })
}

fn fast() -> DispatchSettings {
    DispatchSettings {
        retry: RetryPolicy {
            backoff: Backoff {
                max_attempts: 2,
                base: Duration::from_millis(10),
                cap: Duration::from_millis(20),
            },
            max_age: Duration::from_secs(60),
        },
        poll: Duration::from_millis(30),
        ..Default::default()
    }
}

/// Waits (bounded) until the log under `dir` holds `n` lines.
async fn wait_lines(dir: &Path, n: usize) -> Vec<Value> {
    let t = Instant::now();
    loop {
        let got = lines(dir);
        if got.len() >= n || t.elapsed() > Duration::from_secs(15) {
            assert_eq!(got.len(), n, "lines: {got:#?}");
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn suppressions_alerts_parking_and_workflow_changes_are_chained_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(tmp.path()).unwrap();
    let audit_dir = tmp.path().join("audit");
    let metrics = Registry::new();
    let audit = LocalAudit::start(
        &audit_dir,
        store.path(),
        Arc::new(store.clone()),
        metrics.clone(),
    )
    .unwrap();
    let hook = alerting("hook", "webhook");
    let pager = alerting("pager", "sns");
    pager
        .inner
        .fail_with([SinkError::permanent("410 topic gone")]);
    let sinks: Vec<Arc<dyn Sink>> = vec![hook.clone(), pager.clone(), audit.sink.clone()];
    let running = Dispatcher::new(
        Arc::new(store.clone()),
        SinkState::open(store.path()).unwrap(),
        sinks,
        fast(),
    )
    .observe(Arc::new(FeedMetrics::new(metrics.clone())))
    .observe(audit.sink.clone())
    .start()
    .await
    .unwrap();

    // Phase 1: a new finding, and one a suppression rule marks before it is stored.
    let mut fs = findings(2, 7);
    let (a, b) = (fs[0].id.clone(), fs[1].id.clone());
    fs[0].workflow_status = WorkflowStatus::New;
    let rules = format!(
        "suppressions:\n  - id: lab-account\n    reason: lab account, rebuilt nightly\n    owner: platform@example.com\n    expires: 2030-01-01T00:00:00Z\n    match: {{path: id, equals: \"{b}\"}}\n"
    );
    let suppressions = Suppressions::from_yaml("s.yaml", &rules).unwrap();
    assert!(suppressions.apply(&mut fs[1], anchor()));
    store.upsert(&fs).await.unwrap();
    let (sa, sb) = (&a, &b);
    let phase1 = vec![
        format!("suppressed {sb} sink=- actor=- -->SUPPRESSED rule=lab-account"),
        format!("alert_sent {sa} sink=hook actor=- -->- rule=-"),
        format!("alert_sent {sb} sink=hook actor=- -->- rule=-"),
        format!("parked {sa} sink=pager actor=- -->- rule=-"),
        format!("parked {sb} sink=pager actor=- -->- rule=-"),
    ];
    let got = wait_lines(&audit_dir, phase1.len()).await;
    let gists: Vec<String> = got.iter().map(gist).collect();
    assert_eq!(set(&gists), set(&phase1), "{gists:#?}");

    // Phase 2: a person resolves A; both channels alert on it (pager works again).
    let update = WorkflowUpdate {
        workflow_status: WorkflowStatus::Resolved,
        note: Some("rotated the key".into()),
    };
    store
        .set_workflow(&a, &update, "alice@example.com", anchor())
        .await
        .unwrap()
        .unwrap();
    let phase2 = vec![
        format!("workflow_changed {sa} sink=- actor=alice@example.com NEW->RESOLVED rule=-"),
        format!("alert_sent {sa} sink=hook actor=- -->- rule=-"),
        format!("alert_sent {sa} sink=pager actor=- -->- rule=-"),
    ];
    let got = wait_lines(&audit_dir, phase1.len() + phase2.len()).await;
    let gists: Vec<String> = got.iter().map(gist).collect();
    assert_eq!(set(&gists[phase1.len()..]), set(&phase2), "{gists:#?}");
    let resolved = got
        .iter()
        .find(|v| v["event"] == "workflow_changed")
        .unwrap();
    assert_eq!(resolved["note"], "rotated the key");
    let parked = got.iter().find(|v| v["event"] == "parked").unwrap();
    assert!(parked["error"].as_str().unwrap().contains("410 topic gone"));
    let seqs: Vec<u64> = got.iter().map(|v| v["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());

    running.stop().await;
    audit.stop().await;
    assert_eq!(metrics.value(&AUDIT_LINES, &[]), 8.0);
    assert_eq!(metrics.value(&BATCHES_PARKED, &["pager"]), 1.0);
    assert_eq!(metrics.value(&ALERTS_SENT, &["webhook"]), 3.0);
    assert_eq!(metrics.value(&ALERTS_SENT, &["sns"]), 1.0);
    assert_eq!(metrics.value(&CHANGES_DISPATCHED, &["hook"]), 3.0);
    let dir = audit_dir.to_str().unwrap();
    let (code, out) = cspm_audit(&["verify", "--from", dir]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("8 lines in 1 objects, seq 1-8: the chain holds"),
        "{out}"
    );
}

fn record(i: usize) -> AuditRecord {
    let mut r = AuditRecord::new(AuditEvent::WorkflowChanged, anchor());
    r.finding_id = Some(format!("f{i}"));
    r.actor = Some("alice".into());
    r
}

#[test]
fn a_crash_between_the_append_and_its_commit_leaves_a_verifiable_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("cspm.db");
    let dir = tmp.path().join("audit");
    let outbox = Outbox::open(&db).unwrap();
    let mut w = LocalWriter::open(&dir, &db, &outbox).unwrap();
    outbox
        .push_blocking(&(0..3).map(record).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(w.drain().unwrap(), 3);
    // The next records reach the outbox, their lines reach the file, and the
    // process dies before the commit: a whole line and half of the next one.
    outbox
        .push_blocking(&(3..5).map(record).collect::<Vec<_>>())
        .unwrap();
    let part = objects(&dir).pop().unwrap();
    let mut bytes = std::fs::read(&part).unwrap();
    let last = String::from_utf8(bytes.clone())
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_string();
    let torn = last.replace("\"seq\":3", "\"seq\":4");
    bytes.extend_from_slice(format!("{torn}\n{}", &torn[..40]).as_bytes());
    std::fs::write(&part, &bytes).unwrap();
    drop(w);
    let dir_s = dir.to_str().unwrap();
    assert_eq!(
        cspm_audit(&["verify", "--from", dir_s]).0,
        1,
        "the torn tail is seen"
    );
    // Restarting cuts what was never committed; the outbox still holds its records.
    let mut w = LocalWriter::open(&dir, &db, &outbox).unwrap();
    let (code, out) = cspm_audit(&["verify", "--from", dir_s]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("seq 1-3"), "{out}");
    assert_eq!(w.drain().unwrap(), 2);
    let (code, out) = cspm_audit(&["verify", "--from", dir_s]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("seq 1-5"), "{out}");
    let ids: Vec<String> = lines(&dir)
        .iter()
        .map(|v| v["finding_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["f0", "f1", "f2", "f3", "f4"]);
}
