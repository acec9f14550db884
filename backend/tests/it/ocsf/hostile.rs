//! Hostile variants of a real finding (the Security Hub v2 event's GuardDuty
//! finding, one field changed each): wrong JSON types and missing ids are rejected
//! with a reason naming the field, beside the valid findings of the same body, which
//! are stored; nothing panics and nothing half-read is stored.

use super::*;
use crate::events::{app, outcome, post, stored};
use axum::http::StatusCode;
use serde_json::json;

fn finding() -> Value {
    sample(SECURITY_HUB_V2_EVENT)["detail"]["findings"][0].clone()
}

fn with(change: impl FnOnce(&mut Value)) -> Value {
    let mut f = finding();
    change(&mut f);
    f
}

fn remove(f: &mut Value, parent: &str, key: &str) {
    f.pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .expect("the sample has it")
        .remove(key);
}

#[tokio::test]
async fn variants_with_wrong_types_or_missing_ids_are_rejected_with_the_field_named() {
    let uid = finding()["finding_info"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    // (variant, reason, whether the finding can still be named by its uid)
    let cases: Vec<(Value, &str, bool)> = vec![
        (
            with(|f| remove(f, "/finding_info", "uid")),
            "missing required finding_info.uid",
            false,
        ),
        (
            with(|f| f["finding_info"]["uid"] = json!(12345)),
            "finding_info.uid: expected a string, got a number",
            false,
        ),
        (
            with(|f| f["finding_info"] = json!("x")),
            "finding_info.uid: finding_info is a string, not an object",
            false,
        ),
        (
            with(|f| f["class_uid"] = json!("2004")),
            "class_uid: expected an integer, got \"2004\"",
            true,
        ),
        (
            with(|f| f["class_uid"] = json!(2004.5)),
            "class_uid: expected an integer, got 2004.5",
            true,
        ),
        (
            with(|f| {
                f["severity_id"] = json!("High");
                remove(f, "", "severity");
            }),
            "no usable severity: severity_id: expected an integer, got \"High\"",
            true,
        ),
        (
            with(|f| f["cloud"]["account"]["uid"] = json!(869728294964u64)),
            "cloud.account.uid: expected a string, got a number",
            true,
        ),
        (
            with(|f| f["metadata"]["product"] = json!([])),
            "metadata.product.uid: metadata.product is an array, not an object",
            true,
        ),
        (
            with(|f| {
                f["finding_info"]["modified_time"] = json!("yesterday");
                remove(f, "/finding_info", "modified_time_dt");
            }),
            "finding_info.modified_time: invalid timestamp \"yesterday\"",
            true,
        ),
        (
            with(|f| {
                remove(f, "/finding_info", "modified_time");
                remove(f, "/finding_info", "modified_time_dt");
                remove(f, "", "time");
                remove(f, "", "time_dt");
            }),
            "missing required time",
            true,
        ),
        (
            with(|f| f["resources"] = json!("ASIA4U76YS3TEOA3O")),
            "resources: expected a list of resources, got a string",
            true,
        ),
        (
            with(|f| f["cloud"]["region"] = json!(["us-east-1"])),
            "cloud.region: expected a string, got an array",
            true,
        ),
    ];
    let mut body = vec![finding()];
    body.extend(cases.iter().map(|(v, _, _)| v.clone()));
    body.push(json!(42));

    let a = app();
    let (status, answer) = post(
        &a.router,
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let o = outcome(answer);
    assert_eq!((o.documents, o.stored), (body.len(), 1), "{o:?}");
    assert_eq!(o.rejected.len(), cases.len() + 1, "{:?}", o.rejected);
    for (i, (_, reason, named)) in cases.iter().enumerate() {
        let r = &o.rejected[i];
        assert_eq!(r.index, Some(i + 1), "{reason}");
        assert_eq!(r.reason, *reason);
        assert_eq!(r.id.as_deref(), named.then_some(uid.as_str()), "{reason}");
    }
    // A bare number is no document of any kind.
    let last = o.rejected.last().unwrap();
    assert_eq!(last.index, Some(body.len() - 1));
    assert!(!last.reason.is_empty());
    // Only the valid finding was stored, as the sample says.
    let all = stored(a.store.as_ref()).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all.values().next().unwrap().asff_id, uid);
}

#[tokio::test]
async fn a_findings_imported_v2_event_with_a_broken_list_or_entry_is_reported_not_stored_half() {
    let a = app();
    let mut event = sample(SECURITY_HUB_V2_EVENT);
    event["detail"]["findings"] =
        json!([finding(), 42, with(|f| remove(f, "/finding_info", "title"))]);
    let (_, body) = post(
        &a.router,
        "application/json",
        serde_json::to_vec(&event).unwrap(),
    )
    .await;
    let o = outcome(body);
    assert_eq!(o.stored, 1, "{o:?}");
    let reasons: Vec<_> = o.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "detail.findings[1]: expected an OCSF finding object, got a number",
            "missing required finding_info.title",
        ]
    );

    event["detail"]["findings"] = json!({"0": finding()});
    let (_, body) = post(
        &a.router,
        "application/json",
        serde_json::to_vec(&event).unwrap(),
    )
    .await;
    let o = outcome(body);
    assert_eq!(o.stored, 0);
    assert_eq!(
        o.rejected[0].reason,
        "Findings Imported V2 event: detail.findings must be a list, got an object"
    );
}
