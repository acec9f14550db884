//! `POST /findings/workflow`: one workflow change for many findings, named by
//! id or by the list's filter. The body is read field by field so every bad
//! value is answered with a 400 naming its field; the work itself is
//! [`crate::pipeline::bulk`].

use super::error::ApiError;
use super::extract::Json;
use super::filter_params::list_of_names;
use super::findings::{clean_note, FILTER_KEYS};
use super::AppState;
use crate::auth::Principal;
use crate::pipeline::bulk::{self, CollectError, Target};
use crate::store::cursor::MAX_CURSOR_LEN;
use axum::extract::State;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use shared_types::{
    BulkWorkflowResult, FilterValue, FindingFilter, WorkflowStatus, WorkflowUpdate, MAX_BULK_IDS,
    MAX_BULK_MATCHES,
};

/// Which findings a request names.
#[derive(Debug, PartialEq)]
enum Selection {
    Ids(Vec<String>),
    Filter {
        // Boxed: a filter is many times the size of the ids' vector.
        filter: Box<FindingFilter>,
        /// The count to check: the first step's (a later step has `cursor`).
        expected_total: Option<u64>,
        /// At most this many findings in this request (whole list pages).
        limit: Option<u64>,
        /// Where a later step goes on.
        cursor: Option<String>,
    },
}

/// A checked request.
#[derive(Debug, PartialEq)]
struct Checked {
    selection: Selection,
    update: WorkflowUpdate,
}

const FIELDS: [&str; 7] = [
    "ids",
    "filter",
    "expected_total",
    "limit",
    "cursor",
    "workflow_status",
    "note",
];

/// `POST /findings/workflow`: set one status and note on many findings, each
/// through the same write as `PATCH /findings/{id}` (its own audit entry and
/// change record). With `filter`, the findings are those the list shows for it,
/// refused with 409 (nothing changed) unless there are `expected_total` of them;
/// with `limit` too, in steps: each request changes the next `limit` and answers
/// `next_cursor`, which the next request sends as `cursor` (not counted again).
#[utoipa::path(post, path = "/findings/workflow", tag = "findings",
    request_body = super::bulk_doc::BulkWorkflowBody,
    responses(
        (status = 200, body = BulkWorkflowResult, description = "Every named finding counted once: changed, unchanged (already in that status) or failed with a reason; send the request again to retry the failed ones"),
        (status = 400, body = shared_types::ErrorBody, description = "Bad input, the field named (a filter's field as `filter.<name>`); more than 1,000 ids or an expected_total above 100,000"),
        (status = 401, body = shared_types::ErrorBody), (status = 403, body = shared_types::ErrorBody),
        (status = 409, body = shared_types::ErrorBody, description = "The filter matches another number of findings than expected_total; nothing changed"),
        (status = 413, body = shared_types::ErrorBody, description = "The body is larger than the server reads"),
        (status = 415, body = shared_types::ErrorBody, description = "The body is not application/json")))]
