//! `POST /exports`, `GET /exports/{id}` and its download through the router.

use super::{
    call, finished, fixture, get, post, RecordingQueue, ADMIN, ANALYST, INGEST, VIEWER_A, VIEWER_B,
};
use axum::http::{header, Method, StatusCode};
use axum::Router;
use cspm::export::jobs::{JobId, Runner};
use serde_json::{json, Value};
use std::sync::Arc;

/// Every id `GET /findings?<filter>` pages through.
async fn listed_ids(app: &Router, filter: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get(
            app,
            &format!("/findings?{filter}&limit=13{cursor}"),
            VIEWER_A,
        )
        .await
        .json();
        for item in page["items"].as_array().unwrap() {
            ids.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return ids,
        }
    }
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("exports"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_job_runs_to_done_and_its_file_is_byte_for_byte_the_streamed_export() {
    let f = fixture(Runner::InProcess).await;
    let query = "severity=CRITICAL,HIGH&status=NEW";
    let ids = listed_ids(&f.app, query).await;
    let all = listed_ids(&f.app, "").await;
    assert!(
        !ids.is_empty() && ids.len() < all.len(),
        "{} of {}",
        ids.len(),
        all.len()
    );
    for (format, options, ext) in [
        ("csv", "", "csv"),
        ("jsonl", "&detail=true", "jsonl"),
        ("ocsf", "&raw=true", "ocsf.jsonl"),
    ] {
        let body = json!({
            "format": format,
            "filter": {"severity": ["CRITICAL", "HIGH"], "status": ["NEW"]},
            "detail": format == "jsonl",
            "raw": format == "ocsf",
        });
        let started = post(&f.app, VIEWER_A, &body).await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.json());
        let job = started.json();
        let id = job["id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 32, "{job}");
        assert_eq!(
            (&job["state"], &job["format"]),
            (&json!("running"), &json!(format))
        );
        assert!(job.get("url").is_none(), "{job}");

        let done = finished(&f.app, &id, VIEWER_A).await;
        assert_eq!(done["state"], "done", "{done}");
        assert_eq!(done["count"], json!(ids.len()), "{format}: {done}");
        assert_eq!(done["url"], json!(format!("/exports/{id}/download")));
        assert!(done["finished_at"].is_string() && done.get("error").is_none());

        let file = get(&f.app, done["url"].as_str().unwrap(), VIEWER_A).await;
        let streamed = get(
            &f.app,
            &format!("/findings/export?{query}&format={format}{options}"),
            VIEWER_A,
        )
        .await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(streamed.status, StatusCode::OK);
        assert!(
            file.body == streamed.body,
            "{format}: the job's file differs from the streamed export"
        );
        assert_eq!(done["bytes"], json!(file.body.len()));
        assert_eq!(
            file.headers[header::CONTENT_TYPE],
            streamed.headers[header::CONTENT_TYPE]
        );
        assert_eq!(file.headers[header::CACHE_CONTROL], "no-store");
        let disposition = file.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        let stamp = disposition
            .strip_prefix("attachment; filename=\"cspm-findings-")
            .and_then(|r| r.strip_suffix(&format!(".{ext}\"")))
            .unwrap_or_else(|| panic!("{disposition}"));
        assert!(
            chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").is_ok(),
            "{disposition}"
        );
        // The same job under the /api mount; the file and its status on disk,
        // nothing partial left behind.
        let again = get(&f.app, &format!("/api/exports/{id}"), VIEWER_A).await;
        assert_eq!(again.json()["state"], "done");
        let names = files_in(f.dir.path());
        assert!(names.contains(&format!("{id}.{ext}")), "{names:?}");
        assert!(names.contains(&format!("{id}.json")), "{names:?}");
        assert!(
            !names
                .iter()
                .any(|n| n.ends_with(".partial") || n.starts_with(".tmp-")),
            "{names:?}"
        );
    }

    // The CSV's data rows are the listed ids in order (formula cells neutralised).
    let job = post(
        &f.app,
        VIEWER_A,
        &json!({"filter": {"severity": ["CRITICAL", "HIGH"], "status": ["NEW"]}}),
    )
    .await
    .json();
    let done = finished(&f.app, job["id"].as_str().unwrap(), VIEWER_A).await;
    assert_eq!(done["format"], "csv", "csv is the default");
    let file = get(&f.app, done["url"].as_str().unwrap(), VIEWER_A).await;
    let mut reader = csv::Reader::from_reader(&file.body[..]);
    let rows: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].trim_start_matches('\'').to_owned())
        .collect();
    assert_eq!(rows, ids);
}

