use super::*;
use serde_json::json;

fn by_account(expected_total: u64) -> Value {
    json!({
        "filter": {"account": ACCOUNT},
        "expected_total": expected_total,
        "workflow_status": "RESOLVED",
        "note": "fixed by the platform team"
    })
}

#[tokio::test]
async fn ten_thousand_findings_by_filter_get_ten_thousand_audit_entries_and_change_records() {
    let f = fixture(12_000, 10_000).await;
    let in_account = format!("SELECT COUNT(*) FROM findings WHERE account_id = '{ACCOUNT}'");
    assert_eq!(f.count(&in_account), 10_000);
    assert_eq!((f.audit_entries(), f.workflow_changes()), (0, 0));

    let (status, body) = f.post(&by_account(10_000)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (10_000, 0, 0));
    assert_eq!(f.audit_entries(), 10_000);
    assert_eq!(f.workflow_changes(), 10_000);
    // One of each per finding, each naming the person, the note and the move.
    assert_eq!(
        f.count(&format!(
            "SELECT COUNT(DISTINCT a.finding_id) FROM audit a JOIN findings f ON f.id = a.finding_id \
             WHERE f.account_id = '{ACCOUNT}' AND a.actor = 'token:analyst-bot' \
             AND a.from_status = 'NEW' AND a.to_status = 'RESOLVED' AND a.note = 'fixed by the platform team'"
        )),
        10_000
    );
    assert_eq!(
        f.count(
            "SELECT COUNT(DISTINCT finding_id) FROM changes WHERE kind = 'workflow_changed' \
             AND actor = 'token:analyst-bot' AND status_before = 'NEW'"
        ),
        10_000
    );
    let statuses = f.statuses();
    for id in f.selected() {
        assert_eq!(statuses[&id], "RESOLVED");
    }
    assert_eq!(
        statuses.values().filter(|s| *s == "NEW").count(),
        2_000,
        "findings outside the filter are untouched"
    );

    // The same request again: everything is already RESOLVED, nothing recorded.
    let (status, body) = f.post(&by_account(10_000)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (0, 10_000, 0));
    assert_eq!((f.audit_entries(), f.workflow_changes()), (10_000, 10_000));
}

#[tokio::test]
async fn in_steps_each_request_goes_on_where_the_last_stopped_as_the_view_empties() {
    let f = fixture(3_000, 2_500).await;
    // The filter names the status being changed: each step's findings leave
    // the view, and the next step still goes on exactly after them.
    let mut body = json!({
        "filter": {"account": ACCOUNT, "status": "NEW"},
        "expected_total": 2_500, "limit": 1_000,
        "workflow_status": "RESOLVED", "note": "in steps"
    });
    let mut steps = Vec::new();
    let mut first_cursor = None;
    loop {
        let (status, answer) = f.post(&body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        steps.push(counts(&answer));
        let Some(cursor) = answer["next_cursor"].as_str() else {
            break;
        };
        first_cursor.get_or_insert_with(|| cursor.to_string());
        body["cursor"] = json!(cursor);
        // Counted by the first step only: a later one would see fewer.
        body["expected_total"] = Value::Null;
        assert!(steps.len() < 5, "the steps end: {steps:?}");
    }
    assert_eq!(steps, [(1_000, 0, 0), (1_000, 0, 0), (500, 0, 0)]);
    assert_eq!((f.audit_entries(), f.workflow_changes()), (2_500, 2_500));
    let statuses = f.statuses();
    for id in f.selected() {
        assert_eq!(statuses[&id], "RESOLVED");
    }
    assert_eq!(statuses.values().filter(|s| *s == "NEW").count(), 500);

    // A cursor belongs to its filter: with another, a 400 naming it.
    let other = json!({
        "filter": {"account": "123456789012"}, "cursor": first_cursor.unwrap(),
        "limit": 10, "workflow_status": "NEW"
    });
    let (status, answer) = f.post(&other).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["field"], "cursor");
    // The first step still checks the count.
    let wrong = json!({
        "filter": {"account": ACCOUNT}, "expected_total": 7, "limit": 10,
        "workflow_status": "NEW"
    });
    assert_eq!(f.post(&wrong).await.0, StatusCode::CONFLICT);
    assert_eq!((f.audit_entries(), f.workflow_changes()), (2_500, 2_500));
}