pub async fn post_workflow(
    State(state): State<AppState>,
    actor: Principal,
    Json(body): Json<Map<String, Value>>,
) -> Result<axum::Json<BulkWorkflowResult>, ApiError> {
    let checked = check(body)?;
    let store = state.store();
    let mut counted: Option<(u64, FindingFilter)> = None;
    // A filter's findings are changed only while they still match it.
    let mut guard: Option<FindingFilter> = None;
    let (targets, next_cursor) = match checked.selection {
        Selection::Ids(ids) => (ids.into_iter().map(Target::id).collect(), None),
        Selection::Filter {
            filter,
            expected_total,
            limit,
            cursor,
        } => {
            counted = expected_total.map(|n| (n, (*filter).clone()));
            guard = Some((*filter).clone());
            match (expected_total, limit) {
                // The whole change at once: its findings are the count.
                (Some(expected), None) => (
                    bulk::collect(store.as_ref(), &filter, expected)
                        .await
                        .map_err(mismatch)?,
                    None,
                ),
                // A step: the next `limit` from the cursor (the first, from the
                // start, checks the count first).
                (expected, limit) => {
                    if let Some(expected) = expected {
                        bulk::check_count(store.as_ref(), &filter, expected)
                            .await
                            .map_err(mismatch)?;
                    }
                    let limit = limit.unwrap_or(MAX_BULK_MATCHES);
                    let step =
                        bulk::step(store.as_ref(), &filter, cursor.as_deref(), limit).await?;
                    (step.targets, step.next_cursor)
                }
            }
        }
    };
    let at = chrono::Utc::now();
    let mut result = bulk::apply(
        &state.pipeline,
        targets,
        &checked.update,
        &actor.actor,
        at,
        guard.as_ref(),
    )
    .await;
    result.next_cursor = next_cursor;
    if let Some((expected, filter)) = counted {
        let status = checked.update.workflow_status;
        result.retry_expected_total =
            bulk::retry_expected_total(expected, &filter, status, &result);
    }
    Ok(axum::Json(result))
}

/// A count other than the person saw is a 409; a store failure its own error.
fn mismatch(e: CollectError) -> ApiError {
    match e {
        CollectError::Mismatch { .. } => ApiError::Conflict {
            code: "expected_total_mismatch",
            message: format!("{e}; nothing was changed"),
            field: Some("expected_total".into()),
        },
        CollectError::Store(s) => s.into(),
    }
}

/// Reads the body's fields, naming the first bad one.
fn check(mut body: Map<String, Value>) -> Result<Checked, ApiError> {
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::invalid(
            unknown.clone(),
            format!("unknown field {unknown:?}"),
        ));
    }
    let status = match body.remove("workflow_status") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "workflow_status",
                "required: NEW, NOTIFIED, SUPPRESSED or RESOLVED",
            ))
        }
        // As `PATCH /findings/{id}` reads it: one of the names, in capitals.
        Some(v) => serde_json::from_value::<WorkflowStatus>(v).map_err(|_| {
            ApiError::invalid(
                "workflow_status",
                "must be one of NEW, NOTIFIED, SUPPRESSED, RESOLVED",
            )
        })?,
    };
    let note: Option<String> = field(&mut body, "note", "must be a string")?;
    let update = WorkflowUpdate {
        workflow_status: status,
        note: clean_note(note)?,
    };
    let ids: Option<Vec<String>> = field(&mut body, "ids", "must be a list of finding ids")?;
    let filter: Option<Map<String, Value>> = field(
        &mut body,
        "filter",
        "must be an object of the list's filters",
    )?;
    let expected: Option<u64> = field(
        &mut body,
        "expected_total",
        "must be a whole number of findings",
    )?;
    let limit: Option<u64> = field(&mut body, "limit", "must be a whole number of findings")?;
    let cursor: Option<String> = field(&mut body, "cursor", "must be a next_cursor")?;
    let selection = match (ids, filter) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid("filter", "give ids or filter, not both"))
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "ids",
                "give the findings' ids, or a filter with expected_total",
            ))
        }
        (Some(ids), None) => {
            let filter_only = [
                ("expected_total", expected.is_some()),
                ("limit", limit.is_some()),
                ("cursor", cursor.is_some()),
            ];
            if let Some((name, _)) = filter_only.iter().find(|(_, given)| *given) {
                return Err(ApiError::invalid(*name, "goes with filter, not with ids"));
            }
            check_ids(&ids)?;
            Selection::Ids(ids)
        }
        (None, Some(filter)) => Selection::Filter {
            filter: Box::new(check_filter(filter)?),
            // A later step goes on from its cursor: the first step counted.
            expected_total: match cursor {
                Some(_) => None,
                None => Some(check_expected(expected)?),
            },
            limit: check_limit(limit)?,
            cursor: check_cursor(cursor)?,
        },
    };
    Ok(Checked { selection, update })
}

