//! Export jobs: `POST /exports` starts one, `GET /exports/{id}` reports it and,
//! once done, where to download it; `GET /exports/{id}/download` serves the file
//! where the store has no presigned links (the local folder) and redirects to a
//! fresh link where it has (S3).
//!
//! Role: `viewer` (an export is a read). A job is visible to the principal who
//! started it and to admins only; to anyone else it does not exist (404).

use super::error::ApiError;
use super::extract::Json;
use super::extract::Path;
use super::AppState;
use crate::auth::Principal;
use crate::export::jobs::{Download, ExportJobs, JobError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use shared_types::ExportJob;

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        match e {
            JobError::NotFound => ApiError::NotFound("no such export".into()),
            JobError::NotReady(_) => ApiError::Conflict {
                code: "export_not_ready",
                message: e.to_string(),
                field: None,
            },
            JobError::TooMany(_) => ApiError::TooManyRequests(e.to_string()),
            JobError::Export(e) => e.into(),
            e if e.is_retryable() => {
                tracing::warn!(error = %e, "export store or queue unavailable");
                ApiError::Unavailable
            }
            e => ApiError::Internal(Box::new(e)),
        }
    }
}

/// The jobs, or a 404 on a deployment without them.
fn jobs(state: &AppState) -> Result<&ExportJobs, ApiError> {
    state
        .exports
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("exports are not enabled on this server".into()))
}

/// `POST /exports`: starts exporting the filtered findings into a file.
#[utoipa::path(post, path = "/exports", tag = "exports",
    request_body = shared_types::ExportRequest,
    responses(
        (status = 202, body = ExportJob, description = "Started: poll GET /exports/{id}"),
        (status = 400, body = shared_types::ErrorBody, description = "A bad field, named in `field`"),
        (status = 404, body = shared_types::ErrorBody, description = "Exports are not enabled on this server"),
        (status = 413, body = shared_types::ErrorBody),
        (status = 415, body = shared_types::ErrorBody, description = "The body is not application/json"),
        (status = 429, body = shared_types::ErrorBody, description = "The caller already has the most running exports allowed"),
        (status = 503, body = shared_types::ErrorBody),
    ))]
pub async fn post_export(
    State(state): State<AppState>,
    caller: Principal,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<ExportJob>), ApiError> {
    let spec = super::export_request::parse(&body)?;
    let jobs = jobs(&state)?;
    let record = jobs.start(&caller, &spec).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(jobs.view(&record).await?)))
}

/// `GET /exports/{id}`: the job's state and progress; its download URL once done.
#[utoipa::path(get, path = "/exports/{id}", tag = "exports",
    params(("id" = String, Path, description = "The id POST /exports answered")),
    responses(
        (status = 200, body = ExportJob),
        (status = 404, body = shared_types::ErrorBody, description = "No such export (or not the caller's)"),
        (status = 503, body = shared_types::ErrorBody),
    ))]
pub async fn get_export_job(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<ExportJob>, ApiError> {
    let jobs = jobs(&state)?;
    let record = jobs.get(&caller, &id).await?;
    Ok(axum::Json(jobs.view(&record).await?))
}

/// `GET /exports/{id}/download`: the finished file, with the `Content-Disposition`
/// of `GET /findings/export` (or a redirect to a presigned link).
#[utoipa::path(get, path = "/exports/{id}/download", tag = "exports",
    params(("id" = String, Path, description = "The id POST /exports answered")),
    responses(
        (status = 200, description = "The file (Content-Disposition: attachment)",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 303, description = "The file is at the presigned link in Location (valid 15 minutes)"),
        (status = 404, body = shared_types::ErrorBody, description = "No such export (or not the caller's)"),
        (status = 409, body = shared_types::ErrorBody, description = "The export is still running, or failed"),
        (status = 503, body = shared_types::ErrorBody),
    ))]
pub async fn get_export_download(
    State(state): State<AppState>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let internal = |e: axum::http::header::InvalidHeaderValue| ApiError::Internal(Box::new(e));
    match jobs(&state)?.download(&caller, &id).await? {
        Download::Link(url) => {
            let location = HeaderValue::from_str(&url).map_err(internal)?;
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
        }
        Download::File {
            chunks,
            content_type,
            file_name,
            bytes,
        } => {
            let disposition = format!("attachment; filename=\"{file_name}\"");
            let headers = [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_str(&disposition).map_err(internal)?,
                ),
                (header::CONTENT_LENGTH, HeaderValue::from(bytes)),
                // Findings are sensitive: no shared cache keeps a copy.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ];
            Ok((headers, Body::from_stream(chunks)).into_response())
        }
    }
}
