//! AWS failing under the worker, through a fault proxy answering with S3's own
//! errors: throttled once, the SDK's retry passes and the remediation is
//! verified; throttled every time, the worker tries a bounded number of times
//! and ends `failed` naming the error; access denied fails at once; a
//! read-back that fails or does not show the fix is never reported done, and
//! once the put went through, no later try's failure makes the record forget
//! it. In every failure the finding stays open and the ledger says `failed`.

use super::api::{call, server_with, ANALYST, VIEWER};
use super::*;
use crate::fault_proxy::Fault;
use axum::http::{Method, StatusCode};
use axum::Router;
use cspm::remediate::worker::{Worker, WorkerSettings};
use std::time::Duration;

const ENABLED: &str = "enabled: [s3-block-public-access]\n";
/// The SDK's standard retry mode: attempts per call before it gives up.
const SDK_ATTEMPTS: u32 = 3;
/// The worker's tries (receives) before a failure that may pass is final.
const TRIES: u32 = 3;
/// The worker's wait before its second try (the third waits twice this).
const RETRY_AFTER: Duration = Duration::from_millis(50);

fn settings() -> WorkerSettings {
    WorkerSettings {
        max_receives: TRIES,
        retry_after: RETRY_AFTER,
        ..WorkerSettings::default()
    }
}

/// Approves the case's finding as the analyst; the remediation's id.
async fn approve(app: &Router, case: &Case) -> String {
    let (status, queued) = call(
        app,
        Method::POST,
        &format!("/findings/{}/remediation", case.finding_id),
        ANALYST,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    queued["id"].as_str().unwrap().to_string()
}

/// `GET /remediations/{rid}`.
async fn record(app: &Router, rid: &str) -> Value {
    let (status, r) = call(
        app,
        Method::GET,
        &format!("/remediations/{rid}"),
        VIEWER,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    r
}

/// Runs the worker until the remediation has had every try it will get (each
/// retry waits its turn); how many tries that was.
async fn every_try(worker: &Worker) -> usize {
    let mut tries = worker.drain().await.unwrap();
    loop {
        // Longer than any retry waits: a queue empty then stays empty.
        tokio::time::sleep(RETRY_AFTER * TRIES + Duration::from_millis(100)).await;
        match worker.drain().await.unwrap() {
            0 => return tries,
            n => tries += n,
        }
    }
}

/// The ledger's outcomes, in order.
fn outcomes(case: &Case) -> Vec<String> {
    ledger_lines(case.dir.path())
        .iter()
        .map(|l| l["outcome"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts what every failure leaves: the record `failed` with a reason
/// containing each of `says`, the finding open (NEW, no remediation note), and
/// the ledger ending in `failed`.
async fn assert_failed_and_open(app: &Router, case: &Case, rid: &str, says: &[&str]) -> Value {
    let r = record(app, rid).await;
    assert_eq!(r["status"], "failed", "{r}");
    let reason = r["reason"].as_str().unwrap_or_default();
    for s in says {
        assert!(reason.contains(s), "{s:?} not in {reason:?}");
    }
    assert_eq!(
        case.status().await,
        WorkflowStatus::New,
        "the finding stays open"
    );
    let detail = case.store.get(&case.finding_id).await.unwrap().unwrap();
    assert!(
        detail
            .audit
            .iter()
            .all(|a| !a.actor.starts_with("remediation:")),
        "no remediation wrote to the finding: {:?}",
        detail.audit
    );
    assert_eq!(outcomes(case).last().map(String::as_str), Some("failed"));
    r
}

#[tokio::test]
async fn a_put_throttled_once_is_retried_and_the_remediation_is_verified() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_fault_throttle_once").await
    else {
        return;
    };
    let (app, worker) = server_with(&case, ENABLED, settings()).await;
    let rid = approve(&app, &case).await;
    proxy.inject("PutPublicAccessBlock", Fault::Throttle, 1);

    assert_eq!(worker.drain().await.unwrap(), 1, "one try was enough");
    assert_eq!(proxy.injected("PutPublicAccessBlock"), 1);
    assert_eq!(
        proxy.forwarded("PutPublicAccessBlock"),
        1,
        "the SDK's retry"
    );
    let r = record(&app, &rid).await;
    assert_eq!(r["status"], "verified", "{r}");
    assert_eq!(r["attempts"], 1);
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));
    assert_eq!(case.status().await, WorkflowStatus::Resolved);
    assert_eq!(outcomes(&case), ["started", "verified"]);
}

#[tokio::test]
async fn a_put_throttled_every_time_is_tried_a_bounded_number_of_times_then_failed() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_fault_throttle_always").await
    else {
        return;
    };
    let (app, worker) = server_with(&case, ENABLED, settings()).await;
    let rid = approve(&app, &case).await;
    proxy.inject("PutPublicAccessBlock", Fault::Throttle, u32::MAX);

    // First try: back on the queue, the record saying why and that it waits.
    assert_eq!(worker.drain().await.unwrap(), 1);
    let r = record(&app, &rid).await;
    assert_eq!(r["status"], "queued", "{r}");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("try 1 of 3 failed, trying again") && reason.contains("SlowDown"),
        "{reason}"
    );
    assert_eq!(block(&case.s3, &case.bucket).await, None);
    assert_eq!(case.status().await, WorkflowStatus::New);

    // The other tries come back after their waits; then no more.
    for wait in [RETRY_AFTER, RETRY_AFTER * 2] {
        tokio::time::sleep(wait + Duration::from_millis(100)).await;
        assert_eq!(worker.drain().await.unwrap(), 1);
    }
    tokio::time::sleep(RETRY_AFTER * 4).await;
    assert_eq!(
        worker.drain().await.unwrap(),
        0,
        "nothing left on the queue"
    );

    let r = assert_failed_and_open(&app, &case, &rid, &["PutPublicAccessBlock", "SlowDown"]).await;
    assert_eq!(r["attempts"], TRIES);
    assert_eq!(
        proxy.injected("PutPublicAccessBlock"),
        TRIES * SDK_ATTEMPTS,
        "each try's call retried by the SDK, and no more"
    );
    assert_eq!(proxy.forwarded("PutPublicAccessBlock"), 0);
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        None,
        "the bucket unchanged"
    );
    assert_eq!(
        outcomes(&case),
        ["started", "failed"].repeat(TRIES as usize),
        "every try recorded and ended"
    );
}

