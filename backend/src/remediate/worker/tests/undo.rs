//! The record's `undo` when a remediation takes more than one try: an action
//! that removes grants one call at a time, the first try throttled after its
//! first removal, so the second try reads only what the first left.

use super::*;
use crate::remediate::plan::state_hash;
use std::sync::Mutex as SyncMutex;

/// A stand-in for an action that removes grants one call each (as
/// `lambda-remove-public-access` removes statements), keeping the grants it
/// read as its `record`. The first try removes one grant, then is throttled.
struct Halfway {
    grants: SyncMutex<Vec<String>>,
    tries: AtomicUsize,
}

impl Halfway {
    fn new(grants: &[&str]) -> Arc<Halfway> {
        Arc::new(Halfway {
            grants: SyncMutex::new(grants.iter().map(|g| g.to_string()).collect()),
            tries: AtomicUsize::new(0),
        })
    }

    fn left(&self) -> Vec<String> {
        self.grants.lock().unwrap().clone()
    }
}

#[async_trait]
impl Action for Halfway {
    fn id(&self) -> ActionId {
        ActionId::S3BlockPublicAccess
    }

    fn target(&self, f: &Finding) -> Result<Target, NotApplicable> {
        Target::new("res-1", &f.region, &f.account_id)
    }

    async fn observe(&self, _: &Target) -> Result<Observed, ActionError> {
        Ok(Observed {
            state: json!({"grants": self.left()}),
            ..Observed::default()
        })
    }

    fn plan(&self, _: &Target, o: &Observed) -> Proposal {
        let calls = o.state["grants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| ApiCall {
                service: "fake".into(),
                operation: "Remove".into(),
                params: json!({"Grant": g}),
            })
            .collect();
        Proposal {
            calls,
            after: "no grant left".into(),
        }
    }

    async fn apply(&self, t: &Target, p: &Proposal) -> Result<(), ActionError> {
        let first_try = self.tries.fetch_add(1, Ordering::SeqCst) == 0;
        for (i, call) in p.calls.iter().enumerate() {
            if first_try && i == 1 {
                return Err(ActionError {
                    operation: "Remove",
                    resource: t.resource.clone(),
                    detail: "ThrottlingException: Rate exceeded".into(),
                    retryable: true,
                });
            }
            let g = call.params["Grant"].as_str().unwrap();
            self.grants.lock().unwrap().retain(|x| x != g);
        }
        Ok(())
    }

    async fn verify(&self, _: &Target) -> Result<Option<String>, ActionError> {
        Ok((!self.left().is_empty()).then(|| "grants left".to_string()))
    }

    fn record(&self, _: &Target, o: &Observed) -> Option<Value> {
        Some(json!({"removed": o.state["grants"]}))
    }
}

/// Approves `e`'s finding as alice (with `expect`) and runs the worker until
/// the queue is empty; the record then.
async fn run(e: &Env, action: Arc<Halfway>, expect: Option<String>) -> RemediationRecord {
    let (service, worker) = e.service_of(enabled(), true, action);
    let r = queued_at(e, &service, expect, Utc::now()).await;
    // One receive per drain: the retry is released with no wait here.
    while worker.drain().await.unwrap() > 0 {}
    service.get(&r.id).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_retry_after_some_calls_ran_keeps_the_undo_read_before_the_first_call() {
    let e = env(Fake::default()).await;
    let action = Halfway::new(&["a", "b"]);
    let done = run(&e, action.clone(), None).await;
    assert_eq!(done.status, RemediationStatus::Verified, "{done:?}");
    assert_eq!(done.attempts, 2);
    assert!(action.left().is_empty());
    // The second try read only "b": "a" was removed by the first.
    assert_eq!(done.undo, Some(json!({"removed": ["a", "b"]})));
}

#[tokio::test]
async fn a_retry_refused_after_some_calls_ran_still_says_what_they_removed() {
    let e = env(Fake::default()).await;
    let action = Halfway::new(&["a", "b"]);
    // Approved for the state before any call: the second try finds it changed.
    let expect = state_hash(&json!({"grants": ["a", "b"]}));
    let done = run(&e, action.clone(), Some(expect)).await;
    assert_eq!(done.status, RemediationStatus::Refused, "{done:?}");
    assert_eq!(done.guard.as_deref(), Some("changed-since-plan"));
    assert_eq!(action.left(), ["b"]);
    assert_eq!(done.undo, Some(json!({"removed": ["a", "b"]})));
    assert_eq!(e.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn a_refusal_before_any_call_keeps_no_undo() {
    let e = env(Fake::default()).await;
    let action = Halfway::new(&["a", "b"]);
    let done = run(&e, action.clone(), Some("0".repeat(64))).await;
    assert_eq!(done.status, RemediationStatus::Refused, "{done:?}");
    assert_eq!(done.attempts, 1);
    assert_eq!(action.left(), ["a", "b"], "nothing called");
    assert_eq!(done.undo, None, "nothing to undo");
}
