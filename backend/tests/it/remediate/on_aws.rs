//! Remediation as the AWS deployment runs it, against the emulator: the `api`
//! Lambda's router plans and approves (records in the remediations table as
//! Terraform makes it, the approval on an SQS queue), and the `remediator`
//! Lambda's handler applies what the queue delivers, in SQS events built from
//! the queue's own messages as the event source mapping would. A failure that
//! may pass is handed back as a batch item failure with the message released
//! for later, never deleted; a second delivery of a finished remediation
//! changes nothing.

use super::*;
use crate::api_lambda::{invoke, signed_in, v2_anonymous};
use crate::aws_env::{dynamo_store_at, remediations_table, sqs_queue};
use crate::fault_proxy::Fault;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use cspm::config::lambda::LambdaConfig;
use cspm::config::remediation::RemediationEnv;
use cspm::lambda::{api, remediator};
use cspm::pipeline::Pipeline;
use cspm::remediate::config::RemediationConfig;
use cspm::remediate::worker::{Worker, WorkerSettings};
use std::collections::HashMap;
use std::time::Duration;

const ENABLED: &str = "enabled: [s3-block-public-access]\n";

/// Both Lambdas over one deployment's table, queue and findings.
struct Deployment {
    api: axum::Router,
    worker: Worker,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    finding_id: String,
    bucket: PublicBucket,
}

/// A public bucket, its finding stored in a DynamoDB store, and both Lambdas
/// wired as their cold starts wire them; the remediation's AWS calls go to
/// `actions_endpoint` (the emulator, or a fault proxy in front of it).
async fn deployment(test: &str, actions_endpoint: Option<&str>) -> Option<Deployment> {
    let bucket = public_bucket(test).await?;
    let sdk = sdk_config(&bucket.endpoint).await;
    let store = Arc::new(dynamo_store_at(&bucket.endpoint).await);
    let pipeline = crate::helpers::pipeline(store.clone());
    let outcome = pipeline
        .run_document("corpus", &bucket.event)
        .await
        .unwrap();
    assert!(outcome.stored >= 1, "{outcome:?}");
    let finding_id = pipeline
        .normalize(&bucket.event)
        .findings
        .into_iter()
        .find(|f| f.generator_id == RULE)
        .unwrap()
        .id;

    let queue_url = sqs_queue(&sdk, "remediations").await;
    let table = remediations_table(&aws_sdk_dynamodb::Client::new(&sdk)).await;
    let env = || RemediationEnv {
        table: table.clone(),
        queue_url: queue_url.clone(),
        config: RemediationConfig::parse("CSPM_REMEDIATION_CONFIG", ENABLED).unwrap(),
    };
    let actions_sdk = match actions_endpoint {
        Some(e) => sdk_config(e).await,
        None => sdk.clone(),
    };
    // Two cold starts, as two functions have: nothing shared but AWS.
    let for_api = remediator::on_aws(&sdk, pipeline.clone(), env(), remediator::Role::Approver);
    let config =
        LambdaConfig::from_lookup(|k| (k == "CSPM_TABLE_NAME").then(|| store.table().to_string()))
            .unwrap();
    let api = api::app(
        &config,
        pipeline,
        api::Parts {
            remediation: Some(for_api.service),
            ..Default::default()
        },
    );
    let lambda_pipeline = Pipeline::new(
        Arc::new(cspm::sources::Normalizer::default()),
        store.clone(),
    );
    let for_worker = remediator::on_aws(
        &actions_sdk,
        lambda_pipeline,
        env(),
        remediator::Role::Worker,
    );
    let worker = Worker::new(
        for_worker.service,
        for_worker.queue,
        WorkerSettings {
            retry_after: Duration::from_secs(1),
            ..WorkerSettings::default()
        },
    );
    Some(Deployment {
        api,
        worker,
        sqs: aws_sdk_sqs::Client::new(&sdk),
        queue_url,
        finding_id,
        bucket,
    })
}

impl Deployment {
    /// `method path` through the `api` Lambda as a person in `group`.
    async fn call(&self, group: &str, method: &str, path: &str) -> (u16, Value) {
        let event = signed_in(v2_anonymous(method, path, "", None), Some(group));
        invoke(&self.api, event).await
    }

