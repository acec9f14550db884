use super::*;
use serde_json::json;

fn new_in_account(status: &str) -> Value {
    json!({
        "filter": {"account": ACCOUNT, "status": "NEW"},
        "expected_total": 300,
        "workflow_status": status,
    })
}

/// Audit entries per selected finding, by id.
fn audits_per_finding(f: &Fixture) -> std::collections::HashMap<String, u64> {
    let c = rusqlite::Connection::open(&f.db).unwrap();
    let mut st = c
        .prepare("SELECT finding_id, COUNT(*) FROM audit GROUP BY finding_id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The `n` oldest selected findings: they come last in the list's order (newest
/// first), so a run has not reached them by its 101st write.
fn last_listed(f: &Fixture, n: usize) -> Vec<String> {
    let mut selected: Vec<&Finding> = f
        .fixtures
        .iter()
        .filter(|x| x.account_id == ACCOUNT)
        .collect();
    selected.sort_by_key(|x| (x.updated_at, x.id.clone()));
    selected[..n].iter().map(|x| x.id.clone()).collect()
}

#[tokio::test]
async fn a_finding_changed_by_someone_else_during_a_run_is_left_alone_and_reported() {
    let f = fixture(400, 300).await;
    let others = last_listed(&f, 50);
    f.flaky
        .interfere_at(101, others.clone(), WorkflowStatus::Notified);

    let (status, body) = f.post(&new_in_account("RESOLVED")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (250, 0, 50), "{body}");
    for failure in body["failed"].as_array().unwrap() {
        assert!(others.contains(&failure["id"].as_str().unwrap().to_string()));
        assert!(
            failure["reason"]
                .as_str()
                .unwrap()
                .contains("no longer matches the filter"),
            "{failure}"
        );
    }
    // Nothing is left to do: the 50 left the view, as did the 250 changed.
    assert_eq!(body["retry_expected_total"], 0, "{body}");
    let statuses = f.statuses();
    for id in &others {
        assert_eq!(statuses[id], "NOTIFIED", "the other person's change stays");
    }
    let audits = audits_per_finding(&f);
    assert_eq!(audits.len(), 300);
    assert!(audits.values().all(|n| *n == 1), "one change per finding");
}

#[tokio::test]
async fn two_overlapping_changes_at_once_change_each_finding_once() {
    let f = fixture(400, 300).await;
    let (resolve, notify) = (new_in_account("RESOLVED"), new_in_account("NOTIFIED"));
    let (a, b) = tokio::join!(f.post(&resolve), f.post(&notify));
    let mut changed = 0;
    for (status, body) in [&a, &b] {
        match *status {
            // The second to count may find fewer than it expected: nothing changed.
            StatusCode::CONFLICT => {}
            StatusCode::OK => {
                let (c, u, failed) = counts(body);
                assert_eq!(c + u + failed as u64, 300, "{body}");
                changed += c;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(
        changed, 300,
        "each finding changed by one of them: {a:?} {b:?}"
    );
    let audits = audits_per_finding(&f);
    assert_eq!(audits.len(), 300);
    assert!(audits.values().all(|n| *n == 1), "no finding changed twice");
    let statuses = f.statuses();
    assert!(f
        .selected()
        .iter()
        .all(|id| statuses[id] == "RESOLVED" || statuses[id] == "NOTIFIED"));
}

#[tokio::test]
async fn a_finding_someone_gave_the_same_status_meanwhile_counts_as_unchanged() {
    let f = fixture(400, 300).await;
    let others = last_listed(&f, 50);
    f.flaky.interfere_at(101, others, WorkflowStatus::Resolved);
    let (status, body) = f.post(&new_in_account("RESOLVED")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(counts(&body), (250, 50, 0), "{body}");
    assert!(
        body.get("retry_expected_total").is_none_or(Value::is_null),
        "{body}"
    );
    let audits = audits_per_finding(&f);
    assert!(audits.values().all(|n| *n == 1), "one change per finding");
}
