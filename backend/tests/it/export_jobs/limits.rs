//! Bad input named by field, at most three jobs at once per principal, a dead
//! runner's job read as failed, and the sweep of exports older than a day.

use super::{call, files_in, fixture, get, post, RecordingQueue, VIEWER_A, VIEWER_B};
use axum::http::{header, Method, StatusCode};
use cspm::export::jobs::{JobId, Runner};
use serde_json::{json, Value};
use std::sync::Arc;

#[tokio::test]
async fn bad_requests_are_refused_with_the_field_named() {
    let f = fixture(Runner::InProcess).await;
    for (body, field) in [
        (json!({"format": "xlsx"}), "format"),
        (json!({"format": "csv", "raw": true}), "raw"),
        (json!({"format": "ocsf", "detail": true}), "detail"),
        (
            json!({"filter": {"severity": ["SEVERE"]}}),
            "filter.severity",
        ),
        (json!({"filter": {"severty": ["HIGH"]}}), "filter.severty"),
        (
            json!({"filter": {"since": "2026-02-01", "until": "2026-01-01"}}),
            "filter.since",
        ),
        (json!({"filter": {"q": "x".repeat(300)}}), "filter.q"),
        (json!({"limit": 5}), "limit"),
    ] {
        let a = post(&f.app, VIEWER_A, &body).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            a.json()["error"]["field"],
            json!(field),
            "{body}: {}",
            a.json()
        );
        assert_eq!(a.json()["error"]["code"], "invalid_body");
    }
    let not_json = call(
        &f.app,
        Method::POST,
        "/exports",
        Some(VIEWER_A),
        Some("{format"),
    )
    .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    let mut req = axum::http::Request::post("/exports")
        .header(header::AUTHORIZATION, format!("Bearer {VIEWER_A}"))
        .body(axum::body::Body::from("{}"))
        .unwrap();
    req.headers_mut().remove(header::CONTENT_TYPE);
    let resp = tower::ServiceExt::oneshot(f.app.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = json!({"filter": {"q": "x".repeat(70 * 1024)}}).to_string();
    let a = call(
        &f.app,
        Method::POST,
        "/exports",
        Some(VIEWER_A),
        Some(&huge),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Nothing was started by any of them.
    assert!(files_in(f.dir.path()).is_empty());
}

#[tokio::test]
async fn a_principal_runs_at_most_three_jobs_at_once_and_a_running_one_cannot_be_downloaded() {
    let queue = Arc::new(RecordingQueue::default());
    let f = fixture(Runner::Queue(queue.clone())).await;
    let mut mine = Vec::new();
    for _ in 0..3 {
        let a = post(&f.app, VIEWER_A, &json!({})).await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.json());
        mine.push(a.json()["id"].as_str().unwrap().to_owned());
    }
    let refused = post(&f.app, VIEWER_A, &json!({"format": "jsonl"})).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.json()
    );
    assert_eq!(refused.json()["error"]["code"], "too_many_requests");
    // The limit is per principal.
    assert_eq!(
        post(&f.app, VIEWER_B, &json!({})).await.status,
        StatusCode::ACCEPTED
    );
    let sent: Vec<String> = queue
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|i| i.to_string())
        .collect();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[..3], mine[..]);

    let early = get(&f.app, &format!("/exports/{}/download", mine[0]), VIEWER_A).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.json());
    assert_eq!(early.json()["error"]["code"], "export_not_ready");
    let job = get(&f.app, &format!("/exports/{}", mine[0]), VIEWER_A)
        .await
        .json();
    // Handed to the queue, not started: queued, and it holds a slot.
    assert_eq!(
        (&job["state"], &job["count"]),
        (&json!("queued"), &json!(0))
    );

    // The worker runs one; a second delivery of it changes nothing; one slot is free.
    let id = JobId::parse(&mine[0]).unwrap();
    let done = f.jobs.run(&id).await.unwrap();
    assert_eq!(done.state, shared_types::ExportState::Done);
    let again = f.jobs.run(&id).await.unwrap();
    assert_eq!(again, done);
    assert_eq!(
        post(&f.app, VIEWER_A, &json!({})).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post(&f.app, VIEWER_A, &json!({})).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_job_whose_runner_died_reads_failed_and_exports_older_than_a_day_are_swept() {
    let queue = Arc::new(RecordingQueue::default());
    let f = fixture(Runner::Queue(queue)).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            post(&f.app, VIEWER_A, &json!({})).await.json()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        post(&f.app, VIEWER_A, &json!({})).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The process running the first job died six minutes ago: its heartbeat stopped.
    let path = f
        .dir
        .path()
        .join("exports")
        .join(format!("{}.json", ids[0]));
    let mut status: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let stopped = chrono::Utc::now() - chrono::Duration::minutes(6);
    status["state"] = json!("running");
    status["updated_at"] = json!(stopped);
    std::fs::write(&path, serde_json::to_vec(&status).unwrap()).unwrap();
    let job = get(&f.app, &format!("/exports/{}", ids[0]), VIEWER_A)
        .await
        .json();
    assert_eq!(job["state"], "failed", "{job}");
    assert!(
        job["error"].as_str().unwrap().contains("start it again"),
        "{job}"
    );
    assert_eq!(job["finished_at"], json!(stopped));
    // It no longer holds a slot.
    assert_eq!(
        post(&f.app, VIEWER_A, &json!({})).await.status,
        StatusCode::ACCEPTED
    );
    // A late delivery of it (the queue redelivering after its runner died) does
    // not start it: it stays failed, and no file appears (counted below).
    let late = f.jobs.run(&JobId::parse(&ids[0]).unwrap()).await.unwrap();
    assert_eq!(
        late.state_at(chrono::Utc::now()),
        shared_types::ExportState::Failed
    );

    // Nothing is a day old yet; a day and an hour later everything is.
    let now = chrono::Utc::now();
    assert_eq!(f.jobs.sweep(now).await.unwrap(), 0);
    let run = f.jobs.run(&JobId::parse(&ids[1]).unwrap()).await.unwrap();
    assert_eq!(run.state, shared_types::ExportState::Done);
    let before = files_in(f.dir.path()).len();
    assert_eq!(
        before,
        4 + 1 + 1,
        "four status objects, one file and its claim"
    );
    let later = now + chrono::Duration::hours(25);
    assert_eq!(f.jobs.sweep(later).await.unwrap(), before);
    assert!(files_in(f.dir.path()).is_empty());
    for id in &ids {
        assert_eq!(
            get(&f.app, &format!("/exports/{id}"), VIEWER_A)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}
