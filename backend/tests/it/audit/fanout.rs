//! The `fanout` Lambda as its binary builds it (`CSPM_AUDIT_BUCKET` set): a person's
//! workflow change read back from the findings table's stream becomes one chained
//! line in the audit bucket, and the invocation's EMF lines say so; a run with a
//! suppression, a webhook that alerts and one that refuses writes the expected
//! lines in order, and `cspm audit verify --from s3://…` holds.

use super::s3::{rig, Rig};
use super::support::{gist, set};
use crate::aws_env::{dynamo_store_at, endpoint, sdk_config, unique};
use crate::metrics::decode_emf;
use crate::stream_records::{lambda_event, raw_records};
use crate::webhook::spawn_receiver;
use cspm::config::lambda::LambdaConfig;
use cspm::detect::suppress::Suppressions;
use cspm::store::Store;
use serde_json::Value;
use shared_types::{WorkflowStatus, WorkflowUpdate};
use std::collections::{BTreeMap, BTreeSet};

/// What the binary reads from its environment: the findings table, the state
/// table and the audit bucket of `r`, and the sinks parameter when given.
fn config(table: &str, r: &Rig, sinks_parameter: Option<&str>) -> LambdaConfig {
    let (state, bucket) = (r.table.clone(), format!("{}/audit", r.bucket));
    LambdaConfig::from_lookup(|k| match k {
        "CSPM_TABLE_NAME" => Some(table.to_string()),
        "CSPM_STATE_TABLE" => Some(state.clone()),
        "CSPM_AUDIT_BUCKET" => Some(bucket.clone()),
        "CSPM_SINKS_PARAMETER" => sinks_parameter.map(str::to_string),
        _ => None,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fanout_lambda_chains_a_workflow_change_into_the_bucket_and_prints_emf() {
    let Some(ep) = endpoint("audit_fanout_lambda") else {
        return;
    };
    let r = rig(&ep).await;
    let store = dynamo_store_at(&ep).await;
    let mut fs = crate::helpers::findings(3, 11);
    // Demo findings come in any status; one arriving SUPPRESSED would be audited too.
    for f in &mut fs {
        f.workflow_status = WorkflowStatus::New;
    }
    store.upsert(&fs).await.unwrap();
    let update = WorkflowUpdate {
        workflow_status: WorkflowStatus::Suppressed,
        note: Some("accepted risk".into()),
    };
    store
        .set_workflow(
            &fs[0].id,
            &update,
            "bob@example.com",
            crate::helpers::anchor(),
        )
        .await
        .unwrap()
        .unwrap();
    let table = store.table().to_string();
    let config = config(&table, &r, None);
    let sdk = sdk_config(&ep).await;
    let lambda = cspm::lambda::fanout::fanout(&config, &sdk).await.unwrap();
    let client = cspm::aws::dynamodb_client(&sdk);
    let event = lambda_event(&raw_records(&ep, &client, &table).await);
    let resp = lambda.handle(event).await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");

    let (code, out) = r.verify();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 lines in 1 objects, seq 1-1"), "{out}");

    let mut emf = Vec::new();
    lambda.emit_metrics(&mut emf);
    let mut got: BTreeMap<String, (String, f64)> = BTreeMap::new();
    for line in String::from_utf8(emf).unwrap().lines() {
        let e = decode_emf(line);
        assert_eq!(e.namespace, "cspm");
        let dims: Vec<String> = e.dims.iter().map(|(k, v)| format!("{k}={v}")).collect();
        got.insert(format!("{}{dims:?}", e.name), (e.unit, e.value));
    }
    assert_eq!(
        got["ChangesDispatched[\"Sink=audit\"]"],
        ("Count".into(), 1.0)
    );
    assert_eq!(got["AuditLinesWritten[]"], ("Count".into(), 1.0));
    let (unit, lag) = &got["FanoutLag[\"Sink=audit\"]"];
    assert_eq!(unit, "Milliseconds");
    assert!(*lag >= 0.0);
}

/// The sequence number of a raw stream record.
fn seq(record: &Value) -> String {
    record["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A finding's record, not one of the summary counters that share the table.
fn is_finding(record: &Value) -> bool {
    !record["dynamodb"]["Keys"]["id"]["S"]
        .as_str()
        .unwrap_or("#")
        .starts_with('#')
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fanout_run_with_alerts_a_refusal_and_a_workflow_change_chains_them_in_order() {
    let Some(ep) = endpoint("audit_fanout_alerts") else {
        return;
    };
    let r = rig(&ep).await;
    let store = dynamo_store_at(&ep).await;
    let sdk = sdk_config(&ep).await;
    // Two receivers: `hook` takes everything; `pager` refuses the first request
    // with 410 (permanent: the batch goes back to the stream at once), then works.
    let (hook_rx, hook_url) = spawn_receiver().await;
    let (pager_rx, pager_url) = spawn_receiver().await;
    pager_rx.script.lock().unwrap().push_back((410, None));
    let parameter = format!("/{}/sinks", unique("cspm"));
    let sinks = format!(
        "sinks:\n  - {{name: hook, kind: webhook, url: \"{hook_url}\"}}\n  - {{name: pager, kind: webhook, url: \"{pager_url}\"}}\n"
    );
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name(&parameter)
        .value(sinks)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap();
    let table = store.table().to_string();
    let config = config(&table, &r, Some(parameter.as_str()));
    let lambda = cspm::lambda::fanout::fanout(&config, &sdk).await.unwrap();
    let client = cspm::aws::dynamodb_client(&sdk);

    // Phase 1: a new finding, and one a suppression rule marks before it is stored.
    let mut fs = crate::helpers::findings(2, 7);
    let (a, b) = (fs[0].id.clone(), fs[1].id.clone());
    fs[0].workflow_status = WorkflowStatus::New;
    let rules = format!(
        "suppressions:\n  - id: lab-account\n    reason: lab account, rebuilt nightly\n    owner: platform@example.com\n    expires: 2030-01-01T00:00:00Z\n    match: {{path: id, equals: \"{b}\"}}\n"
    );
    let suppressions = Suppressions::from_yaml("s.yaml", &rules).unwrap();
    assert!(suppressions.apply(&mut fs[1], crate::helpers::anchor()));
    store.upsert(&fs).await.unwrap();
    let first = raw_records(&ep, &client, &table).await;
    let resp = lambda.handle(lambda_event(&first)).await;
    // The pager took none of its changes: exactly the findings' records go back.
    let failed: BTreeSet<String> = resp
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect();
    let findings: BTreeSet<String> = first.iter().filter(|r| is_finding(r)).map(seq).collect();
    assert_eq!(findings.len(), 2);
    assert_eq!(failed, findings);
    assert_eq!(hook_rx.requests.lock().unwrap().len(), 1);
    let phase1 = vec![
        format!("suppressed {b} sink=- actor=- -->SUPPRESSED rule=lab-account"),
        format!("alert_sent {a} sink=hook actor=- -->- rule=-"),
        format!("alert_sent {b} sink=hook actor=- -->- rule=-"),
        format!("delivery_failed {a} sink=pager actor=- -->- rule=-"),
        format!("delivery_failed {b} sink=pager actor=- -->- rule=-"),
    ];
    let got = r.lines().await;
    let gists: Vec<String> = got.iter().map(gist).collect();
    // Inside one invocation the sinks run side by side: the phase is a set.
    assert_eq!(gists.len(), phase1.len(), "{gists:#?}");
    assert_eq!(set(&gists), set(&phase1), "{gists:#?}");
    let refused = got
        .iter()
        .find(|v| v["event"] == "delivery_failed")
        .unwrap();
    assert!(
        refused["error"].as_str().unwrap().contains("410"),
        "{refused}"
    );
    assert_eq!(refused["tries"], 1, "a permanent error is not retried");
    let alert = got.iter().find(|v| v["event"] == "alert_sent").unwrap();
    assert_eq!(alert["channel"], "webhook");
    let suppressed = got.iter().find(|v| v["event"] == "suppressed").unwrap();
    assert_eq!(suppressed["owner"], "platform@example.com");

    // Phase 2: a person resolves A; both receivers take it (the pager works again).
    let update = WorkflowUpdate {
        workflow_status: WorkflowStatus::Resolved,
        note: Some("rotated the key".into()),
    };
    store
        .set_workflow(&a, &update, "alice@example.com", crate::helpers::anchor())
        .await
        .unwrap()
        .unwrap();
    let seen: BTreeSet<String> = first.iter().map(seq).collect();
    let second: Vec<Value> = raw_records(&ep, &client, &table)
        .await
        .into_iter()
        .filter(|r| !seen.contains(&seq(r)))
        .collect();
    let resp = lambda.handle(lambda_event(&second)).await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let phase2 = vec![
        format!("workflow_changed {a} sink=- actor=alice@example.com NEW->RESOLVED rule=-"),
        format!("alert_sent {a} sink=hook actor=- -->- rule=-"),
        format!("alert_sent {a} sink=pager actor=- -->- rule=-"),
    ];
    let got = r.lines().await;
    let gists: Vec<String> = got.iter().map(gist).collect();
    assert_eq!(gists.len(), phase1.len() + phase2.len(), "{gists:#?}");
    assert_eq!(set(&gists[..phase1.len()]), set(&phase1), "{gists:#?}");
    assert_eq!(set(&gists[phase1.len()..]), set(&phase2), "{gists:#?}");
    let resolved = got
        .iter()
        .find(|v| v["event"] == "workflow_changed")
        .unwrap();
    assert_eq!(resolved["note"], "rotated the key");
    let seqs: Vec<u64> = got.iter().map(|v| v["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());

    let (code, out) = r.verify();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("8 lines in 2 objects, seq 1-8: the chain holds"),
        "{out}"
    );
}
