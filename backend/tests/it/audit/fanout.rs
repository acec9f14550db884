//! The `fanout` Lambda as its binary builds it (`CSPM_AUDIT_BUCKET` set): a person's
//! workflow change read back from the findings table's stream becomes one chained
//! line in the audit bucket, and the invocation's EMF lines say so.

use super::s3::rig;
use crate::aws_env::{dynamo_store_at, endpoint, sdk_config};
use crate::metrics::decode_emf;
use crate::stream_records::{lambda_event, raw_records};
use cspm::config::lambda::LambdaConfig;
use cspm::store::Store;
use shared_types::{WorkflowStatus, WorkflowUpdate};
use std::collections::BTreeMap;

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
    let (state, bucket) = (r.table.clone(), format!("{}/audit", r.bucket));
    let config = LambdaConfig::from_lookup(|k| match k {
        "CSPM_TABLE_NAME" => Some(table.clone()),
        "CSPM_STATE_TABLE" => Some(state.clone()),
        "CSPM_AUDIT_BUCKET" => Some(bucket.clone()),
        _ => None,
    })
    .unwrap();
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
