//! The scheduled Security Hub sync against the emulator: paged, paced to the API's
//! quota, resumable across invocations, and only storing what changed since the
//! last run. moto does not apply `GetFindings` filters, so the test also proves the
//! client-side window check.

use crate::aws_env::{self, dynamo_store_at, sdk_config, unique};
use crate::corpus::corpus;
use cspm::sources::security_hub::sync::Syncer;
use cspm::sources::Normalizer;
use cspm::store::Store;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Imports the corpus envelopes' findings into the emulator's Security Hub (setup
/// only, through its REST endpoint: the SDK's finding types cannot be built from JSON).
async fn import_corpus_findings(ep: &str) -> Vec<Value> {
    let findings: Vec<Value> = corpus("asff-envelope")
        .into_iter()
        .filter(|(_, d)| d["detail-type"] == "Security Hub Findings - Imported")
        .flat_map(|(_, d)| {
            d["detail"]["findings"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let resp = reqwest::Client::new()
        .post(format!("{ep}/findings/import"))
        .header("authorization", "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/securityhub/aws4_request, SignedHeaders=host, Signature=x")
        .json(&serde_json::json!({ "Findings": findings }))
        .send()
        .await
        .expect("import findings");
    let body: Value = resp.json().await.expect("import answer");
    assert_eq!(body["FailedCount"], 0, "{body}");
    findings
}

#[tokio::test]
async fn security_hub_sync_pages_paced_resumes_after_a_timeout_and_then_reads_only_changes() {
    let Some(ep) = aws_env::endpoint("security_hub_sync") else {
        return;
    };
    let imported = import_corpus_findings(&ep).await;
    let sdk = sdk_config(&ep).await;
    let store = Arc::new(dynamo_store_at(&ep).await);
    let param = format!("/{}/sync_state", unique("cspm"));
    let mut syncer = Syncer::new(
        aws_sdk_securityhub::Client::new(&sdk),
        aws_sdk_ssm::Client::new(&sdk),
        param,
    );
    syncer.page_size = 1;
    syncer.safety_margin = Duration::from_secs(2);
    // Slow pacing makes the pause point independent of how fast the machine is:
    // the first page starts well before the margin, the second would start after it.
    syncer.min_interval = Duration::from_secs(3);
    let pipeline = crate::helpers::pipeline(store.clone());
    // Other tests may import into the same emulator account: count what is there.
    let hub_total = {
        let mut n = 0;
        let mut token = None;
        loop {
            let p = aws_sdk_securityhub::Client::new(&sdk)
                .get_findings()
                .max_results(100)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            n += p.findings().len();
            token = p.next_token().filter(|t| !t.is_empty()).map(String::from);
            if token.is_none() {
                break n;
            }
        }
    };
    // The corpus holds two versions of one finding (same Id): the hub keeps one.
    let distinct: BTreeSet<&str> = imported.iter().filter_map(|f| f["Id"].as_str()).collect();
    assert!(
        distinct.len() >= 2 && hub_total >= distinct.len(),
        "hub {hub_total}, imported {distinct:?}"
    );

    // First invocation: the deadline falls between the first and the second page,
    // so it pauses and saves.
    let deadline = SystemTime::now() + syncer.safety_margin + Duration::from_millis(2_500);
    let first = syncer.run(&pipeline, Some(deadline)).await.unwrap();
    assert!(!first.complete, "{first:?}");
    assert_eq!(first.pages, 1, "{first:?}");
    let saved = syncer.load_state().await.unwrap();
    assert!(
        saved
            .running
            .as_ref()
            .is_some_and(|w| w.next_token.is_some()),
        "{saved:?}"
    );

    // Next invocation resumes from the saved page and finishes, 3 calls a second at most.
    let started = Instant::now();
    let second = syncer.run(&pipeline, None).await.unwrap();
    assert!(second.complete);
    // Each finding GetFindings returns is one document of the outcome.
    assert_eq!(
        first.outcome.documents + second.outcome.documents,
        hub_total,
        "every page read exactly once"
    );
    let min = syncer.min_interval * (second.pages as u32 - 1);
    assert!(
        started.elapsed() >= min,
        "{:?} < {min:?} for {} pages",
        started.elapsed(),
        second.pages
    );
    let n = Normalizer::default();
    let want: BTreeSet<String> = imported
        .iter()
        .flat_map(|f| n.parse_document(f).findings)
        .map(|f| f.id)
        .collect();
    for id in &want {
        assert!(store.get(id).await.unwrap().is_some(), "{id} synced");
    }
    assert!(syncer.load_state().await.unwrap().synced_until.is_some());

    // A later run only takes findings updated since the last one: none here.
    let third = syncer.run(&pipeline, None).await.unwrap();
    assert!(third.complete);
    assert_eq!(third.outcome.written(), 0, "{third}");
    assert_eq!(third.outside_window, third.outcome.documents, "{third:?}");
}
