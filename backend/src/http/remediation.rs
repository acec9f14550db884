//! Remediation over HTTP: a finding's plan, approving it, and the record of
//! every remediation. The plan is what `cspm remediate plan --json` prints
//! (the same code makes it); an approval is queued for the worker of
//! `cspm serve --remediation FILE`, which applies it, verifies it and resolves
//! the finding.
//!
//! Answers to an approval besides 202: 409 with the guard's name as `code`
//! when a guard that needs no read from AWS refuses (`not-enabled`,
//! `out-of-scope`, `rate-limited`, `suppressed-or-resolved`; recorded as
//! `refused`), 409 `remediation_off` when the server runs without a
//! remediation file (nothing recorded or queued), 422 `not_applicable` when no
//! action available here fixes the finding.

use super::error::ApiError;
use super::extract::Path;
use super::extract::QueryPairs;
use super::findings::unknown_parameter;
use super::AppState;
use crate::auth::Principal;
use crate::remediate::guards::Approval;
use crate::remediate::outcome::RemediateError;
use crate::remediate::plan::is_state_hash;
use crate::remediate::records::RecordQuery;
use crate::remediate::service::{Approved, Remediations, ServiceError, MAX_LIST};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use shared_types::{
    RemediationList, RemediationPlan, RemediationQueued, RemediationRecord, RemediationRequest,
    RemediationStatus,
};
use std::sync::Arc;

/// Records `GET /remediations` returns when `limit` is not given.
const DEFAULT_LIST: u32 = 100;
/// Longest `finding` filter accepted (short ids are far shorter).
const MAX_FINDING_PARAM: usize = 128;

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Off => ApiError::Conflict {
                code: "remediation_off",
                message: e.to_string(),
                field: None,
            },
            ServiceError::Remediate(RemediateError::UnknownFinding(id)) => {
                ApiError::NotFound(format!("no finding with id {id:?}"))
            }
            ServiceError::Remediate(RemediateError::Store(s)) => s.into(),
            // Reading the resource to plan failed: what AWS said helps the
            // person (a bucket gone, access denied); it names no server secret.
            ServiceError::Remediate(RemediateError::Observe { action, source })
                if !source.retryable =>
            {
                ApiError::Unprocessable {
                    code: "resource_unreadable",
                    message: format!("{action}: reading the resource: {source}"),
                }
            }
            e if e.is_retryable() => {
                tracing::warn!(error = %e, "remediation unavailable");
                ApiError::Unavailable
            }
            e => ApiError::Internal(Box::new(e)),
        }
    }
}

/// Remediation on this server, or a 404 on a deployment without it.
fn service(state: &AppState) -> Result<&Arc<Remediations>, ApiError> {
    state
        .remediation
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("remediation is not set up on this deployment".into()))
}

fn check_finding_id(id: &str) -> Result<(), ApiError> {
    if crate::ids::is_short_id(id) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "no finding with id {:?}",
            id.chars().take(64).collect::<String>()
        )))
    }
}

/// `GET /findings/{id}/remediation/plan`: what remediating the finding would
/// do; changes nothing.
#[utoipa::path(get, path = "/findings/{id}/remediation/plan", tag = "remediation",
    params(("id" = String, Path, description = "Short finding id")),
    responses(
        (status = 200, body = RemediationPlan, description = "The plan `cspm remediate plan --json` prints: the action, the exact AWS calls, the resource's current state (with its `state_hash`), what is left after and every guard's verdict; `applicable: false` (and `after` saying why) when no action available here fixes the finding, e.g. on a server without --remediation or a build without AWS support"),
        (status = 404, body = shared_types::ErrorBody, description = "No such finding, or remediation is not set up on this deployment"),
        (status = 422, body = shared_types::ErrorBody, description = "The resource could not be read to plan (`resource_unreadable`: it is gone, or access was denied)"),
        (status = 503, body = shared_types::ErrorBody),
    ))]
pub async fn get_plan(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    check_finding_id(&id)?;
    let plan = service(&state)?.plan(&id, &caller.actor).await?;
    // The plan type's own JSON, as the CLI prints it.
    Ok(axum::Json(plan).into_response())
}

