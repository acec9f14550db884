//! The behaviour every `Sink` must have, written once and run against each kind
//! (the files under `sink_contract/`): the recording, log and local live sinks and
//! the audit log without a network; the webhook and Slack against local receivers;
//! SNS, SES and the live sink on AWS against the emulator.
//!
//! The input is real: the corpus's Security Hub events through the pipeline, a
//! person's workflow change and quiet demo data, read back from the feed. What a
//! sink delivered is read at its target (the receiver's requests, the topics'
//! queue, the log output, the broadcast frames, the audit outbox), never asked of
//! the sink, and compared with what plain predicates over the input expect.

/// The kinds whose target is on AWS (emulator).
mod aws;
/// The kinds without a network target.
mod local;
/// Slack against a local server speaking its webhook protocol.
mod slack;
/// The webhook against a local receiver.
mod webhook;

use crate::corpus::corpus;
use cspm::sinks::{Filter, Sink, SinkError};
use cspm::store::{Change, ChangeFeed, Origin, SqliteStore};
use futures::future::BoxFuture;
use shared_types::{ChangeKind, Severity, WorkflowStatus, WorkflowUpdate};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Finding ids that reached a sink's target so far, one entry per change (or
/// message) that arrived, repeats kept.
pub type Probe = Box<dyn Fn() -> BoxFuture<'static, Vec<String>> + Send + Sync>;

/// Builds a sink of the kind under test, on the same target, with another filter.
pub type WithFilter = Box<dyn Fn(Filter) -> Arc<dyn Sink> + Send + Sync>;

/// One sink kind, as the contract needs it.
pub struct Subject {
    /// The name the sink was configured with.
    pub name: &'static str,
    /// The sink, its target working, with the kind's default filter.
    pub sink: Arc<dyn Sink>,
    /// What reached the target (read there, not from the sink).
    pub seen: Probe,
    /// Kinds configured with a [`Filter`]: the same sink with another one.
    pub with_filter: Option<WithFilter>,
    /// Kinds with a target: the same sink whose target cannot be reached.
    pub unreachable: Option<Arc<dyn Sink>>,
    /// Kinds with a target: the same sink whose target refuses the batch.
    pub refused: Option<Arc<dyn Sink>>,
    /// True for kinds that deduplicate by key themselves (SNS): a batch delivered
    /// twice reaches the target once.
    pub dedups: bool,
    /// Text no error may carry (signing secrets, URL paths that may hold tokens).
    pub secrets: Vec<String>,
}

impl Subject {
    /// A subject with the parts every kind has.
    pub fn new(name: &'static str, sink: Arc<dyn Sink>, seen: Probe) -> Subject {
        Subject {
            name,
            sink,
            seen,
            with_filter: None,
            unreachable: None,
            refused: None,
            dedups: false,
            secrets: Vec::new(),
        }
    }
}

/// A probe whose answer is already known (targets read without waiting).
pub fn ready(ids: Vec<String>) -> BoxFuture<'static, Vec<String>> {
    Box::pin(std::future::ready(ids))
}

/// A sink as the trait object the dispatcher holds.
pub fn arc(sink: impl Sink + 'static) -> Arc<dyn Sink> {
    Arc::new(sink)
}

/// A sink already held as a trait object.
pub fn arc_dyn(sink: Arc<dyn Sink>) -> Arc<dyn Sink> {
    sink
}

/// The finding id of a change key (`<finding id>:<revision>`).
pub fn id_of_key(key: &str) -> String {
    key.rsplit_once(':').map_or(key, |(id, _)| id).to_string()
}

/// Real changes, as a store's feed holds them.
pub struct Input {
    /// The store they were written to (the audit log reads it, and keeps its
    /// outbox in the same file).
    pub store: SqliteStore,
    /// Every change, in feed order.
    pub changes: Vec<Change>,
    _dir: tempfile::TempDir,
}