#[tokio::test]
async fn a_filter_matching_another_number_than_expected_is_refused_and_changes_nothing() {
    let f = fixture(300, 120).await;
    let before = f.statuses();
    for expected in [119, 121, 0] {
        let (status, body) = f.post(&by_account(expected)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{expected}: {body}");
        assert_eq!(body["error"]["code"], "expected_total_mismatch");
        assert_eq!(body["error"]["field"], "expected_total");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&expected.to_string()), "{message}");
    }
    assert_eq!(f.statuses(), before);
    assert_eq!((f.audit_entries(), f.workflow_changes()), (0, 0));
    // With the right count it goes through, with the list's own filter names.
    let body = json!({
        "filter": {"account": ACCOUNT, "status": ["NEW"]},
        "expected_total": 120, "workflow_status": "NOTIFIED"
    });
    let (status, answer) = f.post(&body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(counts(&answer), (120, 0, 0));
}

#[tokio::test]
async fn a_store_failing_half_way_is_reported_exactly_and_a_rerun_completes_it() {
    let f = fixture(2_400, 2_000).await;
    // Writes 1..=1100 succeed, then the database is down: the third batch of
    // 500 is tried and fails from its 101st finding, the fourth is not tried.
    f.flaky.fail_from(1_101);
    let (status, body) = f.post(&by_account(2_000)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (1_100, 0, 900));
    let failed: Vec<(String, String)> = body["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap().to_string(),
                x["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let unavailable = failed
        .iter()
        .filter(|(_, r)| r.contains("unavailable"))
        .count();
    let not_tried = failed
        .iter()
        .filter(|(_, r)| r.starts_with("not tried"))
        .count();
    assert_eq!((unavailable, not_tried), (400, 500));
    assert!(
        failed.iter().all(|(_, r)| !r.contains("injected")),
        "the store's message stays in the log"
    );
    // What the answer says is what the database holds.
    let statuses = f.statuses();
    let failed_ids: std::collections::HashSet<&str> =
        failed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(failed_ids.len(), 900);
    for id in f.selected() {
        let want = if failed_ids.contains(id.as_str()) {
            "NEW"
        } else {
            "RESOLVED"
        };
        assert_eq!(statuses[&id], want, "{id}");
    }
    assert_eq!((f.audit_entries(), f.workflow_changes()), (1_100, 1_100));
    // The filter names no status: the changed findings still match it.
    assert_eq!(
        body["retry_expected_total"], 2_000,
        "{}",
        body["retry_expected_total"]
    );

    // The database is back: the same request completes the rest.
    f.flaky.heal();
    let (status, body) = f.post(&by_account(2_000)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (900, 1_100, 0));
    assert_eq!((f.audit_entries(), f.workflow_changes()), (2_000, 2_000));
    assert_eq!(
        f.count("SELECT COUNT(*) FROM (SELECT finding_id FROM audit GROUP BY finding_id HAVING COUNT(*) = 1)"),
        2_000,
        "exactly one audit entry per finding"
    );
}

#[tokio::test]
async fn a_rerun_of_a_filter_the_change_empties_sends_the_count_the_answer_gives() {
    let f = fixture(2_400, 2_000).await;
    let new_of_account = |expected_total: u64| {
        json!({
            "filter": {"account": ACCOUNT, "status": "NEW"},
            "expected_total": expected_total,
            "workflow_status": "RESOLVED",
            "note": "fixed"
        })
    };
    f.flaky.fail_from(1_101);
    let (status, body) = f.post(&new_of_account(2_000)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (1_100, 0, 900));
    // The 1,100 RESOLVED left the filter: 900 still match it.
    assert_eq!(body["retry_expected_total"], 900, "{body:?}");
    f.flaky.heal();
    let (status, body) = f.post(&new_of_account(2_000)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!((f.audit_entries(), f.workflow_changes()), (1_100, 1_100));
    let (status, body) = f.post(&new_of_account(900)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (900, 0, 0));
    assert!(body.get("retry_expected_total").is_none(), "{body}");
    assert_eq!((f.audit_entries(), f.workflow_changes()), (2_000, 2_000));
    assert!(f.statuses().values().filter(|s| *s == "RESOLVED").count() >= 2_000);
    // In steps, the first step's answer says the same.
    let f = fixture(600, 500).await;
    f.flaky.fail_from(201);
    let mut step = new_of_account(500);
    step["limit"] = json!(300);
    let (status, body) = f.post(&step).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (200, 0, 100));
    assert_eq!(body["retry_expected_total"], 300, "{body}");
}

#[tokio::test]
async fn a_filter_beyond_the_bound_is_refused_before_anything_is_read() {
    let f = fixture(10, 5).await;
    let body = by_account(shared_types::MAX_BULK_MATCHES + 1);
    let (status, answer) = f.post(&body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["code"], "too_many_findings");
    assert_eq!(answer["error"]["field"], "expected_total");
}
