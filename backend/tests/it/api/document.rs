//! The served OpenAPI document against the server: every reference resolves,
//! and the errors the server gives for bad input are the documented ones, in the
//! documented body (the full comparison is scripts/test_api_schema.sh with
//! schemathesis; these pin the cases it found).

use super::{app, assert_error, get, send};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::Value;

/// Every `$ref` string anywhere under `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// The statuses documented for `method path`.
fn documented(doc: &Value, path: &str, method: &str) -> Vec<String> {
    doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_reference_in_the_document_resolves() {
    let t = app().await;
    let (status, doc) = get(&t.app, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 20, "{} references", found.len());
    for r in found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
}

/// schemathesis picks operations by `operationId` (scripts/schemathesis.toml):
/// two handlers of one name would share its settings, and OpenAPI requires
/// the ids to be unique.
#[tokio::test]
async fn every_operation_id_is_unique() {
    let t = app().await;
    let (_, doc) = get(&t.app, "/openapi.json").await;
    let mut seen = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            if let Some(other) = seen.insert(id.to_string(), format!("{method} {path}")) {
                panic!("operationId {id} names both {other} and {method} {path}");
            }
        }
    }
    assert!(seen.len() > 20, "{} operations", seen.len());
}

#[tokio::test]
async fn errors_for_bad_input_are_documented_with_the_error_body() {
    let t = app().await;
    let (_, doc) = get(&t.app, "/openapi.json").await;
    let id = t.fixtures[0].id.clone();

    // A workflow change, one or many, that is not JSON: 415.
    for (method, path, documented_as) in [
        ("PATCH", format!("/findings/{id}"), "/findings/{id}"),
        (
            "POST",
            "/findings/workflow".to_string(),
            "/findings/workflow",
        ),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(&path)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("RESOLVED"))
            .unwrap();
        let (status, _, body) = send(&t.app, req).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{method} {path}"
        );
        assert_error(&body, "unsupported_media_type", None);
        let method = method.to_ascii_lowercase();
        assert!(
            documented(&doc, documented_as, &method).contains(&"415".into()),
            "{method} {documented_as}"
        );
    }

    // A plain GET of the live socket: not a handshake, 400 in our body (axum
    // alone answers plain text).
    let (status, body) = get(&t.app, "/live").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "not_a_websocket_handshake", None);
    assert!(documented(&doc, "/live", "get").contains(&"400".into()));

    // A JSON scalar is neither a document nor a batch: 400; an array with a
    // non-document in it is a batch whose element is rejected by itself.
    for scalar in ["42", "null", "\"text\""] {
        let req = Request::post("/events")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(scalar))
            .unwrap();
        let (status, _, body) = send(&t.app, req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{scalar}");
        assert_error(&body, "invalid_body", None);
    }
    let req = Request::post("/events")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("[null]"))
        .unwrap();
    let (status, _, body) = send(&t.app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rejected"].as_array().map(Vec::len), Some(1), "{body}");

    // Sign-in routes on a server without sign-in: 404, documented — but the
    // session the dashboard asks for on every load, which answers 204.
    for (path, method) in [
        ("/auth/login", "get"),
        ("/auth/callback", "get"),
        ("/auth/logout", "post"),
    ] {
        assert!(
            documented(&doc, path, method).contains(&"404".into()),
            "{method} {path}"
        );
    }
    let (status, body) = get(&t.app, "/auth/login").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found", None);
    assert!(documented(&doc, "/auth/session", "get").contains(&"204".into()));
    let req = Request::get("/auth/session").body(Body::empty()).unwrap();
    let (status, headers, _) = send(&t.app, req).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn the_filters_are_described_as_the_parser_reads_them() {
    let t = app().await;
    let (_, doc) = get(&t.app, "/openapi.json").await;
    for path in ["/findings", "/findings/export"] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let param = |name: &str| {
            params
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{path} lacks {name}"))
                .clone()
        };
        let severity = param("severity");
        assert_eq!(severity["explode"], false, "{severity}");
        assert_eq!(severity["schema"]["type"], "array", "{severity}");
        assert_eq!(param("q")["schema"]["maxLength"], 256);
        let since = param("since");
        let formats: Vec<&Value> = since["schema"]["anyOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{since}"))
            .iter()
            .map(|s| &s["format"])
            .collect();
        assert!(formats.contains(&&Value::from("date-time")), "{since}");
        assert!(formats.contains(&&Value::from("date")), "{since}");
    }
    let cursor = doc["paths"]["/findings"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "cursor")
        .unwrap()
        .clone();
    assert_eq!(cursor["schema"]["minLength"], 1, "{cursor}");
    // An empty cursor is refused, as documented.
    let (status, body) = get(&t.app, "/findings?cursor=").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid_parameter", Some("cursor"));
}