impl Input {
    /// The corpus's Security Hub events through the pipeline, then a person's
    /// workflow change to a HIGH or CRITICAL finding (audited; refused by a filter
    /// on `inserted` despite its severity), then quiet demo data.
    pub async fn build() -> Input {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        let pipeline = crate::helpers::pipeline(Arc::new(store.clone()));
        for (name, doc) in corpus("asff-envelope") {
            pipeline.run_document(&name, &doc).await.unwrap();
        }
        let severe = store
            .changes_after(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.finding.item.severity >= Severity::High)
            .expect("a HIGH or CRITICAL finding in the corpus");
        let to = if severe.finding.item.workflow_status == WorkflowStatus::Notified {
            WorkflowStatus::Resolved
        } else {
            WorkflowStatus::Notified
        };
        let update = WorkflowUpdate {
            workflow_status: to,
            note: Some("owner told".into()),
        };
        pipeline
            .set_workflow(
                severe.finding_id(),
                &update,
                "alice@example.com",
                chrono::Utc::now(),
            )
            .await
            .unwrap()
            .expect("the finding exists");
        pipeline
            .store_findings(&crate::helpers::findings(5, 97), Origin::Demo)
            .await
            .unwrap();
        let changes = store.changes_after(0, 10_000).await.unwrap();
        Input {
            store,
            changes,
            _dir: dir,
        }
    }

    /// The changes that are not quiet.
    fn loud(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| !c.quiet)
    }
}

/// Runs every check on `s`, in order (each builds on what the target saw before).
pub async fn run_contract(s: &Subject, input: &Input) {
    names_itself_and_takes_batches(s);
    an_empty_batch_is_a_no_op(s).await;
    let first = wanted_changes_reach_the_target(s, input).await;
    a_batch_delivered_twice_is_harmless(s, input, first).await;
    alerting_sinks_never_want_quiet_changes(s, input);
    the_filter_is_honoured(s, input);
    failures_say_whether_a_retry_can_help(s, input).await;
}

/// Hands `changes` over as the dispatcher does: in feed order, `max_batch` at a time.
async fn deliver(sink: &dyn Sink, changes: &[Change]) -> Result<(), SinkError> {
    for batch in changes.chunks(sink.max_batch().max(1)) {
        sink.send(batch).await?;
    }
    Ok(())
}

fn distinct(ids: &[String]) -> BTreeSet<&str> {
    ids.iter().map(String::as_str).collect()
}

fn names_itself_and_takes_batches(s: &Subject) {
    // Cursors, parked batches and metrics are kept under the name.
    assert_eq!(s.sink.name(), s.name);
    assert!(s.sink.max_batch() >= 1, "{}: max_batch 0", s.name);
}

async fn an_empty_batch_is_a_no_op(s: &Subject) {
    if let Err(e) = s.sink.send(&[]).await {
        panic!("{}: an empty batch failed: {e}", s.name);
    }
    let seen = (s.seen)().await;
    assert!(seen.is_empty(), "{}: an empty batch sent {seen:?}", s.name);
}

/// Every change the sink wants reaches its target, and nothing else does; returns
/// what the target saw. Only loud changes are handed over: the live sinks want
/// quiet ones to move the counters without pushing them, and the alerting kinds
/// refuse them (checked below).
async fn wanted_changes_reach_the_target(s: &Subject, input: &Input) -> Vec<String> {
    let wanted: Vec<Change> = input.loud().filter(|c| s.sink.wants(c)).cloned().collect();
    assert!(
        !wanted.is_empty(),
        "{}: the input holds no change this sink wants; the contract would prove nothing",
        s.name
    );
    if let Err(e) = deliver(s.sink.as_ref(), &wanted).await {
        panic!(
            "{}: delivering {} changes failed: {e}",
            s.name,
            wanted.len()
        );
    }
    let seen = (s.seen)().await;
    let want: BTreeSet<&str> = wanted.iter().map(|c| c.finding_id()).collect();
    assert_eq!(
        distinct(&seen),
        want,
        "{}: the target saw other findings than the sink wanted",
        s.name
    );
    seen
}

