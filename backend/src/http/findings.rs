//! `/findings`: list, fetch one, change its workflow status.

use super::error::ApiError;
use super::extract::Path;
use super::extract::{Json, QueryPairs};
use super::AppState;
use crate::auth::Principal;
use axum::extract::State;
use shared_types::{
    FindingDetail, FindingFilter, FindingPage, WorkflowUpdate, DEFAULT_LIMIT, MAX_LIMIT,
};
use validator::Validate;

/// Longest note accepted with a workflow change.
pub const MAX_NOTE_LEN: usize = 2000;

/// The paging part of `GET /findings`, validated with `validator`.
#[derive(Debug, Validate)]
struct PageParams {
    #[validate(range(min = 1, max = MAX_LIMIT))]
    limit: u32,
    // validator and utoipa take literals here; a test holds them to the constants.
    #[validate(length(min = 1, max = 2048))]
    cursor: Option<String>,
}

/// The list's filter parameters (the same names in a bulk change's `filter` and an
/// export job's).
pub(super) const FILTER_KEYS: [&str; 11] = [
    "severity",
    "status",
    "account",
    "region",
    "resource_type",
    "product",
    "generator",
    "resource",
    "q",
    "since",
    "until",
];

/// The query pairs a route takes besides the list's filters.
pub(super) type OtherPairs<'a> = Vec<(&'a str, &'a str)>;

/// Splits query pairs into the list's filter and the other pairs (paging, export
/// options), which the caller checks. Every route that takes the list's filters
/// parses them here, so they cannot drift apart. Only the list keys (`severity`,
/// `status`) may repeat, and add up; any other key given twice is refused
/// rather than read as one of its values.
pub(super) fn split_filter(
    pairs: &[(String, String)],
) -> Result<(FindingFilter, OtherPairs<'_>), ApiError> {
    let mut rest: OtherPairs<'_> = Vec::new();
    let mut filter_pairs: Vec<(&str, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (k, v) in pairs {
        let list = matches!(k.as_str(), "severity" | "status");
        if !seen.insert(k.as_str()) && !list {
            return Err(ApiError::invalid(
                k.as_str(),
                format!("{k} is given more than once"),
            ));
        }
        match k.as_str() {
            key if FILTER_KEYS.contains(&key) => {
                if matches!(key, "severity" | "status") {
                    // Every comma-separated piece must be one name, as the
                    // document's `enum` says: `status=` or `severity=HIGH,` is
                    // refused, not read as "any".
                    super::filter_params::list_of_names(v.split(','))
                        .map_err(|e| ApiError::invalid(key, e))?;
                }
                // Repeated list keys (`severity=HIGH&severity=LOW`) add up.
                let repeated = filter_pairs.iter_mut().find(|(fk, _)| *fk == key);
                match repeated {
                    Some((_, prev)) if matches!(key, "severity" | "status") => {
                        prev.push(',');
                        prev.push_str(v);
                    }
                    _ => filter_pairs.push((key, v.clone())),
                }
            }
            other => rest.push((other, v.as_str())),
        }
    }
    let filter = FindingFilter::from_pairs(filter_pairs.iter().map(|(k, v)| (*k, v.as_str())))
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    Ok((filter, rest))
}

/// A 400 naming a query parameter the route does not know (a typo like
/// `severty=` must not silently return everything).
pub(super) fn unknown_parameter(key: &str) -> ApiError {
    ApiError::invalid(key, format!("unknown query parameter {key:?}"))
}

/// Splits query pairs into filter and paging, rejecting unknown keys.
fn parse_query(pairs: &[(String, String)]) -> Result<(FindingFilter, PageParams), ApiError> {
    let (filter, rest) = split_filter(pairs)?;
    let mut limit = DEFAULT_LIMIT;
    let mut cursor = None;
    for (k, v) in rest {
        match k {
            "limit" => {
                limit = v.trim().parse().map_err(|_| {
                    ApiError::invalid("limit", format!("must be an integer from 1 to {MAX_LIMIT}"))
                })?
            }
            "cursor" => cursor = Some(v.to_string()),
            other => return Err(unknown_parameter(other)),
        }
    }
    let page = PageParams { limit, cursor };
    page.validate().map_err(|e| {
        let field = e
            .field_errors()
            .keys()
            .next()
            .map(|k| k.to_string())
            .unwrap_or_default();
        let message = match field.as_str() {
            "limit" => format!("must be an integer from 1 to {MAX_LIMIT}"),
            _ => "must be a cursor returned by a previous page".to_string(),
        };
        ApiError::invalid(field, message)
    })?;
    Ok((filter, page))
}

/// `GET /findings`: one page of findings, newest first.
#[utoipa::path(get, path = "/findings", tag = "findings",
    params(
        super::filter_params::FilterParams,
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Page size, 1–1000 (default 50)"),
        ("cursor" = Option<String>, Query, min_length = 1, max_length = 2048, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, body = FindingPage),
        (status = 400, body = shared_types::ErrorBody),
        (status = 401, body = shared_types::ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    QueryPairs(pairs): QueryPairs,
) -> Result<axum::Json<FindingPage>, ApiError> {
    let (filter, page) = parse_query(&pairs)?;
    let store = state.store();
    // The page and the count read side by side: the count adds its own time,
    // not the page's, to the answer.
    let (out, count) = tokio::join!(
        store.list(&filter, page.limit, page.cursor.as_deref()),
        store.count(&filter)
    );
    let (mut out, count) = (out?, count?);
    let count = match page.cursor {
        None => count.with_first_page(out.items.len() as u64, out.next_cursor.is_some()),
        Some(_) => count,
    };
    out.total = Some(count.total);
    out.total_is_exact = Some(count.exact);
    Ok(axum::Json(out))
}

fn check_id(id: &str) -> Result<(), ApiError> {
    if crate::ids::is_short_id(id) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "no finding with id {:?}",
            truncate(id, 64)
        )))
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// A workflow change's note as stored: at most [`MAX_NOTE_LEN`] characters
/// (400 naming `note` otherwise), trimmed, and none when only blanks.
pub(super) fn clean_note(note: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(note) = note else { return Ok(None) };
    if note.chars().count() > MAX_NOTE_LEN {
        return Err(ApiError::invalid(
            "note",
            format!("must be at most {MAX_NOTE_LEN} characters"),
        ));
    }
    let trimmed = note.trim();
    Ok((!trimmed.is_empty()).then(|| trimmed.to_string()))
}

