//! The record's reason once a try's calls went through but their read-back
//! failed: every later try that does not verify still says the change was made
//! (its own error appended as the latest), and one that reads the fix in place
//! says an earlier try made it.

use super::*;
use crate::remediate::plan::state_hash;
use std::ops::Range;

/// A stand-in for `s3-block-public-access` whose reads (the plan's, then the
/// read-back, then the next try's plan, …) are throttled when their number,
/// from 0, is in `throttled`. Its one call always goes through.
struct Reads {
    fixed: AtomicBool,
    reads: AtomicUsize,
    throttled: Range<usize>,
    applied: AtomicUsize,
}

impl Reads {
    fn throttled(reads: Range<usize>) -> Arc<Reads> {
        Arc::new(Reads {
            fixed: AtomicBool::new(false),
            reads: AtomicUsize::new(0),
            throttled: reads,
            applied: AtomicUsize::new(0),
        })
    }

    fn read(&self, t: &Target) -> Result<bool, ActionError> {
        if self
            .throttled
            .contains(&self.reads.fetch_add(1, Ordering::SeqCst))
        {
            return Err(ActionError {
                operation: "Read",
                resource: t.resource.clone(),
                detail: "ThrottlingException: Rate exceeded".into(),
                retryable: true,
            });
        }
        Ok(self.fixed.load(Ordering::SeqCst))
    }
}

#[async_trait]
impl Action for Reads {
    fn id(&self) -> ActionId {
        ActionId::S3BlockPublicAccess
    }

    fn target(&self, f: &Finding) -> Result<Target, NotApplicable> {
        Target::new("res-1", &f.region, &f.account_id)
    }

    async fn observe(&self, t: &Target) -> Result<Observed, ActionError> {
        Ok(Observed {
            state: json!({"fixed": self.read(t)?}),
            ..Observed::default()
        })
    }

    fn plan(&self, t: &Target, o: &Observed) -> Proposal {
        Fake::default().plan(t, o)
    }

