//! SNS alerts as a sink on the change feed — locally through the dispatcher's
//! feed, on AWS through the `fanout` handler fed recorded DynamoDB Streams events —
//! against SNS topics in the emulator: one alert per finding, again only when its
//! severity rises, never twice for a redelivered change; the summary counters in
//! the stream are ignored; a failing sink reports exactly its records.

use crate::aws_env::{self, dynamo_store_at, fanout_state_table, sdk_config};
use crate::corpus::corpus;
use crate::sns_topics::{drain, topics, Topics};
use crate::stream_records::{lambda_event, raw_records};
use cspm::feed::fanout::Fanout;
use cspm::lambda::scanner::Scanner;
use cspm::sinks::dedup::{Dedup, DynamoDedup, MemoryDedup};
use cspm::sinks::recording::RecordingSink;
use cspm::sinks::sns::{SnsSettings, SnsSink};
use cspm::sinks::{Filter, Sink, SinkError};
use cspm::sources::Normalizer;
use cspm::store::{Change, ChangeFeed, SqliteStore, Store};
use serde_json::Value;
use shared_types::Severity;
use std::collections::BTreeSet;
use std::sync::Arc;

async fn sns_sink(ep: &str, t: &Topics, dedup: Arc<dyn Dedup>) -> SnsSink {
    let sdk = sdk_config(ep).await;
    SnsSink::new(
        SnsSettings {
            name: "alerts".into(),
            standard_topic: t.standard.clone(),
            critical_topic: Some(t.critical.clone()),
            min_severity: Severity::High,
            filter: Filter::default(),
            dashboard_url: Some("https://cspm.example.com".into()),
        },
        &sdk,
        dedup,
    )
}

/// Ids of the corpus envelopes' findings at or above HIGH.
fn at_or_above_high() -> BTreeSet<String> {
    let n = Normalizer::default();
    corpus("asff-envelope")
        .iter()
        .flat_map(|(_, d)| n.parse_document(d).findings)
        .filter(|f| f.severity >= Severity::High)
        .map(|f| f.id)
        .collect()
}

/// The first imported envelope, its first finding raised to CRITICAL and newer.
fn raised_envelope() -> Value {
    let n = Normalizer::default();
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
    doc
}

/// Hands every change `sink` wants, as the dispatcher does.
async fn deliver(sink: &dyn Sink, changes: &[Change]) {
    let wanted: Vec<Change> = changes.iter().filter(|c| sink.wants(c)).cloned().collect();
    for batch in wanted.chunks(sink.max_batch()) {
        sink.send(batch).await.unwrap();
    }
}

#[tokio::test]
async fn the_sns_sink_alerts_once_per_finding_and_again_only_when_severity_rises() {
    let Some(ep) = aws_env::endpoint("sns_sink_alerts_once") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let pipeline = crate::helpers::pipeline(Arc::new(store.clone()));
    let t = topics(&ep).await;
    let sink = sns_sink(&ep, &t, Arc::new(MemoryDedup::default())).await;
    for (_, doc) in corpus("asff-envelope") {
        pipeline.run_document("event", &doc).await.unwrap();
    }
    let changes = store.changes_after(0, 10_000).await.unwrap();
    deliver(&sink, &changes).await;
    let first = drain(&t).await;
    assert_eq!(first.len(), at_or_above_high().len(), "{first:#?}");
    for (topic, subject, message) in &first {
        let critical = subject.starts_with("[CRITICAL]");
        assert_eq!(topic == &t.critical, critical, "{subject} went to {topic}");
        for field in ["Account:", "Region:", "Resource:", "Rule:"] {
            assert!(message.contains(field), "{message}");
        }
        assert!(
            message.contains("https://cspm.example.com/ui/findings/"),
            "{message}"
        );
    }
    // At-least-once redelivery of the same changes sends nothing more.
    deliver(&sink, &changes).await;
    assert!(drain(&t).await.is_empty());
    // The same events again change nothing, so they record no change to alert on.
    let head = store.head().await.unwrap();
    for (_, doc) in corpus("asff-envelope") {
        pipeline.run_document("event", &doc).await.unwrap();
    }
    assert_eq!(store.head().await.unwrap(), head);
    // A newer version raised to CRITICAL alerts once more, on the critical topic.
    pipeline
        .run_document("event", &raised_envelope())
        .await
        .unwrap();
    let newer = store.changes_after(head, 100).await.unwrap();
    deliver(&sink, &newer).await;
    let raised = drain(&t).await;
    assert_eq!(raised.len(), 1, "{raised:#?}");
    assert_eq!(raised[0].0, t.critical);
    // Below HIGH before: it reaches the threshold; HIGH before: it rises.
    let before = Normalizer::default()
        .parse_document(&raised_envelope())
        .findings[0]
        .id
        .clone();
    let was = changes
        .iter()
        .find(|c| c.finding_id() == before)
        .map(|c| c.finding.item.severity)
        .unwrap();
    assert_eq!(
        raised[0].2.contains("CRITICAL (was"),
        was >= Severity::High,
        "{}",
        raised[0].2
    );
}