/// `GET /findings/{id}`: the full finding with raw document, remediation and audit trail.
#[utoipa::path(get, path = "/findings/{id}", tag = "findings",
    params(("id" = String, Path, description = "Short finding id")),
    responses((status = 200, body = FindingDetail), (status = 404, body = shared_types::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<FindingDetail>, ApiError> {
    check_id(&id)?;
    match state.store().get(&id).await? {
        Some(d) => Ok(axum::Json(d)),
        None => Err(ApiError::NotFound(format!("no finding with id {id:?}"))),
    }
}

/// `PATCH /findings/{id}`: set the workflow status with a note; recorded in the audit trail.
#[utoipa::path(patch, path = "/findings/{id}", tag = "findings",
    params(("id" = String, Path, description = "Short finding id")),
    request_body = WorkflowUpdate,
    responses((status = 200, body = FindingDetail), (status = 400, body = shared_types::ErrorBody),
        (status = 401, body = shared_types::ErrorBody), (status = 403, body = shared_types::ErrorBody),
        (status = 404, body = shared_types::ErrorBody), (status = 413, body = shared_types::ErrorBody),
        (status = 415, body = shared_types::ErrorBody, description = "The body is not application/json")))]
pub async fn patch_one(
    State(state): State<AppState>,
    actor: Principal,
    Path(id): Path<String>,
    Json(update): Json<WorkflowUpdate>,
) -> Result<axum::Json<FindingDetail>, ApiError> {
    check_id(&id)?;
    let mut update = update;
    update.note = clean_note(update.note)?;
    let at = chrono::Utc::now();
    let changed = state
        .pipeline
        .set_workflow(&id, &update, &actor.actor, at)
        .await
        .map_err(ApiError::from)?;
    match changed {
        Some(d) => {
            tracing::info!(finding = %id, actor = %actor.actor, status = %update.workflow_status, "workflow status changed");
            Ok(axum::Json(d))
        }
        None => Err(ApiError::NotFound(format!("no finding with id {id:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::cursor::MAX_CURSOR_LEN;

    fn pairs(q: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(q).unwrap()
    }

    #[test]
    fn repeated_severity_keys_add_up_and_unknown_keys_are_rejected() {
        let (f, p) = parse_query(&pairs("severity=HIGH&severity=low&limit=10")).unwrap();
        assert_eq!(f.severities.len(), 2);
        assert_eq!(p.limit, 10);
        let err = parse_query(&pairs("severty=HIGH")).unwrap_err();
        assert!(matches!(err, ApiError::BadRequest { field: Some(f), .. } if f == "severty"));
    }

    /// A single-valued key given twice is refused, not read as its last value
    /// (`account=A&account=B` listed B's findings only).
    #[test]
    fn a_single_valued_key_given_twice_is_refused() {
        for (q, key) in [
            ("account=111122223333&account=444455556666", "account"),
            ("q=a&severity=HIGH&q=b", "q"),
            ("since=2026-01-01&since=2026-02-01", "since"),
            ("limit=5&limit=10", "limit"),
            ("cursor=x&status=NEW&cursor=y", "cursor"),
        ] {
            let err = parse_query(&pairs(q)).unwrap_err();
            assert!(
                matches!(&err, ApiError::BadRequest { field: Some(f), .. } if f == key),
                "{q}: {err:?}"
            );
        }
        let (f, _) = parse_query(&pairs("status=NEW&status=NOTIFIED&account=1")).unwrap();
        assert_eq!(f.statuses.len(), 2);
    }

    #[test]
    fn documented_bounds_are_the_enforced_ones() {
        use utoipa::Path as _;
        let op = serde_json::to_value(__path_list::operation()).unwrap();
        let param = |name: &str| {
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap()["schema"]
                .clone()
        };
        assert_eq!(param("limit")["maximum"], MAX_LIMIT);
        assert_eq!(param("cursor")["maxLength"], MAX_CURSOR_LEN);
        let at_most = format!("limit={MAX_LIMIT}&cursor={}", "A".repeat(MAX_CURSOR_LEN));
        assert!(parse_query(&pairs(&at_most)).is_ok());
        let over = format!("cursor={}", "A".repeat(MAX_CURSOR_LEN + 1));
        let err = parse_query(&pairs(&over)).unwrap_err();
        assert!(matches!(err, ApiError::BadRequest { field: Some(ref f), .. } if f == "cursor"));
    }

    #[test]
    fn limit_out_of_range_names_the_field() {
        for q in ["limit=0", "limit=1001", "limit=abc", "limit=-1"] {
            let err = parse_query(&pairs(q)).unwrap_err();
            assert!(
                matches!(err, ApiError::BadRequest { field: Some(ref f), .. } if f == "limit"),
                "{q}"
            );
        }
    }
}