/// The optional approval body: none, `null`, or a JSON object.
fn approval_body(headers: &HeaderMap, body: &Bytes) -> Result<RemediationRequest, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(RemediationRequest::default());
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let request: Option<RemediationRequest> =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest {
            code: "invalid_body",
            message: if e.is_syntax() || e.is_eof() {
                "request body is not valid JSON".into()
            } else {
                e.to_string()
            },
            field: None,
        })?;
    let request = request.unwrap_or_default();
    if let Some(h) = &request.expect_state {
        if !is_state_hash(h) {
            return Err(ApiError::invalid(
                "expect_state",
                "must be the 64 lowercase hex digits of a plan's current_state.state_hash",
            ));
        }
    }
    Ok(request)
}

/// `POST /findings/{id}/remediation`: approve remediating the finding. Queued
/// for the worker, which checks every guard again, applies, verifies and
/// resolves the finding; follow it at `GET /remediations/{rid}`.
#[utoipa::path(post, path = "/findings/{id}/remediation", tag = "remediation",
    params(("id" = String, Path, description = "Short finding id")),
    request_body(content = Option<RemediationRequest>, description = "Optional: `expect_state`, a plan's `current_state.state_hash`, applies only to that state (else refused as `changed-since-plan`)", content_type = "application/json"),
    responses(
        (status = 202, body = RemediationQueued, description = "Queued (or already under way: the earlier approval's id)"),
        (status = 400, body = shared_types::ErrorBody, description = "A bad body; `field` names `expect_state` when that is the culprit"),
        (status = 404, body = shared_types::ErrorBody, description = "No such finding, or remediation is not set up on this deployment"),
        (status = 409, body = shared_types::ErrorBody, description = "Refused by a guard that needs no read from AWS, named as `code` (`not-enabled`, `not-allowlisted`, `out-of-scope`, `rate-limited`, `suppressed-or-resolved`; recorded as refused), or `remediation_off`: the server runs without --remediation (nothing recorded or queued)"),
        (status = 413, body = shared_types::ErrorBody),
        (status = 415, body = shared_types::ErrorBody, description = "A body that is not application/json"),
        (status = 422, body = shared_types::ErrorBody, description = "`not_applicable`: no action available here fixes this finding"),
        (status = 503, body = shared_types::ErrorBody),
    ))]
pub async fn post_remediation(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<RemediationQueued>), ApiError> {
    check_finding_id(&id)?;
    let request = approval_body(&headers, &body)?;
    let service = service(&state)?;
    let approval = Approval::Person(caller.actor.clone());
    let now = chrono::Utc::now();
    match service
        .approve(&id, approval, request.expect_state, now)
        .await?
    {
        Approved::Queued(record) => {
            tracing::info!(finding = %id, remediation = %record.id, actor = %caller.actor, "remediation approved");
            Ok((
                StatusCode::ACCEPTED,
                axum::Json(RemediationQueued {
                    id: record.id,
                    status: record.status,
                }),
            ))
        }
        Approved::Refused { record, guard } => Err(ApiError::Conflict {
            code: guard.name.as_str(),
            message: format!(
                "refused by {}: {} (recorded as remediation {})",
                guard.name, guard.reason, record.id
            ),
            field: None,
        }),
        Approved::NotApplicable(plan) => Err(ApiError::Unprocessable {
            code: "not_applicable",
            message: format!("not applicable: {}", plan.after),
        }),
    }
}

/// `GET /remediations`'s query as the OpenAPI document describes it (the
/// handler parses the pairs itself, in [`list_query`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct ListParams {
    /// Only this finding's remediations.
    #[param(min_length = 1, max_length = 128)]
    finding: Option<String>,
    /// Only those in this status.
    status: Option<RemediationStatus>,
    /// At most this many, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The list's query: `finding`, `status`, `limit`, each at most once.
fn list_query(pairs: &[(String, String)]) -> Result<RecordQuery, ApiError> {
    let mut q = RecordQuery {
        limit: DEFAULT_LIST,
        ..Default::default()
    };
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in pairs {
        if seen.contains(&k.as_str()) {
            return Err(ApiError::invalid(k, "given more than once"));
        }
        match k.as_str() {
            "finding" => {
                if v.is_empty() || v.chars().count() > MAX_FINDING_PARAM {
                    return Err(ApiError::invalid(
                        "finding",
                        format!("must be a finding id of 1 to {MAX_FINDING_PARAM} characters"),
                    ));
                }
                q.finding_id = Some(v.clone());
            }
            "status" => {
                let status: RemediationStatus = v
                    .parse()
                    .map_err(|e: String| ApiError::invalid("status", e))?;
                q.status = Some(status);
            }
            "limit" => {
                q.limit = v
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIST).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "limit",
                            format!("must be an integer from 1 to {MAX_LIST}"),
                        )
                    })?;
            }
            other => return Err(unknown_parameter(other)),
        }
        seen.push(k);
    }
    Ok(q)
}

