//! The one HTTP error type. Each variant documents its status code; internal
//! details are logged, never sent to the client.

use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use shared_types::{ErrorBody, ErrorDetail};

/// An error answer of the API, rendered as `{"error":{"code","message","field"}}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; `field` names the culprit when there is one.
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// What is wrong, safe to show.
        message: String,
        /// The parameter or body field at fault.
        field: Option<String>,
    },
    /// 401: credentials are required and were missing or refused.
    #[error("authentication required")]
    Unauthorized,
    /// 403: authenticated, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// 403: a state-changing request signed in by the session cookie lacks the
    /// session's `X-CSRF-Token` header.
    #[error("this request needs the X-CSRF-Token header from GET /auth/session")]
    Csrf,
    /// 404: no such finding or route.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request no longer fits the stored data (a bulk change whose filter
    /// now matches another number of findings); nothing was changed.
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// What differs, safe to show.
        message: String,
        /// The body field at fault.
        field: Option<String>,
    },
    /// 422: the request is well formed but cannot be carried out on this
    /// finding (no remediation action fixes it here).
    #[error("{message}")]
    Unprocessable {
        /// Machine-readable code.
        code: &'static str,
        /// Why, safe to show.
        message: String,
    },
    /// 429: the caller has too much under way already (running exports).
    #[error("{0}")]
    TooManyRequests(String),
    /// 405: the route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413: the body is larger than the limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 413: a compressed body expands beyond what is accepted (a gzip bomb);
    /// the bound and the reason are in the message.
    #[error("{0}")]
    ExpandsTooFar(String),
    /// 415: the body is not JSON.
    #[error("expected a JSON body (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// 503: the store is throttled or unreachable; retry later.
    #[error("service temporarily unavailable")]
    Unavailable,
    /// 500: anything unexpected. The source is logged, not shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A 400 for an invalid parameter.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code: "invalid_parameter",
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// The status code this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::Csrf => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge | ApiError::ExpandsTooFar(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Csrf => "csrf",
            ApiError::NotFound(_) => "not_found",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::ExpandsTooFar(_) => "decoded_body_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor(why) => ApiError::BadRequest {
                code: "invalid_cursor",
                message: why.to_string(),
                field: Some("cursor".into()),
            },
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "store unavailable");
                ApiError::Unavailable
            }
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<crate::pipeline::PipelineError> for ApiError {
    fn from(e: crate::pipeline::PipelineError) -> Self {
        match e {
            crate::pipeline::PipelineError::Store(s) => s.into(),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(e: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError;
        match e {
            AuthError::Missing => ApiError::Unauthorized,
            AuthError::Csrf => ApiError::Csrf,
            AuthError::Rejected(why) => {
                // The reason is for the operator; the client learns only "401".
                tracing::info!(reason = %why, "credentials refused");
                ApiError::Unauthorized
            }
            AuthError::Unavailable(source) => {
                tracing::warn!(error = %source, "credentials could not be checked");
                ApiError::Unavailable
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(source) = &self {
            tracing::error!(error = %source, "internal error answering a request");
        }
        let field = match &self {
            ApiError::BadRequest { field, .. } | ApiError::Conflict { field, .. } => field.clone(),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.to_string(),
                field,
            },
        };
        let mut resp = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized) {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