#[tokio::test]
async fn access_denied_fails_at_once_with_the_reason_and_is_not_tried_again() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_fault_denied").await else {
        return;
    };
    let (app, worker) = server_with(&case, ENABLED, settings()).await;
    let rid = approve(&app, &case).await;
    proxy.inject("PutPublicAccessBlock", Fault::Deny, u32::MAX);

    assert_eq!(worker.drain().await.unwrap(), 1);
    let r =
        assert_failed_and_open(&app, &case, &rid, &["PutPublicAccessBlock", "AccessDenied"]).await;
    assert_eq!(r["attempts"], 1);
    assert_eq!(
        proxy.injected("PutPublicAccessBlock"),
        1,
        "not retried by the SDK"
    );
    tokio::time::sleep(RETRY_AFTER * 4).await;
    assert_eq!(
        worker.drain().await.unwrap(),
        0,
        "not retried by the worker"
    );
    assert_eq!(block(&case.s3, &case.bucket).await, None);
    assert_eq!(outcomes(&case), ["started", "failed"]);
}

#[tokio::test]
async fn a_read_back_denied_after_the_put_is_failed_not_verified() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_fault_readback").await else {
        return;
    };
    let (app, worker) = server_with(&case, ENABLED, settings()).await;
    let rid = approve(&app, &case).await;
    // The plan's read passes; the read-back after the put is denied.
    proxy.inject_after("GetPublicAccessBlock", 1, Fault::Deny, u32::MAX);

    assert_eq!(worker.drain().await.unwrap(), 1);
    let r = assert_failed_and_open(
        &app,
        &case,
        &rid,
        &["not verified", "GetPublicAccessBlock", "AccessDenied"],
    )
    .await;
    assert_eq!(r["attempts"], 1);
    assert_eq!(
        proxy.forwarded("PutPublicAccessBlock"),
        1,
        "the put was made"
    );
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        Some([true; 4]),
        "the change is there, but unverified it is not reported done"
    );
    assert_eq!(outcomes(&case), ["started", "failed"]);
}