    async fn apply(&self, _: &Target, _: &Proposal) -> Result<(), ActionError> {
        self.applied.fetch_add(1, Ordering::SeqCst);
        self.fixed.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn verify(&self, t: &Target) -> Result<Option<String>, ActionError> {
        Ok((!self.read(t)?).then(|| "still broken".to_string()))
    }
}

/// Approves `e`'s finding as alice (with `expect`) and runs the worker until
/// the queue is empty (retries come back at once here); the record then.
async fn run(e: &Env, action: Arc<Reads>, expect: Option<String>) -> RemediationRecord {
    let (service, worker) = e.service_of(enabled(), true, action);
    let r = queued_at(e, &service, expect, Utc::now()).await;
    while worker.drain().await.unwrap() > 0 {}
    service.get(&r.id).await.unwrap().unwrap()
}

/// What the first try leaves once its call went through and its read-back
/// was throttled.
const FIRST_CAUSE: &str = "the change was made but not verified: reading it back: \
                           Read on res-1: ThrottlingException: Rate exceeded";

#[tokio::test]
async fn retries_failing_at_their_first_read_keep_saying_the_change_was_made() {
    let e = env(Fake::default()).await;
    // The plan's read passes; the read-back and every later read are throttled.
    let action = Reads::throttled(1..usize::MAX);
    let done = run(&e, action.clone(), None).await;
    assert_eq!(done.status, RemediationStatus::Failed, "{done:?}");
    assert_eq!(done.attempts, 3);
    assert_eq!(
        done.reason.as_deref(),
        Some(
            format!(
                "{FIRST_CAUSE}; latest: reading the resource: Read on res-1: ThrottlingException: \
                 Rate exceeded"
            )
            .as_str()
        ),
        "the first try's cause, then only the last try's error"
    );
    assert_eq!(action.applied.load(Ordering::SeqCst), 1);
    assert_eq!(e.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn a_retry_reading_the_change_in_place_is_verified_saying_an_earlier_try_made_it() {
    let e = env(Fake::default()).await;
    let action = Reads::throttled(1..2);
    let done = run(&e, action.clone(), None).await;
    assert_eq!(done.status, RemediationStatus::Verified, "{done:?}");
    assert_eq!(done.attempts, 2);
    assert_eq!(
        done.reason.as_deref(),
        Some("the change an earlier try made is in place, no call made: res-1 fixed")
    );
    assert_eq!(action.applied.load(Ordering::SeqCst), 1);
    assert_eq!(e.status().await, WorkflowStatus::Resolved);
}

#[tokio::test]
async fn a_retry_refused_because_the_change_was_made_still_says_it_was_made() {
    let e = env(Fake::default()).await;
    let action = Reads::throttled(1..2);
    // Approved for the state before the call: the retry finds it changed.
    let expect = state_hash(&json!({"fixed": false}));
    let done = run(&e, action.clone(), Some(expect)).await;
    assert_eq!(done.status, RemediationStatus::Refused, "{done:?}");
    assert_eq!(done.guard.as_deref(), Some("changed-since-plan"));
    let reason = done.reason.unwrap();
    assert!(
        reason.starts_with(&format!("{FIRST_CAUSE}; latest: ")),
        "{reason}"
    );
    assert_eq!(action.applied.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_worker_that_died_after_its_calls_leaves_made_for_the_next_try() {
    let e = env(Fake::default()).await;
    let action = Reads::throttled(0..0);
    let (service, worker) = e.service_of(enabled(), true, action.clone());
    let queued = queued_at(&e, &service, None, Utc::now()).await;
    // What a worker leaves when it dies right after its calls went through:
    // the record at `applied`, the resource changed, the message still queued.
    let mut died = queued.clone();
    died.status = RemediationStatus::Applied;
    died.made = true;
    died.attempts = 1;
    service.records().update(&died).await.unwrap();
    action.fixed.store(true, Ordering::SeqCst);

    while worker.drain().await.unwrap() > 0 {}
    let done = service.get(&queued.id).await.unwrap().unwrap();
    assert_eq!(done.status, RemediationStatus::Verified, "{done:?}");
    assert!(done.made, "{done:?}");
    assert_eq!(
        done.reason.as_deref(),
        Some("the change an earlier try made is in place, no call made: res-1 fixed"),
        "not \"already fixed\": this remediation made the change"
    );
    assert_eq!(action.applied.load(Ordering::SeqCst), 0, "no second call");
    assert_eq!(e.status().await, WorkflowStatus::Resolved);
}

#[tokio::test]
async fn made_is_set_by_the_try_whose_calls_went_through_and_only_by_it() {
    let e = env(Fake::default()).await;
    let done = run(&e, Reads::throttled(0..0), None).await;
    assert_eq!(done.status, RemediationStatus::Verified);
    assert!(done.made, "{done:?}");

    let e = env(Fake::default()).await;
    let already = Reads::throttled(0..0);
    already.fixed.store(true, Ordering::SeqCst);
    let done = run(&e, already, None).await;
    assert_eq!(done.status, RemediationStatus::Verified);
    assert!(!done.made, "nothing was called: {done:?}");
}

/// `Fake` whose calls go through but change nothing: the read-back says so.
struct Ineffective(Fake);

#[async_trait]
impl Action for Ineffective {
    fn id(&self) -> ActionId {
        self.0.id()
    }

    fn target(&self, f: &Finding) -> Result<Target, NotApplicable> {
        self.0.target(f)
    }

    async fn observe(&self, t: &Target) -> Result<Observed, ActionError> {
        self.0.observe(t).await
    }

    fn plan(&self, t: &Target, o: &Observed) -> Proposal {
        self.0.plan(t, o)
    }

    async fn apply(&self, _: &Target, _: &Proposal) -> Result<(), ActionError> {
        self.0.applied.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn verify(&self, t: &Target) -> Result<Option<String>, ActionError> {
        self.0.verify(t).await
    }
}

#[tokio::test]
async fn calls_that_went_through_without_the_fix_say_the_change_was_made() {
    let e = env(Fake::default()).await;
    let action = Arc::new(Ineffective(Fake::default()));
    let (service, worker) = e.service_of(enabled(), true, action.clone());
    let r = queued_at(&e, &service, None, Utc::now()).await;
    while worker.drain().await.unwrap() > 0 {}
    let done = service.get(&r.id).await.unwrap().unwrap();
    assert_eq!(done.status, RemediationStatus::Failed, "{done:?}");
    assert!(done.made, "{done:?}");
    let reason = done.reason.unwrap();
    assert!(
        reason.starts_with("the change was made but not verified: ")
            && reason.contains("still broken"),
        "{reason}"
    );
    assert_eq!(e.status().await, WorkflowStatus::New);
}
