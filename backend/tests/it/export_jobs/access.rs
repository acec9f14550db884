//! Who sees a job: its owner (by `sub`) or an admin; anyone else a 404, an
//! event shipper and the anonymous nothing.

use super::{call, finished, fixture, get, post, ADMIN, ANALYST, INGEST, VIEWER_A, VIEWER_B};
use axum::http::{Method, StatusCode};
use cspm::export::jobs::{JobId, Runner};
use serde_json::json;
use std::sync::Arc;

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