#[tokio::test]
async fn a_put_that_answers_ok_but_changes_nothing_is_failed_unverified() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_fault_pretend").await else {
        return;
    };
    let (app, worker) = server_with(&case, ENABLED, settings()).await;
    let rid = approve(&app, &case).await;
    proxy.inject("PutPublicAccessBlock", Fault::Pretend, u32::MAX);

    assert_eq!(worker.drain().await.unwrap(), 1);
    let r = assert_failed_and_open(&app, &case, &rid, &["not verified", "still off"]).await;
    assert_eq!(
        r["attempts"], 1,
        "a read-back showing no fix is not retried"
    );
    assert_eq!(block(&case.s3, &case.bucket).await, None);
    assert_eq!(outcomes(&case), ["started", "failed"]);
}

#[tokio::test]
async fn after_the_put_went_through_a_retry_failing_at_its_first_read_still_says_it_was_made() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_fault_made_then_read").await
    else {
        return;
    };
    let (app, worker) = server_with(&case, ENABLED, settings()).await;
    let rid = approve(&app, &case).await;
    // The plan's read passes and the put goes through; from the read-back on,
    // every read is throttled: the retries fail at their first read.
    proxy.inject_after("GetPublicAccessBlock", 1, Fault::Throttle, u32::MAX);

    assert_eq!(worker.drain().await.unwrap(), 1);
    let r = record(&app, &rid).await;
    assert_eq!(r["status"], "queued", "{r}");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("try 1 of 3 failed, trying again")
            && reason.contains("the change was made but not verified: reading it back")
            && reason.contains("SlowDown"),
        "{reason}"
    );

    assert_eq!(every_try(&worker).await, 2, "the other tries");
    let r = assert_failed_and_open(
        &app,
        &case,
        &rid,
        &[
            "the change was made but not verified: reading it back: GetPublicAccessBlock",
            "; latest: reading the resource: GetPublicAccessBlock",
            "SlowDown",
        ],
    )
    .await;
    assert_eq!(r["attempts"], TRIES);
    assert_eq!(
        proxy.forwarded("PutPublicAccessBlock"),
        1,
        "made once, never again"
    );
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        Some([true; 4]),
        "the change the record says was made is there"
    );
    // Only the first try got as far as the calls.
    assert_eq!(outcomes(&case), ["started", "failed"]);
}

#[tokio::test]
async fn after_the_put_went_through_a_retry_reading_it_in_place_is_verified_saying_so() {
    let Some((case, proxy)) = public_bucket_behind_proxy("remediate_fault_made_then_seen").await
    else {
        return;
    };
    let (app, worker) = server_with(&case, ENABLED, settings()).await;
    let rid = approve(&app, &case).await;
    // Only the first try's read-back is throttled (each of the SDK's attempts).
    proxy.inject_after("GetPublicAccessBlock", 1, Fault::Throttle, SDK_ATTEMPTS);

    assert_eq!(every_try(&worker).await, 2, "the second try was enough");
    let r = record(&app, &rid).await;
    assert_eq!(r["status"], "verified", "{r}");
    assert_eq!(r["attempts"], 2);
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("the change an earlier try made is in place, no call made"),
        "{reason}"
    );
    assert_eq!(proxy.forwarded("PutPublicAccessBlock"), 1, "made once");
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));
    assert_eq!(case.status().await, WorkflowStatus::Resolved);
    assert_eq!(outcomes(&case), ["started", "failed"]);
}