/// `GET /remediations`: every remediation, newest first.
#[utoipa::path(get, path = "/remediations", tag = "remediation",
    params(ListParams),
    responses(
        (status = 200, body = RemediationList, description = "Newest approval first: who approved (or `automatic remediation`) and when, status, the refusing guard or the error, the plan that ran and `undo`, what reverses the change (a removed policy's document and the call that restores it)"),
        (status = 400, body = shared_types::ErrorBody, description = "A bad or unknown parameter, named in `field`"),
        (status = 404, body = shared_types::ErrorBody, description = "Remediation is not set up on this deployment"),
        (status = 503, body = shared_types::ErrorBody),
    ))]
pub async fn list_remediations(
    State(state): State<AppState>,
    QueryPairs(pairs): QueryPairs,
) -> Result<axum::Json<RemediationList>, ApiError> {
    let query = list_query(&pairs)?;
    let items = service(&state)?.list(&query).await?;
    Ok(axum::Json(RemediationList { items }))
}

/// `GET /remediations/{rid}`: one remediation.
#[utoipa::path(get, path = "/remediations/{rid}", tag = "remediation",
    params(("rid" = String, Path, description = "The id POST /findings/{id}/remediation answered")),
    responses(
        (status = 200, body = RemediationRecord),
        (status = 404, body = shared_types::ErrorBody, description = "No such remediation (or remediation is not set up on this deployment)"),
        (status = 503, body = shared_types::ErrorBody),
    ))]
pub async fn get_remediation(
    State(state): State<AppState>,
    Path(rid): Path<String>,
) -> Result<axum::Json<RemediationRecord>, ApiError> {
    match service(&state)?.get(&rid).await? {
        Some(r) => Ok(axum::Json(r)),
        None => Err(ApiError::NotFound("no such remediation".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(q).unwrap()
    }

    fn field(e: ApiError) -> Option<String> {
        match e {
            ApiError::BadRequest { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_list_query_names_each_bad_parameter() {
        let q = list_query(&pairs("finding=abc&status=refused&limit=5")).unwrap();
        assert_eq!(q.finding_id.as_deref(), Some("abc"));
        assert_eq!(q.status, Some(RemediationStatus::Refused));
        assert_eq!(q.limit, 5);
        assert_eq!(list_query(&[]).unwrap().limit, DEFAULT_LIST);
        for (bad, name) in [
            ("status=done", "status"),
            ("status=Queued", "status"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=x", "limit"),
            ("finding=", "finding"),
            ("finding=a&finding=b", "finding"),
            ("findng=a", "findng"),
        ] {
            let e = list_query(&pairs(bad)).unwrap_err();
            assert_eq!(field(e).as_deref(), Some(name), "{bad}");
        }
    }

    #[test]
    fn an_approval_body_is_optional_and_its_hash_checked() {
        let json = {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
            h
        };
        let hash = "a".repeat(64);
        let body = |s: &str| Bytes::from(s.to_string());
        assert_eq!(
            approval_body(&HeaderMap::new(), &body("")).unwrap(),
            RemediationRequest::default()
        );
        assert_eq!(
            approval_body(&json, &body("null")).unwrap(),
            RemediationRequest::default()
        );
        let ok = approval_body(&json, &body(&format!("{{\"expect_state\":\"{hash}\"}}")));
        assert_eq!(ok.unwrap().expect_state, Some(hash));
        let bad = approval_body(&json, &body("{\"expect_state\":\"ABC\"}")).unwrap_err();
        assert_eq!(field(bad).as_deref(), Some("expect_state"));
        assert!(matches!(
            approval_body(&json, &body("{\"other\":1}")),
            Err(ApiError::BadRequest { .. })
        ));
        assert!(matches!(
            approval_body(&json, &body("{")),
            Err(ApiError::BadRequest { .. })
        ));
        assert!(matches!(
            approval_body(&HeaderMap::new(), &body("{}")),
            Err(ApiError::UnsupportedMediaType)
        ));
    }
}
