//! Export jobs as they run on AWS, against the emulator: the `api` Lambda's
//! router queues the job in SQS, the `exporter` handler runs the message SQS
//! delivers (in the recorded Lambda event shape), the file lands SSE-KMS in the
//! archive bucket, and the presigned link downloads exactly what the streamed
//! route answers.

use super::files_contract::{s3_files, KMS_KEY};
use super::{get, post};
use axum::http::{header, StatusCode};
use cspm::config::lambda::LambdaConfig;
use cspm::export::jobs::{ExportJobs, Runner, SqsQueue};
use cspm::lambda::{api, exporter};
use cspm::store::Store;
use serde_json::json;
use std::sync::Arc;

const TOKEN: &str = "exporter-test-token-0123456789";

#[tokio::test]
async fn a_queued_job_is_run_by_the_exporter_and_downloaded_from_a_presigned_link() {
    let Some(endpoint) = crate::aws_env::endpoint("a_queued_job_is_run_by_the_exporter") else {
        return;
    };
    let sdk = crate::aws_env::sdk_config(&endpoint).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name(crate::aws_env::unique("exports"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(crate::aws_env::dynamo_store_at(&endpoint).await);
    store
        .upsert(&crate::helpers::findings(40, 23))
        .await
        .unwrap();
    let (files, s3, bucket) = s3_files(&endpoint, KMS_KEY).await;
    let queue = SqsQueue::new(sqs.clone(), queue_url.clone());
    let jobs = ExportJobs::new(
        store.clone(),
        Arc::new(files),
        Runner::Queue(Arc::new(queue)),
    );
    let config =
        LambdaConfig::from_lookup(|k| (k == "CSPM_TABLE_NAME").then(|| "unused".into())).unwrap();
    let app = api::app(
        &config,
        crate::helpers::pipeline(store),
        api::Parts {
            exports: Some(jobs.clone()),
            api_token: Some(TOKEN.to_string()),
            ..Default::default()
        },
    );

    let started = post(
        &app,
        TOKEN,
        &json!({"filter": {"severity": ["HIGH", "CRITICAL"]}}),
    )
    .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.json());
    let id = started.json()["id"].as_str().unwrap().to_owned();

    // What SQS delivers to the exporter: one message naming the job.
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let messages = received.messages();
    assert_eq!(messages.len(), 1);
    let body = messages[0].body().unwrap().to_owned();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"export_id": id})
    );
    let event = crate::corpus::sqs_batch(&[
        (messages[0].message_id().unwrap().to_owned(), body),
        ("not-ours".into(), "{\"hello\":1}".into()),
    ]);
    let event = serde_json::from_value(event).unwrap();
    let answer = exporter::handle(&jobs, event).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");

    let job = get(&app, &format!("/exports/{id}"), TOKEN).await.json();
    assert_eq!(job["state"], "done", "{job}");
    let link = job["url"].as_str().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{endpoint}/{bucket}/archive/exports/{id}.csv?")),
        "{link}"
    );
    let file = reqwest::get(&link).await.unwrap();
    assert_eq!(file.status(), 200);
    let disposition = file.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let file = file.bytes().await.unwrap();
    let streamed = get(&app, "/findings/export?severity=HIGH,CRITICAL", TOKEN).await;
    assert_eq!(streamed.status, StatusCode::OK);
    assert!(
        file[..] == streamed.body[..],
        "the job's file differs from the streamed export"
    );
    assert_eq!(job["bytes"], json!(file.len()));
    // Named like the streamed route's file (at the job's start, not now).
    assert!(
        disposition.starts_with("attachment; filename=\"cspm-findings-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let rows = csv::Reader::from_reader(&file[..]).records().count();
    assert_eq!(job["count"], json!(rows));
    assert!(rows > 0);

    let head = s3
        .head_object()
        .bucket(&bucket)
        .key(format!("archive/exports/{id}.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.ssekms_key_id(), Some(KMS_KEY));
    // The API's download route sends the browser to a fresh link.
    let redirect = get(&app, &format!("/exports/{id}/download"), TOKEN).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    let location = redirect.headers[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with(&format!("{endpoint}/{bucket}/")),
        "{location}"
    );

    // SQS may deliver the same message again: the finished job stays as it is.
    let again = crate::corpus::sqs_batch(&[("m2".into(), json!({"export_id": id}).to_string())]);
    let answer = exporter::handle(&jobs, serde_json::from_value(again).unwrap()).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    assert_eq!(
        get(&app, &format!("/exports/{id}"), TOKEN).await.json()["bytes"],
        job["bytes"]
    );
}
