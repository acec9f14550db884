//! The `scanner` Lambda handler fed real events: the corpus EventBridge envelopes
//! directly and the same envelopes wrapped in SQS batches. (It only writes; alerts
//! come from the change feed: tests/it/sink_sns.rs.)

use crate::aws_env::{self, dynamo_store_at, sdk_config};
use crate::corpus::{corpus, sqs_batch};
use crate::fault_proxy;
use cspm::lambda::scanner::{ScanResponse, Scanner};
use cspm::sources::Normalizer;
use cspm::store::dynamo::DynamoStore;
use cspm::store::Store;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

fn scanner(store: Arc<dyn Store>) -> Scanner {
    Scanner {
        pipeline: crate::helpers::pipeline(store),
        syncer: None,
    }
}

/// The function's answer as the runtime serializes it.
fn json(resp: ScanResponse) -> Value {
    serde_json::to_value(resp).expect("answers serialize")
}

/// Ids of every finding the normalizer takes from the corpus envelopes.
fn expected_ids() -> BTreeSet<String> {
    let n = Normalizer::default();
    corpus("asff-envelope")
        .iter()
        .flat_map(|(_, doc)| n.parse_document(doc).findings)
        .map(|f| f.id)
        .collect()
}

#[tokio::test]
async fn scanner_stores_every_corpus_envelope_once_and_redelivery_changes_nothing() {
    let Some(ep) = aws_env::endpoint("scanner_corpus_envelopes") else {
        return;
    };
    let store = Arc::new(dynamo_store_at(&ep).await);
    let s = scanner(store.clone());
    let want = expected_ids();
    assert!(
        !want.is_empty(),
        "the normalizer found no finding in the corpus envelopes"
    );
    let mut inserted = 0;
    for (name, doc) in corpus("asff-envelope") {
        let out = json(
            s.handle(doc.clone(), None)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        );
        inserted += out["stored"].as_u64().unwrap_or(0);
    }
    assert_eq!(inserted as usize, want.len());
    // Redelivery (Lambda retry, DLQ redrive) must not change anything.
    for (name, doc) in corpus("asff-envelope") {
        let out = json(s.handle(doc, None).await.unwrap());
        assert_eq!(out["stored"], 0, "{name}");
        assert_eq!(out["updated"], 0, "{name}");
    }
    let summary = store
        .summary(chrono::Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(summary.total as usize, want.len());
    for id in &want {
        assert!(store.get(id).await.unwrap().is_some(), "{id} stored");
    }
}

#[tokio::test]
async fn scanner_sqs_batches_report_exactly_the_failed_messages() {
    let Some(ep) = aws_env::endpoint("scanner_sqs_partial_failures") else {
        return;
    };
    let direct = dynamo_store_at(&ep).await;
    let proxy = fault_proxy::start(&ep).await;
    let settings = aws_env::emulator_settings(direct.table());
    let store = Arc::new(DynamoStore::new(
        cspm::aws::dynamodb_client(&sdk_config(&proxy.endpoint).await),
        settings,
    ));
    let s = scanner(store.clone());
    let n = Normalizer::default();
    let envelopes = corpus("asff-envelope");
    let mut bodies: Vec<(String, String)> = envelopes
        .iter()
        .map(|(name, doc)| (format!("msg-{name}"), doc.to_string()))
        .collect();
    bodies.push(("msg-not-json".into(), "{ this is not an event".into()));
    let batch = sqs_batch(&bodies);

    // The table throttles every write: every message holding a finding fails, the
    // rest (insight results, the broken body) behave as they always do.
    proxy.throttle("TransactWriteItems", u32::MAX);
    proxy.throttle("PutItem", u32::MAX);
    let resp = json(s.handle(batch.clone(), None).await.unwrap());
    let failed: BTreeSet<String> = resp["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
        .collect();
    let mut want: BTreeSet<String> = envelopes
        .iter()
        .filter(|(_, doc)| !n.parse_document(doc).findings.is_empty())
        .map(|(name, _)| format!("msg-{name}"))
        .collect();
    want.insert("msg-not-json".into());
    assert_eq!(failed, want);

    // The table recovers; SQS redelivers only the failed messages.
    proxy.throttle("TransactWriteItems", 0);
    proxy.throttle("PutItem", 0);
    let retry: Vec<(String, String)> = bodies
        .iter()
        .filter(|(id, _)| failed.contains(id))
        .cloned()
        .collect();
    let resp = json(s.handle(sqs_batch(&retry), None).await.unwrap());
    let still: Vec<Value> = resp["batchItemFailures"].as_array().unwrap().clone();
    assert_eq!(
        still.len(),
        1,
        "only the broken body fails again: {still:?}"
    );
    assert_eq!(still[0]["itemIdentifier"], "msg-not-json");
    let summary = store
        .summary(chrono::Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(summary.total as usize, expected_ids().len(), "nothing lost");
}