/// At-least-once delivery hands a sink changes it already took: taking them again
/// succeeds and brings no finding the target had not seen (receivers deduplicate
/// by key; sinks that deduplicate themselves send nothing more).
async fn a_batch_delivered_twice_is_harmless(s: &Subject, input: &Input, first: Vec<String>) {
    let wanted: Vec<Change> = input.loud().filter(|c| s.sink.wants(c)).cloned().collect();
    if let Err(e) = deliver(s.sink.as_ref(), &wanted).await {
        panic!("{}: a redelivered batch failed: {e}", s.name);
    }
    let again = (s.seen)().await;
    assert_eq!(distinct(&again), distinct(&first), "{}", s.name);
    if s.dedups {
        assert_eq!(
            again.len(),
            first.len(),
            "{}: redelivered changes reached the target again",
            s.name
        );
    }
}

/// Demo data, restores and archival never alert (the rule): a sink on an
/// alerting channel, configured without `include_quiet`, wants no quiet change.
fn alerting_sinks_never_want_quiet_changes(s: &Subject, input: &Input) {
    let Some(channel) = s.sink.channel() else {
        return;
    };
    let quiet: Vec<&Change> = input.changes.iter().filter(|c| c.quiet).collect();
    assert!(!quiet.is_empty(), "the input holds quiet changes");
    for c in quiet {
        assert!(
            !s.sink.wants(c),
            "{} ({channel}) wants the quiet change {}",
            s.name,
            c.key
        );
    }
}

/// A sink filtered to inserted HIGH-or-worse changes wants only those (a kind may
/// want fewer: SNS also skips findings the provider archived), and some of them.
fn the_filter_is_honoured(s: &Subject, input: &Input) {
    let Some(make) = &s.with_filter else {
        return;
    };
    let sink = make(Filter {
        min_severity: Some(Severity::High),
        changes: vec![ChangeKind::Inserted],
        quiet: false,
    });
    // Both halves of the filter have something to refuse.
    assert!(input
        .loud()
        .any(|c| c.kind == ChangeKind::Inserted && c.finding.item.severity < Severity::High));
    assert!(input
        .loud()
        .any(|c| c.kind != ChangeKind::Inserted && c.finding.item.severity >= Severity::High));
    let mut taken = 0;
    for c in &input.changes {
        if sink.wants(c) {
            let passes = !c.quiet
                && c.kind == ChangeKind::Inserted
                && c.finding.item.severity >= Severity::High;
            assert!(
                passes,
                "{}: the filter let {} ({:?}) through",
                s.name, c.key, c.kind
            );
            taken += 1;
        }
    }
    assert!(taken > 0, "{}: the filtered sink wants nothing", s.name);
}

/// A target that cannot be reached may work later (retryable, the cursor stays); a
/// target that refuses the batch will not until someone changes something
/// (permanent, parked at once). Neither error carries a secret.
async fn failures_say_whether_a_retry_can_help(s: &Subject, input: &Input) {
    for (sink, retryable) in [(&s.unreachable, true), (&s.refused, false)] {
        let Some(sink) = sink else {
            continue;
        };
        // One change the sink wants: kinds with several requests per batch stop at
        // the first failure anyway.
        let one: Vec<Change> = input
            .loud()
            .filter(|c| sink.wants(c))
            .take(1)
            .cloned()
            .collect();
        assert_eq!(one.len(), 1, "{}: nothing to fail with", s.name);
        let e = match deliver(sink.as_ref(), &one).await {
            Ok(()) => panic!(
                "{}: a target that {} took the batch",
                s.name,
                if retryable {
                    "cannot be reached"
                } else {
                    "refuses"
                }
            ),
            Err(e) => e,
        };
        assert_eq!(e.is_retryable(), retryable, "{}: {e:?}", s.name);
        let reason = e.to_string();
        assert!(
            !reason.trim().is_empty(),
            "{}: an error without a reason",
            s.name
        );
        for secret in &s.secrets {
            assert!(
                !reason.contains(secret.as_str()),
                "{}: the error {reason:?} shows {secret:?}",
                s.name
            );
        }
    }
}
