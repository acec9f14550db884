use super::*;
use serde_json::json;

#[tokio::test]
async fn ids_unknown_malformed_repeated_or_already_in_the_status_are_each_accounted_for() {
    let f = fixture(40, 0).await;
    let ids: Vec<String> = f.fixtures.iter().take(4).map(|x| x.id.clone()).collect();
    // One of them is NOTIFIED already (through the single-finding route).
    let patch = Request::patch(format!("/findings/{}", ids[3]))
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", token_of(Role::Analyst)),
        )
        .body(Body::from(r#"{"workflow_status":"NOTIFIED"}"#))
        .unwrap();
    assert_eq!(
        f.app.clone().oneshot(patch).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(f.audit_entries(), 1);

    let unknown = "AAAAAAAAAAAAAAAAAAAAAA"; // a short id's shape, no such finding
    let malformed = "../../etc/passwd";
    let body = json!({
        "ids": [ids[0], unknown, ids[1], ids[2], ids[0], malformed, ids[3]],
        "workflow_status": "NOTIFIED",
        "note": "owner paged"
    });
    let (status, answer) = f.post(&body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(counts(&answer), (3, 1, 2));
    assert_eq!(
        answer["failed"],
        json!([
            {"id": unknown, "reason": "no finding with this id"},
            {"id": malformed, "reason": "no finding with this id"},
        ])
    );
    assert_eq!(f.audit_entries(), 1 + 3);
    assert_eq!(f.workflow_changes(), 1 + 3);
    let statuses = f.statuses();
    for id in &ids {
        assert_eq!(statuses[id], "NOTIFIED", "{id}");
    }
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE note = 'owner paged'"),
        3
    );
}

#[tokio::test]
async fn only_analysts_and_admins_may_change_findings_in_bulk() {
    let f = fixture(5, 0).await;
    let body = json!({"ids": [f.fixtures[0].id], "workflow_status": "SUPPRESSED"}).to_string();
    let cases = [
        (None, StatusCode::UNAUTHORIZED),
        (
            Some("cspm_no-such-token".to_string()),
            StatusCode::UNAUTHORIZED,
        ),
        (Some(token_of(Role::Viewer)), StatusCode::FORBIDDEN),
        (Some(token_of(Role::Ingest)), StatusCode::FORBIDDEN),
    ];
    for (bearer, want) in cases {
        let (status, answer) = f.post_as(bearer.as_deref(), body.clone()).await;
        assert_eq!(status, want, "{bearer:?}: {answer}");
    }
    assert_eq!((f.audit_entries(), f.workflow_changes()), (0, 0));
    for role in [Role::Analyst, Role::Admin] {
        let (status, answer) = f.post_as(Some(&token_of(role)), body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{role}: {answer}");
    }
    // The analyst changed it; the admin found it SUPPRESSED already.
    assert_eq!(f.audit_entries(), 1);
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE actor = 'token:analyst-bot'"),
        1
    );
}

#[tokio::test]
async fn bad_bodies_get_4xx_naming_the_field_and_change_nothing() {
    let f = fixture(5, 5).await;
    let id = f.fixtures[0].id.clone();
    let too_many: Vec<String> = (0..1001).map(|i| format!("{i:022}")).collect();
    let cases: Vec<(String, StatusCode, Option<&str>)> = vec![
        (json!({"ids": [id]}).to_string(), StatusCode::BAD_REQUEST, Some("workflow_status")),
        (json!({"ids": [id], "workflow_status": "CLOSED"}).to_string(), StatusCode::BAD_REQUEST, Some("workflow_status")),
        (json!({"workflow_status": "NEW"}).to_string(), StatusCode::BAD_REQUEST, Some("ids")),
        (json!({"ids": too_many, "workflow_status": "NEW"}).to_string(), StatusCode::BAD_REQUEST, Some("ids")),
        (json!({"ids": [id], "filter": {}, "workflow_status": "NEW"}).to_string(), StatusCode::BAD_REQUEST, Some("filter")),
        (json!({"filter": {"account": ACCOUNT}, "workflow_status": "NEW"}).to_string(), StatusCode::BAD_REQUEST, Some("expected_total")),
        (json!({"filter": {"severity": "SEVERE"}, "expected_total": 1, "workflow_status": "NEW"}).to_string(), StatusCode::BAD_REQUEST, Some("filter.severity")),
        (json!({"filter": {"colour": "red"}, "expected_total": 1, "workflow_status": "NEW"}).to_string(), StatusCode::BAD_REQUEST, Some("filter.colour")),
        (json!({"ids": [id], "workflow_status": "NEW", "note": "n".repeat(2001)}).to_string(), StatusCode::BAD_REQUEST, Some("note")),
        (json!({"ids": [id], "workflow_status": "NEW", "everything": true}).to_string(), StatusCode::BAD_REQUEST, Some("everything")),
        ("[1, 2]".to_string(), StatusCode::BAD_REQUEST, None),
        ("{".to_string(), StatusCode::BAD_REQUEST, None),
        (format!("{{\"ids\":[\"{}\"],\"workflow_status\":\"NEW\"}}", "x".repeat(70_000)), StatusCode::PAYLOAD_TOO_LARGE, None),
    ];
    for (body, want, field) in cases {
        let shown: String = body.chars().take(80).collect();
        let (status, answer) = f.post_as(Some(&token_of(Role::Analyst)), body).await;
        assert_eq!(status, want, "{shown}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], field, "{shown}: {answer}");
        }
    }
    assert_eq!((f.audit_entries(), f.workflow_changes()), (0, 0));
}

#[tokio::test]
async fn a_status_the_provider_set_is_taken_over_like_patch_and_then_kept() {
    let f = fixture(10, 0).await;
    // The provider reports the finding NOTIFIED itself (no person set it).
    let mut provider = f.fixtures[5].clone();
    provider.workflow_status = WorkflowStatus::Notified;
    provider.updated_at += chrono::Duration::minutes(1);
    f.flaky
        .upsert(std::slice::from_ref(&provider))
        .await
        .unwrap();
    assert_eq!(f.statuses()[&provider.id], "NOTIFIED");
    // The analyst's bulk NOTIFIED with a note is recorded, as a PATCH would be.
    let body = json!({"ids": [provider.id], "workflow_status": "NOTIFIED", "note": "SEC-12"});
    let (status, answer) = f.post(&body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(counts(&answer), (1, 0, 0));
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE note = 'SEC-12'"),
        1
    );
    // Now it is a person's decision: the provider's next plain NEW does not undo
    // it, and the same request again changes nothing.
    let mut next = provider.clone();
    next.workflow_status = WorkflowStatus::New;
    next.updated_at += chrono::Duration::minutes(1);
    f.flaky.upsert(&[next]).await.unwrap();
    assert_eq!(f.statuses()[&provider.id], "NOTIFIED");
    let (_, again) = f.post(&body).await;
    assert_eq!(counts(&again), (0, 1, 0));
    assert_eq!(
        f.count("SELECT COUNT(*) FROM audit WHERE note = 'SEC-12'"),
        1
    );
}
