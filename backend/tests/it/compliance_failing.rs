//! A control's failing findings through
//! `GET /compliance/{slug}/controls/{control_id}/failing`, on the hand-built
//! set of compliance.rs: every one, page by page, in id order; none for
//! controls that do not fail; bad requests named.

use super::compliance::{app, example, get, push};
use super::helpers::anchor;
use axum::http::StatusCode;
use cspm::store::{SqliteStore, Store};
use serde_json::json;
use shared_types::{WorkflowStatus, WorkflowUpdate};
use std::sync::Arc;

/// Every failing finding of a control, page by page: the active findings whose
/// compliance status is FAILED (not the archived or suppressed ones, not the
/// passing ones), each once, in id order, whatever the page size; a control
/// without failures and one nobody knows answer an empty page.
#[tokio::test]
async fn a_controls_failing_findings_are_listed_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let ex = example();
    let mut fs = ex.findings;
    // Enough failures on one control for several pages.
    for i in 0..23 {
        push(&mut fs, "EC2.2", "FAILED", &format!("sg-{i:02}"));
    }
    let mut want: Vec<String> = fs
        .iter()
        .filter(|f| f.control_id.as_deref() == Some("EC2.2"))
        .filter(|f| f.compliance_status.as_deref() == Some("FAILED"))
        .map(|f| f.id.clone())
        .collect();
    want.sort();
    assert_eq!(want.len(), 25);
    store.upsert(&fs).await.unwrap();
    for id in &ex.to_suppress {
        let u = WorkflowUpdate {
            workflow_status: WorkflowStatus::Suppressed,
            note: None,
        };
        store.set_workflow(id, &u, "test", anchor()).await.unwrap();
    }
    let app = app(store.clone());
    for size in [1usize, 7, 25, 1000] {
        let mut got: Vec<String> = Vec::new();
        let mut uri = format!("/compliance/aws-fsbp/controls/EC2.2/failing?limit={size}");
        for _ in 0..30 {
            let (status, body) = get(&app, &uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}: {body}");
            let page: shared_types::FailingFindings = serde_json::from_value(body).unwrap();
            assert!(page.items.len() <= size);
            assert!(page
                .items
                .iter()
                .all(|f| f.workflow_status != WorkflowStatus::Resolved));
            got.extend(page.items.into_iter().map(|f| f.id));
            match page.next_after {
                Some(a) => {
                    uri = format!(
                        "/compliance/aws-fsbp/controls/EC2.2/failing?limit={size}&after={a}"
                    )
                }
                None => break,
            }
        }
        assert_eq!(got, want, "pages of {size}");
    }
    // Suppressed, archived or passing only: nothing fails. A control or a
    // standard nobody stored: an empty page too.
    for control in ["S3.3", "SQS.1", "S3.1", "NOPE.9"] {
        let (status, body) = get(
            &app,
            &format!("/compliance/aws-fsbp/controls/{control}/failing"),
        )
        .await;
        assert_eq!(
            (status, &body["items"]),
            (StatusCode::OK, &json!([])),
            "{control}"
        );
        assert!(body.get("next_after").is_none(), "{body}");
    }
    let (status, body) = get(&app, "/compliance/cis-1.4/controls/EC2.2/failing").await;
    assert_eq!((status, &body["items"]), (StatusCode::OK, &json!([])));
    // A person suppresses one: it leaves the list.
    let u = WorkflowUpdate {
        workflow_status: WorkflowStatus::Suppressed,
        note: None,
    };
    store
        .set_workflow(&want[0], &u, "test", anchor())
        .await
        .unwrap();
    let (_, body) = get(
        &app,
        "/compliance/aws-fsbp/controls/EC2.2/failing?limit=1000",
    )
    .await;
    let page: shared_types::FailingFindings = serde_json::from_value(body).unwrap();
    let ids: Vec<&str> = page.items.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids.len(), 24);
    assert!(!ids.contains(&want[0].as_str()));
    // The store's kept results and a read of every finding agree.
    let read =
        cspm::compliance::failing::read_failing(store.as_ref(), "aws-fsbp", "EC2.2", None, 1000)
            .await
            .unwrap();
    assert_eq!(read, ids);
    // An empty `after` is the first page.
    let (_, body) = get(
        &app,
        "/compliance/aws-fsbp/controls/EC2.2/failing?after=&limit=1",
    )
    .await;
    assert_eq!(body["items"][0]["id"], json!(ids[0]), "{body}");
    // Bad requests name their parameter; bad paths are 404s that echo nothing.
    let long_after = format!(
        "/compliance/aws-fsbp/controls/EC2.2/failing?after={}",
        "a".repeat(1025)
    );
    for (uri, field) in [
        (
            "/compliance/aws-fsbp/controls/EC2.2/failing?limit=0",
            "limit",
        ),
        (
            "/compliance/aws-fsbp/controls/EC2.2/failing?limit=1001",
            "limit",
        ),
        (long_after.as_str(), "after"),
        (
            "/compliance/aws-fsbp/controls/EC2.2/failing?status=NEW",
            "status",
        ),
    ] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["field"], field, "{uri}: {body}");
    }
    for uri in [
        "/compliance/%3Cscript%3E/controls/EC2.2/failing",
        "/compliance/aws-fsbp/controls/a%0Ab/failing",
    ] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert!(!body.to_string().contains("<script>"), "{body}");
    }
}
