//! What `check` makes of request bodies: filters read like the query string,
//! each bad value named by its field, steps and their cursors, ids as given.

use super::*;
use serde_json::json;
use shared_types::Severity;

fn checked(v: Value) -> Result<Checked, ApiError> {
    match v {
        Value::Object(m) => check(m),
        _ => panic!("test bodies are objects"),
    }
}

fn field_of(v: Value) -> String {
    match checked(v).unwrap_err() {
        ApiError::BadRequest { field: Some(f), .. } => f,
        other => panic!("not a 400 naming a field: {other:?}"),
    }
}

/// The parts of a filter selection: filter, count to check, step, cursor.
fn filter_of(c: Checked) -> (FindingFilter, Option<u64>, Option<u64>, Option<String>) {
    match c.selection {
        Selection::Filter {
            filter,
            expected_total,
            limit,
            cursor,
        } => (*filter, expected_total, limit, cursor),
        other => panic!("not a filter selection: {other:?}"),
    }
}

#[test]
fn a_filter_reads_like_the_query_string() {
    let c = checked(json!({
        "filter": {"severity": ["high", "CRITICAL"], "status": "NEW", "account": "123456789012"},
        "expected_total": 3, "workflow_status": "RESOLVED", "note": "  fixed  "
    }))
    .unwrap();
    let update = c.update.clone();
    let (filter, expected_total, limit, cursor) = filter_of(c);
    assert_eq!((limit, cursor), (None, None));
    assert_eq!(filter.severities, vec![Severity::High, Severity::Critical]);
    assert_eq!(filter.statuses, vec![WorkflowStatus::New]);
    assert_eq!(filter.account.as_deref(), Some("123456789012"));
    assert_eq!(expected_total, Some(3));
    assert_eq!(update.workflow_status, WorkflowStatus::Resolved);
    assert_eq!(update.note.as_deref(), Some("fixed"));
}

/// A blank value never widens a change to the whole store: `GET /findings`
/// refuses `severity=` and `severity=HIGH,`, a form's empty text field means
/// "any" there, and a request that changes findings refuses all of them.
#[test]
fn an_empty_filter_value_is_refused_not_read_as_any() {
    for (filter, field) in [
        (json!({"severity": ""}), "filter.severity"),
        (json!({"severity": []}), "filter.severity"),
        (json!({"severity": "HIGH,"}), "filter.severity"),
        (json!({"status": ",NEW"}), "filter.status"),
        (json!({"status": [""]}), "filter.status"),
        (json!({"account": ""}), "filter.account"),
        (json!({"q": "   "}), "filter.q"),
        (json!({"since": ""}), "filter.since"),
    ] {
        let body = json!({"filter": filter, "expected_total": 1, "workflow_status": "RESOLVED"});
        assert_eq!(field_of(body), field, "{filter}");
    }
    let c = checked(json!({
        "filter": {"severity": "HIGH,LOW"}, "expected_total": 1, "workflow_status": "RESOLVED"
    }))
    .unwrap();
    assert_eq!(
        filter_of(c).0.severities,
        vec![Severity::High, Severity::Low]
    );
}

