//! Reading and changing findings through the router: filters, paging, the
//! detail, PATCH with its audit record, summary, health and OpenAPI.

use super::*;

#[tokio::test]
async fn findings_filtered_by_critical_return_only_critical_newest_first() {
    let t = app().await;
    let (status, body) = get(&t.app, "/findings?severity=CRITICAL&limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    let page: FindingPage = serde_json::from_value(body).unwrap();
    let expected = t
        .fixtures
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    assert!(expected > 0);
    assert_eq!(page.items.len(), expected);
    assert!(page.items.iter().all(|i| i.severity == Severity::Critical));
    assert!(page
        .items
        .windows(2)
        .all(|w| w[0].updated_at >= w[1].updated_at));
    assert!(page.next_cursor.is_none());
    let item = serde_json::to_value(&page.items[0]).unwrap();
    for key in [
        "id",
        "asff_id",
        "severity",
        "title",
        "workflow_status",
        "account_id",
        "region",
        "resource_type",
        "resource_id",
        "product_name",
        "created_at",
        "updated_at",
    ] {
        assert!(item.get(key).is_some(), "list item lacks {key}");
    }
}

#[tokio::test]
async fn every_page_carries_the_total_of_its_view() {
    let t = app().await;
    let critical = t
        .fixtures
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count() as u64;
    let (status, body) = get(&t.app, "/findings?severity=CRITICAL&limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], critical, "{body}");
    assert_eq!(body["total_is_exact"], true);
    let page: FindingPage = serde_json::from_value(body).unwrap();
    let (_, body) = get(
        &t.app,
        &format!(
            "/findings?severity=CRITICAL&limit=2&cursor={}",
            page.next_cursor.unwrap()
        ),
    )
    .await;
    assert_eq!(
        body["total"], critical,
        "the second page counts the whole view"
    );
    let (_, body) = get(&t.app, "/findings?q=no-such-text-anywhere").await;
    assert_eq!(
        (body["total"].as_u64(), body["total_is_exact"].as_bool()),
        (Some(0), Some(true))
    );
}

#[tokio::test]
async fn a_search_matching_only_old_findings_counts_what_its_first_page_holds() {
    // 1,500 findings: the count's bounded read of the newest ones meets none of
    // the 20 oldest, which alone hold the text.
    let mut fixtures = findings(1500, 12);
    fixtures.sort_by_key(|f| f.updated_at);
    for f in &mut fixtures[..20] {
        f.title = format!("needle-old {}", f.title);
    }
    let t = app_of(fixtures, HttpConfig::default()).await;
    let (_, body) = get(&t.app, "/findings?q=needle-old").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 20);
    assert_eq!(
        (body["total"].as_u64(), body["total_is_exact"].as_bool()),
        (Some(20), Some(true)),
        "the first page is the whole view: {}",
        body["total"]
    );
    // A first page with more after it: never fewer than its rows.
    let (_, body) = get(&t.app, "/findings?q=needle-old&limit=5").await;
    assert!(body["next_cursor"].is_string());
    assert!(body["total"].as_u64().unwrap() >= 5, "{}", body["total"]);
}

#[tokio::test]
async fn paging_with_the_cursor_walks_every_finding() {
    let t = app().await;
    let mut uri = "/findings?limit=64".to_string();
    let mut seen = std::collections::HashSet::new();
    loop {
        let (status, body) = get(&t.app, &uri).await;
        assert_eq!(status, StatusCode::OK);
        let page: FindingPage = serde_json::from_value(body).unwrap();
        for i in page.items {
            assert!(seen.insert(i.id));
        }
        match page.next_cursor {
            Some(c) => uri = format!("/findings?limit=64&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), t.fixtures.len());
}

#[tokio::test]
async fn bad_query_parameters_get_400_naming_the_field() {
    let t = app().await;
    let cases = [
        ("/findings?limit=0", "limit"),
        ("/findings?limit=1001", "limit"),
        ("/findings?limit=ten", "limit"),
        ("/findings?severity=SEVERE", "severity"),
        ("/findings?status=DONE", "status"),
        ("/findings?status=", "status"),
        ("/findings/export?status=", "status"),
        ("/findings?severity=HIGH,", "severity"),
        ("/findings?severity=HIGH&severity=", "severity"),
        ("/findings?severity=%20HIGH", "severity"),
        ("/findings?since=yesterday", "since"),
        ("/findings?since=2024-02-01&until=2024-01-01", "since"),
        ("/findings?cursor=not-a-cursor", "cursor"),
        ("/findings?colour=red", "colour"),
    ];
    for (uri, field) in cases {
        let (status, body) = get(&t.app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(body["error"]["code"].is_string(), "{uri}: {body}");
        assert_eq!(body["error"]["field"], field, "{uri}");
    }
}

#[tokio::test]
async fn no_bad_input_causes_a_server_error() {
    let t = app().await;
    let nasty = [
        "/findings?q=%00%01",
        "/findings?q=%27%3B%20DROP%20TABLE%20findings%3B--",
        "/findings?q=%25%25%25",
        "/findings?limit=99999999999999999999",
        "/findings?cursor=%FF%FE",
        "/findings?severity=,,,",
        "/findings?%zz",
        "/findings/..%2F..%2Fetc%2Fpasswd",
        "/findings/%00",
        "/findings/AAAAAAAAAAAAAAAAAAAAAA",
        &format!("/findings?q={}", "a".repeat(5000)),
        "/findings/a/b",
        // Not UTF-8 once decoded: our error body, not axum's plain text.
        "/findings/%FF",
        "/compliance/%FF",
        "/exports/%C3%28",
    ];
    for uri in nasty {
        let (status, body) = get(&t.app, uri).await;
        // Odd but valid text (quotes, LIKE wildcards) is just a search: 200, no rows.
        if status == StatusCode::OK {
            assert!(body["items"].is_array(), "{uri}: {body}");
            continue;
        }
        assert!(status.is_client_error(), "{uri} gave {status}");
        assert!(body["error"]["code"].is_string(), "{uri}: {body}");
    }
    let (_, body) = get(&t.app, "/findings?q=%27%3B%20DROP%20TABLE%20findings%3B--").await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        get(&t.app, "/summary").await.1["total"],
        t.fixtures.len(),
        "table intact"
    );
}

#[tokio::test]
async fn one_finding_has_raw_document_and_remediation_and_unknown_is_404() {
    let t = app().await;
    let f = &t.fixtures[3];
    let (status, body) = get(&t.app, &format!("/findings/{}", f.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], f.id.as_str());
    assert_eq!(body["asff_id"], f.asff_id.as_str());
    assert_eq!(body["raw"]["Id"], f.asff_id.as_str());
    assert!(body["remediation_text"].is_string());
    assert!(body["audit"].as_array().is_some_and(|a| a.is_empty()));
    let (status, body) = get(&t.app, "/findings/AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found", None);
}

#[tokio::test]
async fn patch_changes_status_with_an_audit_record() {
    let t = app().await;
    let f = &t.fixtures[5];
    let req = Request::patch(format!("/findings/{}", f.id))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"workflow_status": "RESOLVED", "note": "bucket made private"}).to_string(),
        ))
        .unwrap();
    let (status, _, body) = send(&t.app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["workflow_status"], "RESOLVED");
    let (_, body) = get(&t.app, &format!("/findings/{}", f.id)).await;
    assert_eq!(body["workflow_status"], "RESOLVED");
    assert_eq!(body["audit"][0]["to_status"], "RESOLVED");
    assert_eq!(body["audit"][0]["note"], "bucket made private");
    assert_eq!(body["audit"][0]["actor"], "local");
}

#[tokio::test]
async fn summary_health_and_openapi_answer() {
    let t = app().await;
    let (status, s) = get(&t.app, "/summary").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["total"], t.fixtures.len());
    let crit = t
        .fixtures
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    assert_eq!(s["by_severity"]["CRITICAL"], crit);
    assert_eq!(s["trend"].as_array().unwrap().len(), 30);
    let (status, h) = get(&t.app, "/health").await;
    assert_eq!((status, h["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, doc) = get(&t.app, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for p in ["/findings", "/findings/{id}", "/summary", "/health"] {
        assert!(doc["paths"].get(p).is_some(), "openapi lacks {p}");
    }
    assert!(doc["paths"]["/findings/{id}"].get("patch").is_some());
    let (status, _) = get(&t.app, "/api/summary").await;
    assert_eq!(status, StatusCode::OK, "API is also mounted under /api");
}
