//! `POST /exports` to the download: a job's file equals the streamed export.

use super::{files_in, finished, fixture, get, post, VIEWER_A};
use axum::http::{header, StatusCode};
use axum::Router;
use cspm::export::jobs::Runner;
use serde_json::{json, Value};

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
async fn a_job_filtered_by_control_or_resource_exports_exactly_that_view() {
    let f = fixture(Runner::InProcess).await;
    let all = listed_ids(&f.app, "").await;
    // A control and a resource of the store, from its newest finding.
    let newest = get(
        &f.app,
        "/findings/export?format=jsonl&detail=true",
        VIEWER_A,
    )
    .await;
    let first: Value =
        serde_json::from_slice(newest.body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    for key in ["generator", "resource"] {
        let value = first[if key == "generator" {
            "generator_id"
        } else {
            "resource_id"
        }]
        .as_str()
        .unwrap()
        .to_owned();
        let query = serde_urlencoded::to_string([(key, &value)]).unwrap();
        let want = listed_ids(&f.app, &query).await;
        assert!(
            !want.is_empty() && want.len() < all.len(),
            "{key}: {} of {}",
            want.len(),
            all.len()
        );
        // As the dashboard sends its view (ExportFilter of the list's filter).
        let filter = shared_types::FindingFilter::from_pairs([(key, value.as_str())]).unwrap();
        let body = json!({
            "format": "jsonl",
            "filter": shared_types::ExportFilter::from(&filter),
        });
        let started = post(&f.app, VIEWER_A, &body).await;
        assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.json());
        let id = started.json()["id"].as_str().unwrap().to_owned();
        let done = finished(&f.app, &id, VIEWER_A).await;
        assert_eq!(done["state"], "done", "{done}");
        let file = get(&f.app, done["url"].as_str().unwrap(), VIEWER_A).await;
        let got: Vec<String> = file
            .body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_slice::<Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            got, want,
            "{key}: the file holds exactly the view, in its order"
        );
    }
}
