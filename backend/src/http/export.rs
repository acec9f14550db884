//! `GET /findings/export`: the whole filtered set as a file download, streamed.
//!
//! Role: `viewer` (reading), once roles exist.

use super::error::ApiError;
use super::extract::QueryPairs;
use super::findings::{split_filter, unknown_parameter};
use super::AppState;
use crate::export::{export, ExportError, ExportFormat, ExportOptions};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use shared_types::FindingFilter;

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Store(s) => s.into(),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

/// The `format` values, as the document lists them ([`ExportFormat::parse`]
/// reads them; a unit test keeps the two lists equal).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Describes the parameter; the handler parses it.
pub enum FormatParam {
    /// Comma-separated values.
    Csv,
    /// JSON Lines.
    Jsonl,
    /// OCSF 1.5 Detection Findings as JSON Lines.
    Ocsf,
}

/// `true`/`false` (absent = `false`).
fn flag(key: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::invalid(key, "must be true or false")),
    }
}

/// The list's filters plus `format`, `detail` and `raw`. Paging does not apply
/// (the export is the whole set), and an option that does nothing for the chosen
/// format is refused rather than ignored.
fn parse_export_query(
    pairs: &[(String, String)],
) -> Result<(FindingFilter, ExportOptions), ApiError> {
    let (filter, rest) = split_filter(pairs)?;
    let mut options = ExportOptions::default();
    for (k, v) in rest {
        match k {
            "format" => {
                options.format = ExportFormat::parse(v)
                    .ok_or_else(|| ApiError::invalid("format", "must be one of csv, jsonl, ocsf"))?
            }
            "detail" => options.detail = flag(k, v)?,
            "raw" => options.raw = flag(k, v)?,
            "limit" | "cursor" => {
                return Err(ApiError::invalid(
                    k,
                    "an export is the whole filtered set: limit and cursor do not apply",
                ))
            }
            other => return Err(unknown_parameter(other)),
        }
    }
    if options.detail && options.format != ExportFormat::Jsonl {
        return Err(ApiError::invalid("detail", "applies to format=jsonl only"));
    }
    if options.raw && options.format != ExportFormat::Ocsf {
        return Err(ApiError::invalid("raw", "applies to format=ocsf only"));
    }
    Ok((filter, options))
}

/// `GET /findings/export`: every finding the filters select, newest first, as a
/// CSV, JSON Lines or OCSF file; chunked, gzip when the client accepts it.
#[utoipa::path(get, path = "/findings/export", tag = "findings",
    params(
        super::filter_params::FilterParams,
        ("format" = inline(Option<FormatParam>), Query, description = "csv (default), jsonl or ocsf (OCSF 1.5 Detection Finding, JSON Lines)"),
        ("detail" = Option<bool>, Query, description = "jsonl only (refused with another format): whole findings instead of list items"),
        ("raw" = Option<bool>, Query, description = "ocsf only (refused with another format): the original document under unmapped.original"),
    ),
    responses(
        (status = 200, description = "The file (Content-Disposition: attachment)",
            content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, body = shared_types::ErrorBody),
        (status = 401, body = shared_types::ErrorBody),
        (status = 503, body = shared_types::ErrorBody),
    ))]
pub async fn get_export(
    State(state): State<AppState>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, ApiError> {
    let (filter, options) = parse_export_query(&pairs)?;
    let mut chunks = Box::pin(export(state.store().clone(), filter, options));
    // The first page is read before answering: a store that is down gets a 503,
    // not a 200 cut off after its headers.
    let first = chunks.next().await.transpose()?;
    let rest = chunks.map(|chunk| {
        chunk.map(|c| c.bytes).inspect_err(|e| {
            // Headers are sent: cutting the body off is the only way left to say
            // the file is incomplete.
            tracing::error!(error = %e, retryable = e.is_retryable(), "export stopped");
        })
    });
    let body = futures::stream::iter(first.map(|c| Ok(c.bytes))).chain(rest);
    let disposition = format!(
        "attachment; filename=\"{}\"",
        options.format.file_name(chrono::Utc::now())
    );
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(options.format.content_type()),
        ),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).map_err(|e| ApiError::Internal(Box::new(e)))?,
        ),
        // Findings are sensitive: no shared cache keeps a copy.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    Ok((headers, Body::from_stream(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<(FindingFilter, ExportOptions), ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
        parse_export_query(&pairs)
    }

    fn field_of(e: ApiError) -> Option<String> {
        match e {
            ApiError::BadRequest { field, .. } => field,
            _ => None,
        }
    }

    #[test]
    fn csv_is_the_default_and_filters_are_the_lists() {
        let (f, o) = parse("severity=HIGH&severity=CRITICAL&account=123456789012").unwrap();
        assert_eq!(o, ExportOptions::default());
        assert_eq!(f.severities.len(), 2);
        assert_eq!(f.account.as_deref(), Some("123456789012"));
        let (_, o) = parse("format=ocsf&raw=true").unwrap();
        assert_eq!((o.format, o.raw), (ExportFormat::Ocsf, true));
    }

    #[test]
    fn the_documented_formats_are_the_ones_parsed() {
        let schema =
            serde_json::to_value(<FormatParam as utoipa::PartialSchema>::schema()).unwrap();
        let documented: Vec<&str> = schema["enum"]
            .as_array()
            .expect("an enum of strings")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let parsed: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(documented, parsed);
    }

    #[test]
    fn bad_options_name_their_parameter() {
        for (q, field) in [
            ("format=xml", "format"),
            ("format=CSV", "format"),
            ("format=jsonl&detail=yes", "detail"),
            ("format=csv&detail=true", "detail"),
            ("format=jsonl&raw=true", "raw"),
            ("limit=10", "limit"),
            ("cursor=abc", "cursor"),
            ("severty=HIGH", "severty"),
            ("severity=SEVERE", "severity"),
        ] {
            assert_eq!(
                field_of(parse(q).unwrap_err()).as_deref(),
                Some(field),
                "{q}"
            );
        }
    }
}