    /// What the event source mapping would hand the `remediator` now: the
    /// queue's visible messages (hidden for `hide_secs`) as one SQS event.
    async fn poll(&self, hide_secs: i32) -> SqsEvent {
        let got = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(hide_secs)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        let records: Vec<Value> = got
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let attributes: HashMap<String, String> = m
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.as_str().to_string(), v))
                    .collect();
                json!({
                    "messageId": m.message_id,
                    "receiptHandle": m.receipt_handle,
                    "body": m.body,
                    "md5OfBody": m.md5_of_body,
                    "attributes": attributes,
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:remediations",
                    "awsRegion": "us-east-1",
                })
            })
            .collect();
        serde_json::from_value(json!({ "Records": records })).unwrap()
    }

    /// The `remediator` Lambda's answer to `event`, and the failed message ids.
    async fn remediate(&self, event: SqsEvent) -> Vec<String> {
        let resp: SqsBatchResponse = remediator::handle(&self.worker, event).await;
        resp.batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    async fn record(&self, rid: &str) -> Value {
        let (status, r) = self
            .call("[viewer]", "GET", &format!("/remediations/{rid}"))
            .await;
        assert_eq!(status, 200, "{r}");
        r
    }

    async fn approve(&self) -> String {
        let (status, queued) = self
            .call(
                "[analyst]",
                "POST",
                &format!("/findings/{}/remediation", self.finding_id),
            )
            .await;
        assert_eq!(status, 202, "{queued}");
        queued["id"].as_str().unwrap().to_string()
    }

    async fn workflow_status(&self) -> Value {
        let (_, detail) = self
            .call("[viewer]", "GET", &format!("/findings/{}", self.finding_id))
            .await;
        detail["workflow_status"].clone()
    }
}

#[tokio::test]
async fn an_approval_through_the_api_lambda_is_applied_by_the_remediator_lambda() {
    let Some(d) = deployment("remediate_on_aws_end_to_end", None).await else {
        return;
    };
    let (status, plan) = d
        .call(
            "[viewer]",
            "GET",
            &format!("/findings/{}/remediation/plan", d.finding_id),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["action"], "s3-block-public-access");
    assert_eq!(
        plan["calls"][0]["operation"], "PutPublicAccessBlock",
        "{plan}"
    );
    let (status, _) = d
        .call(
            "[viewer]",
            "POST",
            &format!("/findings/{}/remediation", d.finding_id),
        )
        .await;
    assert_eq!(status, 403, "a viewer may not approve");

    let rid = d.approve().await;
    assert_eq!(d.record(&rid).await["status"], "queued");
    assert_eq!(
        block(&d.bucket.s3, &d.bucket.bucket).await,
        None,
        "nothing applied yet"
    );

    let event = d.poll(300).await;
    assert_eq!(event.records.len(), 1, "the approval is on the queue");
    let again = event.clone();
    assert!(d.remediate(event).await.is_empty(), "handled");
    assert_eq!(block(&d.bucket.s3, &d.bucket.bucket).await, Some([true; 4]));
    let r = d.record(&rid).await;
    assert_eq!(r["status"], "verified", "{r}");
    assert_eq!(r["attempts"], 1);
    assert_eq!(d.workflow_status().await, "RESOLVED");
    let (_, listed) = d
        .call(
            "[viewer]",
            "GET",
            &format!("/remediations?finding={}", d.finding_id),
        )
        .await;
    assert_eq!(listed["items"][0]["id"], json!(rid), "{listed}");

    // SQS delivers at least once: the same message again changes nothing.
    assert!(d.remediate(again).await.is_empty());
    assert_eq!(d.record(&rid).await["attempts"], 1, "not tried again");
    assert!(d.poll(0).await.records.is_empty(), "deleted from the queue");
}

#[tokio::test]
async fn a_throttled_remediation_is_handed_back_to_sqs_then_verified() {
    let Some(endpoint) = endpoint("remediate_on_aws_throttled") else {
        return;
    };
    let proxy = crate::fault_proxy::start(&endpoint).await;
    let Some(d) = deployment("remediate_on_aws_throttled", Some(&proxy.endpoint)).await else {
        return;
    };
    let rid = d.approve().await;
    // Every call the SDK retries is throttled, for one whole try.
    proxy.inject("PutPublicAccessBlock", Fault::Throttle, 3);

    let event = d.poll(300).await;
    let id = event.records[0].message_id.clone().unwrap();
    assert_eq!(d.remediate(event).await, [id], "a batch item failure");
    let r = d.record(&rid).await;
    assert_eq!(r["status"], "queued", "{r}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .starts_with("try 1 of 3 failed, trying again"),
        "{r}"
    );
    assert_eq!(block(&d.bucket.s3, &d.bucket.bucket).await, None);
    assert_eq!(d.workflow_status().await, "NEW", "the finding stays open");
    // Released for the retry's wait, not deleted and not back at once.
    assert!(
        d.poll(300).await.records.is_empty(),
        "hidden during the wait"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let retry = d.poll(300).await;
    assert_eq!(retry.records.len(), 1, "back after the wait");
    assert_eq!(
        retry.records[0]
            .attributes
            .get("ApproximateReceiveCount")
            .map(String::as_str),
        Some("2")
    );
    assert!(d.remediate(retry).await.is_empty());
    let r = d.record(&rid).await;
    assert_eq!(r["status"], "verified", "{r}");
    assert_eq!(r["attempts"], 2);
    assert_eq!(block(&d.bucket.s3, &d.bucket.bucket).await, Some([true; 4]));
    assert_eq!(proxy.injected("PutPublicAccessBlock"), 3);
}
