//! The real `cspm serve --remediation FILE`: a rule in `auto` is remediated
//! without a person. The public-policy event posted to `POST /events` becomes a
//! finding, the `remediation` sink on the change feed approves it, the worker
//! applies and verifies the fix and resolves the finding, and the record says
//! so at `GET /remediations`.

use super::*;
use std::time::Duration;

#[tokio::test]
async fn a_rule_in_auto_is_remediated_by_the_server_without_a_person() {
    let Some(pb) = public_bucket("remediate_serve_auto").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("remediation.yaml");
    std::fs::write(
        &config,
        format!("enabled: [s3-block-public-access]\nauto: [{RULE}]\n"),
    )
    .unwrap();
    let server = crate::serve_e2e::serve_with_env(
        &dir.path().join("data"),
        &[
            "--remediation",
            config.to_str().unwrap(),
            "--aws-endpoint",
            &pb.endpoint,
            "--aws-region",
            "us-east-1",
        ],
        &[],
    );
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/events", server.base))
        .json(&pb.event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // The feed is dispatched within a second and the worker polls every second.
    let mut verified = None;
    for _ in 0..100 {
        let list: Value = client
            .get(format!("{}/remediations?status=verified", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(r) = list["items"].as_array().and_then(|a| a.first()) {
            verified = Some(r.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let record = verified.expect("the automatic remediation verified within 20 s");
    assert_eq!(record["automatic"], true, "{record}");
    assert_eq!(record["requested_by"], "automatic remediation");
    assert_eq!(record["action"], "s3-block-public-access");
    assert_eq!(block(&pb.s3, &pb.bucket).await, Some([true; 4]));
    let id = record["finding_id"].as_str().unwrap();
    let finding: Value = client
        .get(format!("{}/findings/{id}", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(finding["generator_id"], RULE);
    assert_eq!(finding["workflow_status"], "RESOLVED");
    let last = finding["audit"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], "remediation:s3-block-public-access");
    // Exactly one remediation for it (the sink's approval is not repeated).
    let all: Value = client
        .get(format!("{}/remediations?finding={id}", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");
}
