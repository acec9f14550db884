//! Extractors that turn every kind of bad input into the API's error body.

use super::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, but a bad body gets a 400/413/415 with our error body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        _ => {
            // serde's message names the field and the problem, never server state.
            let message = match &r {
                JsonRejection::JsonDataError(e) => e.body_text(),
                JsonRejection::JsonSyntaxError(_) => "request body is not valid JSON".into(),
                _ => "request body could not be read".into(),
            };
            ApiError::BadRequest {
                code: "invalid_body",
                message,
                field: None,
            }
        }
    }
}

/// The query string as decoded `(key, value)` pairs, in order.
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(raw)
            .map(QueryPairs)
            .map_err(|_| ApiError::BadRequest {
                code: "invalid_query",
                message: "query string is not valid URL encoding".into(),
                field: None,
            })
    }
}

/// Like `axum::extract::Path`, but a path segment that does not decode (`%FF`,
/// not UTF-8) gets a 400 with our error body instead of axum's plain text.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            // axum's text quotes the bad segment; ours names the problem only.
            Err(_) => Err(ApiError::BadRequest {
                code: "invalid_path",
                message: "a path segment is not valid percent-encoded UTF-8".into(),
                field: None,
            }),
        }
    }
}
