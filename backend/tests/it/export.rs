//! Exports through the API and the real `cspm export` binary, on the corpus'
//! Security Hub findings plus a finding with a spreadsheet formula for a title.

use super::helpers::{corpus_dir, findings};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use cspm::http::{router, AppState, HttpConfig};
use cspm::ingest::ingest_paths;
use cspm::store::{SqliteStore, Store};
use http_body_util::BodyExt;
use indicatif::ProgressBar;
use serde_json::Value;
use std::io::Read;
use std::process::Command;
use std::sync::Arc;
use tower::ServiceExt;

/// The CSV columns the issue names, written out here rather than taken from the code.
const EXPECTED_COLUMNS: [&str; 17] = [
    "id",
    "asff_id",
    "severity",
    "workflow_status",
    "compliance_status",
    "title",
    "account_id",
    "region",
    "resource_type",
    "resource_id",
    "product_name",
    "generator_id",
    "created_at",
    "updated_at",
    "first_observed_at",
    "last_observed_at",
    "remediation_url",
];

const FORMULA_TITLE: &str = "=HYPERLINK(\"x\")";

struct Exported {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

struct TestApp {
    app: Router,
    dir: tempfile::TempDir,
    /// Id of the finding whose title is a formula.
    formula_id: String,
}

/// The corpus' ASFF findings and 40 demo findings (one titled with a formula) in a
/// temp SQLite store, behind the router.
async fn app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let pipeline = super::helpers::pipeline(store.clone());
    let paths = [
        corpus_dir().join("asff"),
        corpus_dir().join("asff-envelope"),
    ];
    let report = ingest_paths(&pipeline, &paths, &ProgressBar::hidden())
        .await
        .unwrap();
    assert!(report.outcome.stored > 40, "{:?}", report.outcome);
    let mut demo = findings(40, 5);
    demo[0].title = FORMULA_TITLE.into();
    let formula_id = demo[0].id.clone();
    store.upsert(&demo).await.unwrap();
    TestApp {
        app: router(AppState::new(pipeline, HttpConfig::default())),
        dir,
        formula_id,
    }
}

