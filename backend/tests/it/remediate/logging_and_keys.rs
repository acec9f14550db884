//! `cloudtrail-start-logging` and `kms-cancel-key-deletion` through the binary
//! against the emulator: a trail stopped for real and started again, a key
//! scheduled for deletion for real and cancelled, each with a bystander that
//! stays as it was, and a re-apply that makes no call.

use super::stored::{case_event, store_finding};
use super::*;
use aws_sdk_kms::types::KeyState;

async fn is_logging(ct: &aws_sdk_cloudtrail::Client, trail: &str) -> bool {
    let out = ct.get_trail_status().name(trail).send().await.unwrap();
    out.is_logging().unwrap()
}

/// A logging trail writing to a new bucket.
async fn trail(endpoint: &str, ct: &aws_sdk_cloudtrail::Client, name: &str) {
    let s3 = cspm::archive::S3Sink::client(&sdk_config(endpoint).await);
    let bucket = unique("rem-trail").to_lowercase();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    ct.create_trail()
        .name(name)
        .s3_bucket_name(&bucket)
        .send()
        .await
        .unwrap();
    ct.start_logging().name(name).send().await.unwrap();
}

#[tokio::test]
async fn a_stopped_trail_logs_again_and_another_stopped_trail_stays_stopped() {
    let Some(endpoint) = endpoint("remediate_cloudtrail") else {
        return;
    };
    let ct = aws_sdk_cloudtrail::Client::new(&sdk_config(&endpoint).await);
    let name = unique("rem-trail");
    let other = unique("rem-other");
    trail(&endpoint, &ct, &name).await;
    trail(&endpoint, &ct, &other).await;
    ct.stop_logging().name(&name).send().await.unwrap();
    ct.stop_logging().name(&other).send().await.unwrap();
    // Stratus Red Team's real StopLogging event, changed where needed: its
    // anonymised account 143434273843 and region apiso-centralnorth-2r to the
    // emulator's 123456789012 and us-east-1, the trail name to this test's.
    let path = corpus_dir()
        .join("cloudtrail/stratus__aws.defense-evasion.cloudtrail-stop_StopLogging.json");
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("143434273843", "123456789012")
        .replace("apiso-centralnorth-2r", "us-east-1");
    let mut event: Value = serde_json::from_str(&text).unwrap();
    let record = if event.get("detail").is_some() {
        &mut event["detail"]
    } else {
        &mut event
    };
    assert_eq!(record["eventName"], "StopLogging");
    record["requestParameters"]["name"] = json!(name);
    let s = store_finding(endpoint, &event, "aws.cloudtrail.stopped-or-deleted").await;
    let config = s.config("cloudtrail-start-logging", "");

    let plan = s.plan(&config);
    assert_eq!(
        plan["calls"],
        json!([{"service": "cloudtrail", "operation": "StartLogging", "params": {"Name": name}}])
    );
    assert_eq!(plan["current_state"]["is_logging"], false);
    assert!(!is_logging(&ct, &name).await, "plan changes nothing");
    s.apply(&config);
    assert!(is_logging(&ct, &name).await);
    assert!(!is_logging(&ct, &other).await, "only the finding's trail");
    assert_eq!(s.status().await, WorkflowStatus::Resolved);

    s.reopen().await;
    assert!(s.apply(&config).starts_with("nothing left to do"));
    assert_eq!(
        ledger_lines(s.dir.path()).len(),
        2,
        "no call the second time"
    );
}

async fn key_state(kms: &aws_sdk_kms::Client, key: &str) -> KeyState {
    let out = kms.describe_key().key_id(key).send().await.unwrap();
    out.key_metadata().unwrap().key_state().unwrap().clone()
}

#[tokio::test]
async fn a_key_pending_deletion_is_cancelled_and_another_stays_pending() {
    let Some(endpoint) = endpoint("remediate_kms") else {
        return;
    };
    // The event is recorded in us-west-2: the keys are made there.
    let sdk = sdk_config(&endpoint).await;
    let conf = aws_sdk_kms::config::Builder::from(&sdk)
        .region(aws_sdk_kms::config::Region::new("us-west-2"))
        .build();
    let kms = aws_sdk_kms::Client::from_conf(conf);
    let mut keys = Vec::new();
    for _ in 0..2 {
        let out = kms.create_key().send().await.unwrap();
        let id = out.key_metadata().unwrap().key_id().to_string();
        kms.schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(7)
            .send()
            .await
            .unwrap();
        keys.push(id);
    }
    // Panther's real ScheduleKeyDeletion event; only the key id "1" (in the
    // request, the response's ARN and the record's resources) is changed, to
    // the key made here.
    let text = serde_json::to_string(&case_event(
        "panther__AWS.KMS.CustomerManagedKeyLoss_T_KMS-Key-Scheduled-For-Deletion.json",
    ))
    .unwrap()
    .replace("\"keyId\":\"1\"", &format!("\"keyId\":\"{}\"", keys[0]))
    .replace(":key/1\"", &format!(":key/{}\"", keys[0]));
    let event: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(event["requestParameters"]["keyId"], json!(keys[0]));
    let s = store_finding(endpoint, &event, "aws.kms.key-scheduled-for-deletion").await;
    let config = s.config("kms-cancel-key-deletion", "");

    let plan = s.plan(&config);
    assert_eq!(
        plan["calls"],
        json!([{"service": "kms", "operation": "CancelKeyDeletion", "params": {"KeyId": keys[0]}}])
    );
    s.apply(&config);
    assert_eq!(key_state(&kms, &keys[0]).await, KeyState::Disabled);
    assert_eq!(
        key_state(&kms, &keys[1]).await,
        KeyState::PendingDeletion,
        "only the finding's key"
    );
    assert_eq!(s.status().await, WorkflowStatus::Resolved);

    s.reopen().await;
    assert!(s.apply(&config).starts_with("nothing left to do"));
    assert_eq!(
        ledger_lines(s.dir.path()).len(),
        2,
        "no call the second time"
    );
}