#[tokio::test]
async fn the_whole_store_exports_when_no_filter_is_given() {
    let f = fixture(Runner::InProcess).await;
    let all = listed_ids(&f.app, "").await;
    let job = post(&f.app, VIEWER_A, &json!({"format": "jsonl"}))
        .await
        .json();
    let done = finished(&f.app, job["id"].as_str().unwrap(), VIEWER_A).await;
    assert_eq!(done["count"], json!(all.len()));
    let file = get(&f.app, done["url"].as_str().unwrap(), VIEWER_A).await;
    let lines: Vec<String> = std::str::from_utf8(&file.body)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(lines, all);
}

#[tokio::test]
async fn only_the_owner_or_an_admin_sees_a_job_and_anything_else_is_404() {
    let f = fixture(Runner::InProcess).await;
    let job = post(
        &f.app,
        VIEWER_A,
        &json!({"filter": {"severity": ["CRITICAL"]}}),
    )
    .await
    .json();
    let id = job["id"].as_str().unwrap().to_owned();
    finished(&f.app, &id, VIEWER_A).await;
    let status = format!("/exports/{id}");
    let download = format!("/exports/{id}/download");

    let unknown = get(&f.app, &format!("/exports/{}", JobId::random()), VIEWER_A).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["error"]["code"], "not_found");
    for other in [VIEWER_B, ANALYST] {
        for path in [&status, &download] {
            let a = get(&f.app, path, other).await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
            // Indistinguishable from an id that names nothing.
            assert_eq!(a.json(), unknown.json(), "{path}");
        }
    }
    for who in [VIEWER_A, ADMIN] {
        assert_eq!(get(&f.app, &status, who).await.status, StatusCode::OK);
        assert_eq!(get(&f.app, &download, who).await.status, StatusCode::OK);
    }
    for bad in [
        "nope",
        "0123456789ABCDEF0123456789ABCDEF",
        "..%2F..%2Fcspm.db",
    ] {
        assert_eq!(
            get(&f.app, &format!("/exports/{bad}"), VIEWER_A)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
        assert_eq!(
            get(&f.app, &format!("/exports/{bad}/download"), ADMIN)
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }
    // The route's role: a reader's; an event shipper may not export.
    let shipper = post(&f.app, INGEST, &json!({})).await;
    assert_eq!(shipper.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&f.app, &status, INGEST).await.status,
        StatusCode::FORBIDDEN
    );
    let anonymous = call(&f.app, Method::GET, &status, None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let anonymous = call(&f.app, Method::POST, "/exports", None, Some("{}")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

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

#[tokio::test]
async fn a_person_owns_their_jobs_by_sub_whatever_their_label() {
    use cspm::auth::{Principal, Role};
    use cspm::export::jobs::{JobError, JobSpec};
    let f = fixture(Runner::Queue(Arc::new(super::RecordingQueue::default()))).await;
    let spec = JobSpec {
        filter: Default::default(),
        format: shared_types::ExportFileFormat::Csv,
        detail: false,
        raw: false,
    };
    let ana = Principal::person("sub-ana", Some("ana@example.com"), Role::Viewer);
    let job = f.jobs.start(&ana, &spec).await.unwrap();
    assert_eq!(job.owner, "sub-ana");
    // Her e-mail changed since (a new sign-in, a new label): still hers.
    let renamed = Principal::person("sub-ana", Some("ana@new.example.com"), Role::Viewer);
    assert_eq!(f.jobs.get(&renamed, &job.id).await.unwrap().id, job.id);
    // Someone else with the same label is someone else.
    let namesake = Principal::person("sub-other", Some("ana@example.com"), Role::Viewer);
    assert!(matches!(
        f.jobs.get(&namesake, &job.id).await,
        Err(JobError::NotFound)
    ));
}
