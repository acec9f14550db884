//! `POST /events`: hand the server documents of any kind `cspm ingest` reads — a
//! Security Hub event or findings, a CloudTrail event or log file, an alarm, a
//! GuardDuty finding, OCSF findings (`Findings Imported V2`, Prowler's JSON-OCSF),
//! an EventBridge API-destination delivery — and get back what
//! the pipeline did with each. This is how a local deployment receives events in
//! real time.

use super::error::ApiError;
use super::{AppState, MAX_EVENTS_DECODED_BYTES};
use crate::documents::limits::{Capped, LimitExceeded};
use crate::documents::read_documents;
use crate::pipeline::{OutcomeBody, Producer};
use crate::store::Origin;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use std::io::Read;

/// How the body is split into documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    /// One JSON document, or an array of documents.
    Json,
    /// One document per line.
    Lines,
}

/// The body kind from `Content-Type` (parameters such as `charset` ignored).
fn body_kind(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(BodyKind::Json),
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => {
            Ok(BodyKind::Lines)
        }
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

/// The `application/json` body as the document describes it: one document (an
/// object) or an array of documents. Which kind of document an object is, is
/// the pipeline's business: one it cannot read is reported under `rejected` in
/// the answer (with its index), not refused with the request.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Describes the body; the handler reads it as bytes.
pub enum EventsBody {
    /// One document.
    Document(std::collections::BTreeMap<String, serde_json::Value>),
    /// Several documents.
    Documents(Vec<serde_json::Value>),
}

/// `POST /events`: runs the body's documents through the pipeline.
///
/// `application/json`: one document or an array of documents (each element's index
/// is its position). Either kind may be gzip (`Content-Encoding: gzip` or by its
/// magic bytes); nesting deeper than 127 levels is a 400. `application/x-ndjson` / `application/jsonl`: one document per
/// line (its index is its 0-based line; a bad line rejects only itself).
#[utoipa::path(post, path = "/events", tag = "events",
    request_body(content = EventsBody, description = "One document or an array of documents (application/json), or one document per line (application/x-ndjson, application/jsonl); at most 5 MiB",
        content_type = "application/json"),
    responses(
        (status = 200, body = OutcomeBody, description = "What the pipeline did with every document"),
        (status = 400, body = shared_types::ErrorBody, description = "The body is not valid JSON, or neither an object nor an array"),
        (status = 401, body = shared_types::ErrorBody),
        (status = 413, body = shared_types::ErrorBody, description = "Body over 5 MiB, or a gzip body expanding past 64 MiB"),
        (status = 415, body = shared_types::ErrorBody, description = "Not JSON or JSON Lines, or a content coding other than gzip"),
        (status = 503, body = shared_types::ErrorBody, description = "The store failed; nothing is reported as done"),
    ))]
pub async fn post_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::Json<OutcomeBody>, ApiError> {
    let kind = body_kind(&headers)?;
    let body = body.map_err(|r| match r.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest {
            code: "invalid_body",
            message: "request body could not be read".into(),
            field: None,
        },
    })?;
    let gzip = is_gzip(&headers, &body)?;
    // Expanding and the syntax pass are CPU work on up to tens of MiB: off the
    // async workers, so other requests keep being answered meanwhile.
    let body = tokio::task::spawn_blocking(move || prepare(body, gzip, kind))
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))??;
    let lines = kind == BodyKind::Lines;
    let producer: Producer =
        Box::new(move |feed| read_documents(&body[..], lines, &mut |item| feed.item("body", item)));
    let outcome = state
        .pipeline
        .run(producer, Origin::Events, &|_| {})
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "POST /events: store failed");
            ApiError::Unavailable
        })?;
    tracing::info!(
        documents = outcome.documents,
        stored = outcome.stored,
        updated = outcome.updated,
        rejected = outcome.rejected.len(),
        failed = outcome.failed.len(),
        "events received"
    );
    Ok(axum::Json(OutcomeBody::from(&outcome)))
}

/// Whether the body is gzip: `Content-Encoding: gzip`, or gzip's magic bytes
/// (as `cspm ingest` detects it, so a CloudTrail `.json.gz` can be posted as is).
/// Any other content coding is refused.
fn is_gzip(headers: &HeaderMap, body: &[u8]) -> Result<bool, ApiError> {
    let coding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    match coding.as_deref() {
        None | Some("identity") | Some("") => Ok(body.starts_with(&[0x1f, 0x8b])),
        Some("gzip") | Some("x-gzip") => Ok(true),
        Some(_) => Err(ApiError::UnsupportedMediaType),
    }
}

