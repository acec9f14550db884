//! The scanner Lambda's handler against `POST /events`: every corpus folder holding
//! events the scanner is delivered gives, event by event and as one SQS batch, the
//! same outcome and the same stored findings as the same events posted as one array.

use super::corpus::{corpus, sqs_batch};
use super::events::{app, outcome, post, stored};
use super::helpers::pipeline;
use axum::http::StatusCode;
use cspm::lambda::scanner::{ScanResponse, Scanner};
use cspm::pipeline::OutcomeBody;
use cspm::store::Store;
use serde_json::Value;
use std::sync::Arc;

/// Folders with events in the shapes EventBridge delivers to the scanner: Security
/// Hub findings, CloudTrail API calls, alarm state changes, GuardDuty findings. The
/// other folders hold bare findings, log files, policies and rule cases, which reach
/// the store through `cspm ingest` and `POST /events` only.
const SCANNED: [&str; 4] = ["asff-envelope", "cloudtrail", "alarm", "guardduty"];

/// The folder's EventBridge events: objects naming their `detail-type` and `source`,
/// as EventBridge always does. Raw CloudTrail records, Lambda alarm-action payloads
/// and bare GuardDuty findings in the same folders are never delivered to the scanner.
fn eventbridge_events(folder: &str) -> Vec<(String, Value)> {
    corpus(folder)
        .into_iter()
        .filter(|(_, d)| d["detail-type"].is_string() && d["source"].is_string())
        .collect()
}

fn scanner(store: Arc<dyn Store>) -> Scanner {
    Scanner {
        pipeline: pipeline(store),
        syncer: None,
    }
}

fn nothing() -> OutcomeBody {
    OutcomeBody {
        documents: 0,
        stored: 0,
        updated: 0,
        unchanged: 0,
        skipped_older: 0,
        noted: vec![],
        rejected: vec![],
        failed: 0,
    }
}

/// Adds one event's outcome to the folder's. The scanner numbers its one document
/// 0; in the posted array the event is document `index`.
fn add(total: &mut OutcomeBody, index: usize, one: OutcomeBody) {
    total.documents += one.documents;
    total.stored += one.stored;
    total.updated += one.updated;
    total.unchanged += one.unchanged;
    total.skipped_older += one.skipped_older;
    total.failed += one.failed;
    for mut n in one.noted {
        assert_eq!(n.index, Some(0), "{n:?}");
        n.index = Some(index);
        total.noted.push(n);
    }
    for mut r in one.rejected {
        assert_eq!(r.index, Some(0), "{r:?}");
        r.index = Some(index);
        total.rejected.push(r);
    }
}

#[tokio::test]
async fn the_scanner_handler_stores_what_post_events_stores() {
    for folder in SCANNED {
        let events = eventbridge_events(folder);
        assert!(!events.is_empty(), "{folder}: no EventBridge event");
        let docs: Vec<Value> = events.iter().map(|(_, d)| d.clone()).collect();

        let posted = app();
        let (status, body) = post(
            &posted.router,
            "application/json",
            serde_json::to_vec(&docs).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{folder}: {body}");
        let via_post = outcome(body);
        let want = stored(posted.store.as_ref()).await;
        assert_eq!(want.len(), via_post.stored, "{folder}");

        // One invocation per event, in the same order, as EventBridge delivers them:
        // every count, note and rejection (id and reason) is the same.
        let direct = app();
        let s = scanner(direct.store.clone());
        let mut via_scanner = nothing();
        for (index, (name, doc)) in events.iter().enumerate() {
            match s.handle(doc.clone(), None).await {
                Ok(ScanResponse::Event(one)) => add(&mut via_scanner, index, one),
                other => panic!("{folder}/{name}: {other:?}"),
            }
        }
        assert_eq!(via_scanner, via_post, "{folder}: scanner vs POST /events");
        assert_eq!(
            stored(direct.store.as_ref()).await,
            want,
            "{folder}: the same findings are stored"
        );

        // The same events redriven from the dead-letter queue as one SQS batch.
        let redriven = app();
        let bodies: Vec<(String, String)> = events
            .iter()
            .map(|(name, d)| (format!("msg-{name}"), d.to_string()))
            .collect();
        match scanner(redriven.store.clone())
            .handle(sqs_batch(&bodies), None)
            .await
        {
            Ok(ScanResponse::Batch(r)) => {
                assert!(r.batch_item_failures.is_empty(), "{folder}: {r:?}")
            }
            other => panic!("{folder}: SQS batch: {other:?}"),
        }
        assert_eq!(
            stored(redriven.store.as_ref()).await,
            want,
            "{folder}: SQS-wrapped events store the same findings"
        );
    }
}