async fn get(app: &Router, uri: &str, gzip: bool) -> Exported {
    let mut req = Request::get(uri);
    if gzip {
        req = req.header(header::ACCEPT_ENCODING, "gzip");
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    Exported {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    }
}

/// Every list item `GET /findings?<filter>` pages through, in order.
async fn listed(app: &Router, filter: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut uri = format!("/findings?{filter}&limit=7");
        if let Some(c) = &cursor {
            uri.push_str(&format!("&cursor={c}"));
        }
        let page: Value = serde_json::from_slice(&get(app, &uri, false).await.body).unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn csv_rows(body: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(body);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader.records().map(|r| r.unwrap()).collect();
    (header, rows)
}

fn jsonl(body: &[u8]) -> Vec<Value> {
    std::str::from_utf8(body)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn csv_export_is_every_listed_finding_in_order_with_the_issues_columns() {
    let t = app().await;
    let all = listed(&t.app, "").await;
    let out = get(&t.app, "/findings/export", false).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    // Streamed: no length known up front, so HTTP/1.1 sends it chunked.
    assert!(
        !out.headers.contains_key(header::CONTENT_LENGTH),
        "a streamed body has no Content-Length"
    );
    let disposition = out.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    let name = disposition
        .strip_prefix("attachment; filename=\"cspm-findings-")
        .and_then(|r| r.strip_suffix(".csv\""))
        .unwrap_or_else(|| panic!("{disposition}"));
    assert!(
        chrono::NaiveDateTime::parse_from_str(name, "%Y%m%dT%H%M%SZ").is_ok(),
        "{disposition}"
    );
    assert!(std::str::from_utf8(&out.body).unwrap().contains("\r\n"));

    let (header, rows) = csv_rows(&out.body);
    assert_eq!(header, EXPECTED_COLUMNS);
    assert!(rows.iter().all(|r| r.len() == EXPECTED_COLUMNS.len()));
    let exported: Vec<String> = rows.iter().map(|r| r[0].to_string()).collect();
    // Short ids are base64url: one starting with `-` is neutralised like any cell.
    let expected: Vec<String> = ids(&all)
        .into_iter()
        .map(|id| {
            if id.starts_with('-') {
                format!("'{id}")
            } else {
                id
            }
        })
        .collect();
    assert_eq!(exported, expected);
    for (row, item) in rows.iter().zip(&all) {
        assert_eq!(row[2], item["severity"], "{row:?}");
        assert_eq!(row[6], item["account_id"], "{row:?}");
        assert_eq!(row[9].trim_start_matches('\''), item["resource_id"]);
    }
    let formula = rows.iter().find(|r| r[0] == *t.formula_id).unwrap();
    assert_eq!(&formula[5], "'=HYPERLINK(\"x\")");
}

#[tokio::test]
async fn filters_apply_to_every_format_and_jsonl_lines_are_the_list_items() {
    let t = app().await;
    let filter = "severity=CRITICAL,HIGH&status=NEW";
    let expected = listed(&t.app, filter).await;
    let total = listed(&t.app, "").await.len();
    assert!(!expected.is_empty() && expected.len() < total);

    let lines = jsonl(
        &get(
            &t.app,
            &format!("/findings/export?{filter}&format=jsonl"),
            false,
        )
        .await
        .body,
    );
    assert_eq!(lines, expected);

    let (_, rows) = csv_rows(
        &get(&t.app, &format!("/findings/export?{filter}"), false)
            .await
            .body,
    );
    assert_eq!(rows.len(), expected.len());
    assert!(rows
        .iter()
        .all(|r| matches!(&r[2], "CRITICAL" | "HIGH") && &r[3] == "NEW"));

    let detail = get(
        &t.app,
        &format!("/findings/export?{filter}&format=jsonl&detail=true"),
        false,
    )
    .await;
    assert_eq!(detail.headers[header::CONTENT_TYPE], "application/x-ndjson");
    let whole = jsonl(&detail.body);
    assert_eq!(ids(&whole), ids(&expected));
    for f in &whole {
        let finding: shared_types::Finding = serde_json::from_value(f.clone()).unwrap();
        assert!(!finding.raw.is_null(), "{}", finding.id);
    }
}

#[tokio::test]
async fn gzip_is_used_when_accepted_and_bad_options_are_400s_naming_the_field() {
    let t = app().await;
    let plain = get(&t.app, "/findings/export?format=jsonl", false).await;
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    let zipped = get(&t.app, "/findings/export?format=jsonl", true).await;
    assert_eq!(zipped.status, StatusCode::OK);
    assert_eq!(zipped.headers[header::CONTENT_ENCODING], "gzip");
    assert!(zipped.headers.contains_key(header::CONTENT_DISPOSITION));
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped.body[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.body);
    assert!(zipped.body.len() < plain.body.len());

    for (q, field) in [
        ("format=xlsx", "format"),
        ("limit=10", "limit"),
        ("format=csv&raw=true", "raw"),
        ("severity=URGENT", "severity"),
    ] {
        let out = get(&t.app, &format!("/findings/export?{q}"), false).await;
        assert_eq!(out.status, StatusCode::BAD_REQUEST, "{q}");
        let body: Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(body["error"]["field"], field, "{q}: {body}");
    }
}

#[tokio::test]
async fn ocsf_export_loads_as_detection_findings_and_keeps_what_identifies_a_finding() {
    let t = app().await;
    let all = listed(&t.app, "").await;
    let out = get(&t.app, "/findings/export?format=ocsf&raw=true", false).await;
    assert_eq!(out.status, StatusCode::OK);
    let lines = jsonl(&out.body);
    assert_eq!(lines.len(), all.len());
    let severity_ids = [
        ("INFORMATIONAL", 1),
        ("LOW", 2),
        ("MEDIUM", 3),
        ("HIGH", 4),
        ("CRITICAL", 5),
    ];
    let status_ids = [
        ("NEW", 1),
        ("NOTIFIED", 2),
        ("SUPPRESSED", 3),
        ("RESOLVED", 4),
    ];
    let id_of = |table: &[(&str, u64)], name: &Value| {
        table
            .iter()
            .find(|(n, _)| name == *n)
            .map(|(_, i)| *i)
            .unwrap()
    };
    for (line, item) in lines.iter().zip(&all) {
        assert_eq!(line["class_uid"], 2004);
        assert_eq!(line["category_uid"], 2);
        assert!(
            matches!(line["type_uid"].as_u64(), Some(200401 | 200402)),
            "{line}"
        );
        assert_eq!(line["finding_info"]["uid"], item["id"]);
        assert_eq!(line["severity_id"], id_of(&severity_ids, &item["severity"]));
        assert_eq!(
            line["status_id"],
            id_of(&status_ids, &item["workflow_status"])
        );
        assert_eq!(line["cloud"]["account"]["uid"], item["account_id"]);
        assert_eq!(line["cloud"]["region"], item["region"]);
        assert_eq!(line["cloud"]["provider"], "AWS");
        assert!(line["unmapped"]["original"].is_object(), "{line}");
    }
    let file = t.dir.path().join("export.ocsf.jsonl");
    std::fs::write(&file, &out.body).unwrap();
    let Ok(python) = std::env::var("CSPM_TEST_PYTHON") else {
        eprintln!("skipped the py-ocsf-models check: CSPM_TEST_PYTHON is not set (run under scripts/with_moto.sh)");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/check_ocsf.py");
    let run = Command::new(python)
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{text}");
    assert!(text.contains(&format!("{} valid", all.len())), "{text}");
}

#[tokio::test]
async fn the_cli_writes_the_same_bytes_the_api_streams() {
    let t = app().await;
    let data = t.dir.path().to_str().unwrap();
    // A control and a resource of the store (the CSV's generator_id and
    // resource_id of its first HIGH row), for the view filters the dashboard has too.
    let (_, high) = csv_rows(
        &get(&t.app, "/findings/export?severity=HIGH", false)
            .await
            .body,
    );
    let generator = high[0][11].to_string();
    let resource = high[0][9].trim_start_matches('\'').to_string();
    let by_generator = format!(
        "format=jsonl&{}",
        serde_urlencoded::to_string([("generator", &generator)]).unwrap()
    );
    let by_resource = serde_urlencoded::to_string([("resource", &resource)]).unwrap();
    for (format, flags, query) in [
        ("csv", vec!["--severity", "HIGH"], "severity=HIGH"),
        (
            "jsonl",
            vec!["--generator", &generator],
            by_generator.as_str(),
        ),
        ("csv", vec!["--resource", &resource], by_resource.as_str()),
        (
            "jsonl",
            vec!["--account", "123456789012"],
            "format=jsonl&account=123456789012",
        ),
        ("ocsf", vec!["--q", "s3"], "format=ocsf&q=s3"),
    ] {
        let target = t.dir.path().join(format!("out.{format}"));
        let out = Command::new(env!("CARGO_BIN_EXE_cspm"))
            .args(["export", "--data-dir", data, "--format", format])
            .args(&flags)
            .args(["--output", target.to_str().unwrap()])
            .env_remove("CSPM_STORE")
            .env_remove("CSPM_DATA_DIR")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let api = get(&t.app, &format!("/findings/export?{query}"), false)
            .await
            .body;
        let file = std::fs::read(&target).unwrap();
        assert_eq!(file, api, "{format}");
        let n = if format == "csv" {
            csv_rows(&file).1.len()
        } else {
            jsonl(&file).len()
        };
        assert!(n > 0, "{format}: the filter selects nothing");
        assert!(
            stderr.contains(&format!("exported {n} findings")),
            "{stderr}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_cspm"))
        .args(["export", "--data-dir", data, "--severity", "URGENT"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--severity"));
}
