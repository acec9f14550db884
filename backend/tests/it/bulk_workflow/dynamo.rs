use super::*;
use crate::aws_env::{self, dynamo_store_at};
use serde_json::json;

#[tokio::test]
async fn on_dynamodb_a_filter_change_records_one_audit_entry_per_finding_and_reruns_as_unchanged() {
    let Some(ep) = aws_env::endpoint(
        "on_dynamodb_a_filter_change_records_one_audit_entry_per_finding_and_reruns_as_unchanged",
    ) else {
        return;
    };
    let store = Arc::new(dynamo_store_at(&ep).await) as Arc<dyn Store>;
    let mut fixtures = findings(60, 31);
    for (i, f) in fixtures.iter_mut().enumerate() {
        f.workflow_status = WorkflowStatus::New;
        if i % 2 == 0 {
            f.account_id = ACCOUNT.into();
        }
    }
    assert!(store.upsert(&fixtures).await.unwrap().failed.is_empty());
    let app = router(AppState::new(
        crate::helpers::pipeline(store.clone()),
        HttpConfig::default(),
    ));
    let post = |body: Value| {
        let app = app.clone();
        async move {
            let req = Request::post("/findings/workflow")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let resp = app.oneshot(req).await.unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let body = json!({"filter": {"account": ACCOUNT}, "expected_total": 30,
        "workflow_status": "SUPPRESSED", "note": "accepted risk"});
    let (status, answer) = post(body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(counts(&answer), (30, 0, 0));
    for f in &fixtures {
        let d = store.get(&f.id).await.unwrap().unwrap();
        if f.account_id == ACCOUNT {
            assert_eq!(d.finding.workflow_status, WorkflowStatus::Suppressed);
            assert_eq!(d.audit.len(), 1, "{}", f.id);
            assert_eq!(d.audit[0].note.as_deref(), Some("accepted risk"));
        } else {
            assert_eq!(d.finding.workflow_status, WorkflowStatus::New);
            assert!(d.audit.is_empty());
        }
    }
    let (status, answer) = post(body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(counts(&answer), (0, 30, 0));
    let (status, answer) = post(json!({"filter": {"account": ACCOUNT}, "expected_total": 29,
        "workflow_status": "NEW"}))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
}