/// An optional field of type `T` (`null` counts as absent), or a 400 naming it.
fn field<T: DeserializeOwned>(
    body: &mut Map<String, Value>,
    name: &str,
    message: &str,
) -> Result<Option<T>, ApiError> {
    match body.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v)
            .map(Some)
            .map_err(|_| ApiError::invalid(name, message)),
    }
}

fn check_ids(ids: &[String]) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Err(ApiError::invalid("ids", "must name at least one finding"));
    }
    if ids.len() > MAX_BULK_IDS {
        return Err(ApiError::invalid(
            "ids",
            format!("at most {MAX_BULK_IDS} ids per request; use filter for more"),
        ));
    }
    Ok(())
}

fn check_limit(limit: Option<u64>) -> Result<Option<u64>, ApiError> {
    match limit {
        Some(n) if n == 0 || n > MAX_BULK_MATCHES => Err(ApiError::invalid(
            "limit",
            format!("must be 1 to {MAX_BULK_MATCHES} findings per step"),
        )),
        other => Ok(other),
    }
}

fn check_cursor(cursor: Option<String>) -> Result<Option<String>, ApiError> {
    match cursor {
        Some(c) if c.is_empty() || c.len() > MAX_CURSOR_LEN => Err(ApiError::invalid(
            "cursor",
            "must be the next_cursor of the previous step's answer",
        )),
        other => Ok(other),
    }
}

fn check_expected(expected: Option<u64>) -> Result<u64, ApiError> {
    match expected {
        None => Err(ApiError::invalid(
            "expected_total",
            "required with filter: how many findings the filter matched when you looked",
        )),
        Some(n) if n > MAX_BULK_MATCHES => Err(ApiError::BadRequest {
            code: "too_many_findings",
            message: format!("at most {MAX_BULK_MATCHES} findings per request; narrow the filter"),
            field: Some("expected_total".into()),
        }),
        Some(n) => Ok(n),
    }
}

/// The filter object read as `GET /findings` reads its query string: same
/// names, same values (a list for `severity`/`status` may also be a JSON
/// array); a bad one is named `filter.<name>`. One difference: an empty value,
/// which a query string's form field reads as "any", is refused — a request
/// that changes findings says "any" by leaving the key out, so a blank field
/// can never widen it to the whole store.
fn check_filter(filter: Map<String, Value>) -> Result<FindingFilter, ApiError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (key, value) in filter {
        let name = format!("filter.{key}");
        if !FILTER_KEYS.contains(&key.as_str()) {
            return Err(ApiError::invalid(name, format!("unknown filter {key:?}")));
        }
        let list = matches!(key.as_str(), "severity" | "status");
        let value = match serde_json::from_value::<FilterValue>(value) {
            Ok(FilterValue::One(s)) if s.trim().is_empty() => {
                return Err(ApiError::invalid(
                    name,
                    "must not be empty: leave the filter out to match any",
                ))
            }
            Ok(FilterValue::One(s)) if list => {
                list_of_names(s.split(',')).map_err(|m| ApiError::invalid(&name, m))?
            }
            Ok(FilterValue::One(s)) => s,
            Ok(FilterValue::Many(list_values)) if list && list_values.is_empty() => {
                return Err(ApiError::invalid(
                    name,
                    "must list at least one name: leave the filter out to match any",
                ))
            }
            Ok(FilterValue::Many(list_values)) if list => {
                list_of_names(list_values.iter().map(String::as_str))
                    .map_err(|m| ApiError::invalid(&name, m))?
            }
            _ => {
                return Err(ApiError::invalid(
                    name,
                    "must be a string (severity and status: or a list of strings)",
                ))
            }
        };
        pairs.push((key, value));
    }
    FindingFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ApiError::invalid(format!("filter.{}", e.field), e.message))
}

#[cfg(test)]
mod tests;