/// The body ready for the reader: expanded when gzip (up to
/// [`MAX_EVENTS_DECODED_BYTES`]), and for JSON checked in one syntax pass before
/// anything is stored, so a malformed body is a 400 and nothing of it is
/// half-stored.
fn prepare(body: Bytes, gzip: bool, kind: BodyKind) -> Result<Bytes, ApiError> {
    let body = if gzip { gunzip(&body)? } else { body };
    if kind == BodyKind::Json {
        serde_json::from_slice::<serde::de::IgnoredAny>(&body).map_err(|e| {
            ApiError::BadRequest {
                code: "invalid_body",
                message: format!(
                    "request body is not one JSON document (line {}, column {}): {}",
                    e.line(),
                    e.column(),
                    describe(&e)
                ),
                field: None,
            }
        })?;
        // A lone string, number, boolean or null is no document nor a batch:
        // the request is malformed (an array's elements are judged one by one).
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if !matches!(first, Some(b'{' | b'[')) {
            return Err(ApiError::BadRequest {
                code: "invalid_body",
                message: "the body must be one document (a JSON object) or an array of documents"
                    .into(),
                field: None,
            });
        }
    }
    Ok(body)
}

/// Expands a gzip body, refusing it past [`MAX_EVENTS_DECODED_BYTES`].
fn gunzip(body: &[u8]) -> Result<Bytes, ApiError> {
    // Room for the whole limit up front: only the pages written become resident,
    // and a growing Vec would double past the limit and copy (a bomb then cost
    // ~3x the limit at its peak instead of the limit).
    let mut out = Vec::with_capacity(MAX_EVENTS_DECODED_BYTES as usize + 1);
    let decoder = flate2::read::MultiGzDecoder::new(body);
    match Capped::new(decoder, MAX_EVENTS_DECODED_BYTES).read_to_end(&mut out) {
        Ok(_) => Ok(Bytes::from(out)),
        Err(e) => Err(match LimitExceeded::from_io(&e) {
            Some(_) => ApiError::ExpandsTooFar(format!(
                "the gzip body expands to more than {MAX_EVENTS_DECODED_BYTES} bytes (the limit)"
            )),
            None => ApiError::BadRequest {
                code: "invalid_body",
                message: "the body is not valid gzip".into(),
                field: None,
            },
        }),
    }
}

/// serde's category of a syntax error, in words (its message may quote input).
fn describe(e: &serde_json::Error) -> String {
    if LimitExceeded::is_too_deep(e) {
        return LimitExceeded::TooDeep.to_string();
    }
    let words = match e.classify() {
        serde_json::error::Category::Eof => "it ends early",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data | serde_json::error::Category::Io => "unreadable",
    };
    words.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        h
    }

    #[test]
    fn a_json_body_is_an_object_or_an_array() {
        for ok in [&b" {}"[..], b"[null, 42]", b"\n[]", b"{\"Records\":[]}"] {
            assert!(prepare(Bytes::from_static(ok), false, BodyKind::Json).is_ok());
        }
        for bad in [&b"null"[..], b" 42", b"\"text\"", b"true", b"-1.5"] {
            assert!(matches!(
                prepare(Bytes::from_static(bad), false, BodyKind::Json),
                Err(ApiError::BadRequest {
                    code: "invalid_body",
                    ..
                })
            ));
        }
        // JSON Lines: each line is judged by itself, a scalar line included.
        assert!(prepare(Bytes::from_static(b"42\n{}\n"), false, BodyKind::Lines).is_ok());
    }

    #[test]
    fn content_types_choose_the_split_and_anything_else_is_415() {
        assert_eq!(
            body_kind(&headers("application/json; charset=utf-8")).unwrap(),
            BodyKind::Json
        );
        assert_eq!(
            body_kind(&headers("Application/X-NDJSON")).unwrap(),
            BodyKind::Lines
        );
        assert_eq!(
            body_kind(&headers("application/jsonl")).unwrap(),
            BodyKind::Lines
        );
        for bad in ["text/plain", "application/xml", ""] {
            assert!(matches!(
                body_kind(&headers(bad)),
                Err(ApiError::UnsupportedMediaType)
            ));
        }
        assert!(matches!(
            body_kind(&HeaderMap::new()),
            Err(ApiError::UnsupportedMediaType)
        ));
    }
}
