//! DynamoDB's TTL is only a safety net: on every write path — a first version, a
//! newer one, a person's change, a restore — the TTL the store sets is later than
//! the moment the archiver takes the finding (its provider `updated_at` plus the
//! configured retention).

use super::aws_env::{self, sdk_config, unique};
use super::helpers::{findings, pipeline, version};
use chrono::{DateTime, Duration, Utc};
use cspm::config::DynamoConfig;
use cspm::store::dynamo::{schema, DynamoStore};
use cspm::store::Store;
use shared_types::{WorkflowStatus, WorkflowUpdate};
use std::sync::Arc;

/// `expires_at` and `updated_exact` of one stored item.
async fn ttl_of(store: &DynamoStore, id: &str) -> (i64, DateTime<Utc>) {
    let item = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("stored");
    let expires = item["expires_at"].as_n().unwrap().parse().unwrap();
    let updated = item["updated_exact"].as_s().unwrap().parse().unwrap();
    (expires, updated)
}

fn assert_after_cutoff(path: &str, (expires, updated): (i64, DateTime<Utc>), retention: i64) {
    let cutoff = updated + Duration::days(retention);
    assert!(
        expires > cutoff.timestamp(),
        "{path}: TTL {expires} is not after the archive cutoff {cutoff}"
    );
}

#[tokio::test]
async fn every_write_path_sets_the_ttl_after_the_archive_cutoff() {
    let Some(ep) = aws_env::endpoint("dynamo_ttl_paths") else {
        return;
    };
    const RETENTION: u32 = 150;
    let table = unique("ttl-paths");
    let client = cspm::aws::dynamodb_client(&sdk_config(&ep).await);
    schema::create_table(&client, &table).await.unwrap();
    // Built the way the CLI and the Lambdas build it.
    let config = DynamoConfig {
        table: table.clone(),
        target: Default::default(),
        retention_days: RETENTION,
        create: false,
        concurrency: Some(1),
    };
    let store = Arc::new(config.store(client));
    let retention = i64::from(RETENTION);

    // Findings the provider updated long ago and just now.
    let mut fs = findings(2, 31);
    fs[0].updated_at = Utc::now() - Duration::days(400);
    fs[1].updated_at = Utc::now();
    store.upsert(&fs).await.unwrap();
    for f in &fs {
        assert_after_cutoff("insert", ttl_of(&store, &f.id).await, retention);
    }
    let newer = version(&fs[0], 60);
    store.upsert(std::slice::from_ref(&newer)).await.unwrap();
    assert_after_cutoff("update", ttl_of(&store, &fs[0].id).await, retention);
    let u = WorkflowUpdate {
        workflow_status: WorkflowStatus::Notified,
        note: None,
    };
    store
        .set_workflow(&fs[1].id, &u, "alice", Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_after_cutoff(
        "workflow change",
        ttl_of(&store, &fs[1].id).await,
        retention,
    );

    // A restore writes an old finding back through the pipeline.
    let mut old = findings(3, 32).remove(2);
    old.updated_at = Utc::now() - Duration::days(1000);
    let p = pipeline(store.clone());
    let (outcome, _) = p
        .store_findings(std::slice::from_ref(&old), cspm::store::Origin::Restore)
        .await
        .unwrap();
    assert_eq!(outcome.stored, 1);
    assert_after_cutoff("restore", ttl_of(&store, &old.id).await, retention);
}