#[tokio::test]
async fn a_missing_topic_is_a_permanent_failure_that_never_blocks_storing() {
    let Some(ep) = aws_env::endpoint("sns_sink_missing_topic") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic".to_string();
    let sink = SnsSink::new(
        SnsSettings {
            name: "alerts".into(),
            standard_topic: missing.clone(),
            critical_topic: Some(missing),
            min_severity: Severity::Informational,
            filter: Filter::default(),
            dashboard_url: None,
        },
        &sdk,
        Arc::new(MemoryDedup::default()),
    );
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let pipeline = crate::helpers::pipeline(Arc::new(store.clone()));
    for (_, doc) in corpus("asff-envelope") {
        pipeline.run_document("event", &doc).await.unwrap();
    }
    let changes = store.changes_after(0, 10_000).await.unwrap();
    let wanted: Vec<Change> = changes.into_iter().filter(|c| sink.wants(c)).collect();
    match sink.send(&wanted).await {
        Err(SinkError::Permanent { reason }) => {
            assert!(
                reason.contains("SNS Publish") && reason.contains("no-such-topic"),
                "{reason}"
            )
        }
        other => panic!("expected a permanent failure, got {other:?}"),
    }
    let today = chrono::Utc::now().date_naive();
    assert!(
        store.summary(today).await.unwrap().total > 0,
        "stored all the same"
    );
}

#[tokio::test]
async fn fanout_on_recorded_stream_events_alerts_once_and_reports_only_a_failing_sinks_records() {
    let Some(ep) = aws_env::endpoint("fanout_stream_events") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let client = cspm::aws::dynamodb_client(&sdk);
    let store = Arc::new(dynamo_store_at(&ep).await);
    let scanner = Scanner {
        pipeline: crate::helpers::pipeline(store.clone()),
        syncer: None,
    };
    for (_, doc) in corpus("asff-envelope") {
        scanner.handle(doc, None).await.unwrap();
    }
    // The fan-out state table (sent alert keys), as Terraform creates it.
    let state_table = fanout_state_table(&client).await;
    let t = topics(&ep).await;
    let dedup: Arc<dyn Dedup> = Arc::new(DynamoDedup::new(client.clone(), state_table.clone()));
    let sns: Arc<dyn Sink> = Arc::new(sns_sink(&ep, &t, dedup).await);
    let broken = Arc::new(RecordingSink::new("broken", Filter::default()));
    broken.fail_with((0..10).map(|_| SinkError::permanent("HTTP 410")));
    let fanout = Fanout::new(vec![sns, broken.clone() as Arc<dyn Sink>]);

    let raw = raw_records(&ep, &client, store.table()).await;
    let event = lambda_event(&raw);
    let resp = fanout.handle(event.clone()).await;
    let alerts = drain(&t).await;
    assert_eq!(alerts.len(), at_or_above_high().len(), "{alerts:#?}");
    // Exactly the finding records (not the counters') fail: the broken sink wants them all.
    let finding_seqs: BTreeSet<String> = raw
        .iter()
        .filter(|r| {
            !r["dynamodb"]["Keys"]["id"]["S"]
                .as_str()
                .unwrap_or("#")
                .starts_with('#')
        })
        .map(|r| {
            r["dynamodb"]["SequenceNumber"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let failed: BTreeSet<String> = resp
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect();
    assert!(!finding_seqs.is_empty());
    assert_eq!(failed, finding_seqs);

    // Lambda retries the batch, maybe on another instance: no alert goes twice.
    let other_instance = Fanout::new(vec![Arc::new(
        sns_sink(
            &ep,
            &t,
            Arc::new(DynamoDedup::new(client.clone(), state_table.clone())),
        )
        .await,
    ) as Arc<dyn Sink>]);
    let resp = other_instance.handle(event).await;
    assert!(resp.batch_item_failures.is_empty());
    assert!(
        drain(&t).await.is_empty(),
        "redelivered changes do not alert again"
    );
}