#[test]
fn each_bad_value_is_named() {
    let ids = json!(["a"]);
    let cases = [
        (json!({"ids": ids}), "workflow_status"),
        (
            json!({"ids": ids, "workflow_status": "DONE"}),
            "workflow_status",
        ),
        (json!({"ids": ids, "workflow_status": 3}), "workflow_status"),
        (
            json!({"ids": ids, "workflow_status": "resolved"}),
            "workflow_status",
        ),
        (json!({"workflow_status": "NEW"}), "ids"),
        (json!({"ids": [], "workflow_status": "NEW"}), "ids"),
        (json!({"ids": "a", "workflow_status": "NEW"}), "ids"),
        (
            json!({"ids": vec!["x"; MAX_BULK_IDS + 1], "workflow_status": "NEW"}),
            "ids",
        ),
        (
            json!({"ids": ids, "workflow_status": "NEW", "expected_total": 1}),
            "expected_total",
        ),
        (
            json!({"ids": ids, "filter": {}, "workflow_status": "NEW"}),
            "filter",
        ),
        (
            json!({"filter": {}, "workflow_status": "NEW"}),
            "expected_total",
        ),
        (
            json!({"filter": {}, "workflow_status": "NEW", "expected_total": -1}),
            "expected_total",
        ),
        (
            json!({"filter": {}, "workflow_status": "NEW", "expected_total": MAX_BULK_MATCHES + 1}),
            "expected_total",
        ),
        (
            json!({"filter": [], "workflow_status": "NEW", "expected_total": 1}),
            "filter",
        ),
        (
            json!({"filter": {"severty": "HIGH"}, "workflow_status": "NEW", "expected_total": 1}),
            "filter.severty",
        ),
        (
            json!({"filter": {"severity": "URGENT"}, "workflow_status": "NEW", "expected_total": 1}),
            "filter.severity",
        ),
        (
            json!({"filter": {"status": ["", ""]}, "workflow_status": "NEW", "expected_total": 1}),
            "filter.status",
        ),
        (
            json!({"filter": {"severity": ["HIGH,LOW"]}, "workflow_status": "NEW", "expected_total": 1}),
            "filter.severity",
        ),
        (
            json!({"filter": {"account": ["1", "2"]}, "workflow_status": "NEW", "expected_total": 1}),
            "filter.account",
        ),
        (
            json!({"filter": {"since": "yesterday"}, "workflow_status": "NEW", "expected_total": 1}),
            "filter.since",
        ),
        (
            json!({"ids": ids, "workflow_status": "NEW", "note": "x".repeat(2001)}),
            "note",
        ),
        (
            json!({"ids": ids, "workflow_status": "NEW", "note": 5}),
            "note",
        ),
        (
            json!({"ids": ids, "workflow_status": "NEW", "status": "NEW"}),
            "status",
        ),
        (
            json!({"ids": ids, "workflow_status": "NEW", "limit": 5}),
            "limit",
        ),
        (
            json!({"ids": ids, "workflow_status": "NEW", "cursor": "c"}),
            "cursor",
        ),
        (
            json!({"filter": {}, "workflow_status": "NEW", "expected_total": 1, "limit": 0}),
            "limit",
        ),
        (
            json!({"filter": {}, "workflow_status": "NEW", "expected_total": 1, "limit": MAX_BULK_MATCHES + 1}),
            "limit",
        ),
        (
            json!({"filter": {}, "workflow_status": "NEW", "cursor": ""}),
            "cursor",
        ),
        (
            json!({"filter": {}, "workflow_status": "NEW", "cursor": "A".repeat(MAX_CURSOR_LEN + 1)}),
            "cursor",
        ),
        (
            json!({"filter": {}, "workflow_status": "NEW", "limit": 10}),
            "expected_total",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(field_of(body.clone()), want, "{body}");
    }
}

#[test]
fn a_later_step_goes_on_from_its_cursor_without_a_count() {
    let c = checked(json!({
        "filter": {"status": "NEW"}, "cursor": "abc", "limit": 100,
        "expected_total": 7, "workflow_status": "RESOLVED"
    }))
    .unwrap();
    let (_, expected_total, limit, cursor) = filter_of(c);
    assert_eq!(expected_total, None, "counted by the first step only");
    assert_eq!((limit, cursor.as_deref()), (Some(100), Some("abc")));
}

#[test]
fn ids_pass_through_as_given() {
    let c =
        checked(json!({"ids": ["b", "a", "b"], "workflow_status": "NEW", "note": "   "})).unwrap();
    // Duplicates are counted once by the run, not refused here.
    assert_eq!(
        c.selection,
        Selection::Ids(vec!["b".into(), "a".into(), "b".into()])
    );
    assert_eq!(c.update.note, None);
}
