//! The `scanner` Lambda handler fed real events: the corpus EventBridge envelopes
//! directly, the same envelopes wrapped in SQS batches, with alerts through SNS
//! (delivered to an SQS queue in the emulator so the test can read them).

use crate::aws_env::{self, dynamo_store_at, sdk_config, unique};
use crate::corpus::{corpus, sqs_batch};
use crate::fault_proxy;
use cspm::lambda::scanner::{Alerting, ScanResponse, Scanner};
use cspm::notify::sns::SnsNotifier;
use cspm::notify::{Alert, AlertReason, Notifier};
use cspm::sources::Normalizer;
use cspm::store::dynamo::DynamoStore;
use cspm::store::Store;
use serde_json::Value;
use shared_types::Severity;
use std::collections::BTreeSet;
use std::sync::Arc;

fn scanner(store: Arc<dyn Store>, alerting: Option<Alerting>) -> Scanner {
    Scanner {
        pipeline: crate::helpers::pipeline(store),
        alerting,
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
    let s = scanner(store.clone(), None);
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
    let s = scanner(store.clone(), None);
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

/// Two SNS topics delivering to one SQS queue in the emulator.
struct Topics {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    standard: String,
    critical: String,
}

async fn topics(ep: &str) -> Topics {
    let sdk = sdk_config(ep).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name(unique("alerts"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn =
        attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    let mut arns = Vec::new();
    for name in ["standard", "critical"] {
        let arn = sns
            .create_topic()
            .name(unique(name))
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        sns.subscribe()
            .topic_arn(&arn)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .send()
            .await
            .unwrap();
        arns.push(arn);
    }
    Topics {
        sqs,
        queue_url,
        critical: arns.pop().unwrap(),
        standard: arns.pop().unwrap(),
    }
}

/// Every SNS notification waiting in the queue: `(topic arn, subject, message)`.
async fn drain(t: &Topics) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    loop {
        let r = t
            .sqs
            .receive_message()
            .queue_url(&t.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let msgs = r.messages();
        if msgs.is_empty() {
            return out;
        }
        for m in msgs {
            let n: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            out.push((
                n["TopicArn"].as_str().unwrap_or_default().to_string(),
                n["Subject"].as_str().unwrap_or_default().to_string(),
                n["Message"].as_str().unwrap_or_default().to_string(),
            ));
            t.sqs
                .delete_message()
                .queue_url(&t.queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn alerts_fire_once_per_finding_and_again_only_when_severity_rises() {
    let Some(ep) = aws_env::endpoint("scanner_alerts_once") else {
        return;
    };
    let store = Arc::new(dynamo_store_at(&ep).await);
    let t = topics(&ep).await;
    let sdk = sdk_config(&ep).await;
    let alerting = Alerting {
        notifier: Arc::new(SnsNotifier::new(
            &sdk,
            t.standard.clone(),
            Some(t.critical.clone()),
        )),
        min_severity: Severity::High,
        dashboard_url: Some("https://cspm.example.com".into()),
    };
    let s = scanner(store.clone(), Some(alerting));
    let n = Normalizer::default();
    let mut at_or_above = BTreeSet::new();
    for (_, doc) in corpus("asff-envelope") {
        for f in n.parse_document(&doc).findings {
            if f.severity >= Severity::High {
                at_or_above.insert(f.id.clone());
            }
        }
        s.handle(doc, None).await.unwrap();
    }
    let first = drain(&t).await;
    assert_eq!(first.len(), at_or_above.len(), "{first:#?}");
    for (topic, subject, message) in &first {
        let critical = subject.starts_with("[CRITICAL]");
        assert_eq!(topic == &t.critical, critical, "{subject} went to {topic}");
        assert!(
            message.contains("Account:")
                && message.contains("Region:")
                && message.contains("Resource:")
        );
        assert!(
            message.contains("https://cspm.example.com/findings/"),
            "{message}"
        );
    }
    // Redelivery and plain updates do not alert again.
    for (_, doc) in corpus("asff-envelope") {
        s.handle(doc, None).await.unwrap();
    }
    assert!(drain(&t).await.is_empty());

    // A newer version of one imported finding, raised to CRITICAL, alerts once more.
    let (_, mut doc) = corpus("asff-envelope")
        .into_iter()
        .find(|(_, d)| {
            d["detail-type"] == "Security Hub Findings - Imported"
                && !n.parse_document(d).findings.is_empty()
        })
        .expect("an imported finding in the corpus");
    let f0 = &mut doc["detail"]["findings"][0];
    f0["UpdatedAt"] = Value::String("2099-01-01T00:00:00.000Z".into());
    f0["Severity"] = serde_json::json!({ "Label": "CRITICAL", "Normalized": 90 });
    s.handle(doc, None).await.unwrap();
    let raised = drain(&t).await;
    assert_eq!(raised.len(), 1, "{raised:#?}");
    assert_eq!(raised[0].0, t.critical);
}

#[tokio::test]
async fn a_failing_alert_channel_never_blocks_storing() {
    let Some(ep) = aws_env::endpoint("scanner_alert_failure") else {
        return;
    };
    let store = Arc::new(dynamo_store_at(&ep).await);
    let sdk = sdk_config(&ep).await;
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic".to_string();
    let alerting = Alerting {
        notifier: Arc::new(SnsNotifier::new(&sdk, missing.clone(), Some(missing))),
        min_severity: Severity::Informational,
        dashboard_url: None,
    };
    let s = scanner(store.clone(), Some(alerting));
    let mut failed = 0;
    for (_, doc) in corpus("asff-envelope") {
        let out = json(
            s.handle(doc, None)
                .await
                .expect("stored despite the alert failure"),
        );
        failed += out["alerts_failed"].as_u64().unwrap();
    }
    assert_eq!(failed as usize, expected_ids().len());
    let summary = store
        .summary(chrono::Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(summary.total as usize, expected_ids().len());
}

#[tokio::test]
async fn an_alert_to_a_topic_that_does_not_exist_fails_for_good_naming_the_topic() {
    let Some(ep) = aws_env::endpoint("sns_missing_topic") else {
        return;
    };
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic".to_string();
    let sns = SnsNotifier::new(&sdk_config(&ep).await, missing.clone(), None);
    let alert = Alert {
        reason: AlertReason::Reached,
        id: "abc".into(),
        title: "Bucket is public".into(),
        severity: Severity::High,
        account_id: "111122223333".into(),
        region: "us-east-1".into(),
        resource: "AwsS3Bucket arn:aws:s3:::b".into(),
        link: None,
    };
    let err = sns.notify(&alert).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("SNS Publish {missing}: ")),
        "{text}"
    );
    assert!(
        !err.is_retryable(),
        "a missing topic does not appear by itself: {text}"
    );
}
