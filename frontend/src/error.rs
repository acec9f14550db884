//! What can go wrong talking to the API, phrased for the analyst reading the page.

use shared_types::{ErrorBody, ErrorDetail};
use std::fmt;

/// A failed API call.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No HTTP answer at all: server down, network cut, CORS refused.
    Unreachable,
    /// An HTTP error status, with the API's error body when it sent one.
    Status {
        /// HTTP status code.
        status: u16,
        /// The `error` object of the body, if it parsed.
        detail: Option<ErrorDetail>,
    },
    /// A success status whose body is not what the dashboard expects (e.g. an HTML page
    /// from a proxy, or an API of another version).
    BadAnswer(String),
}

impl ApiError {
    /// Builds a status error from a response body, keeping the API's own message when
    /// the body is the standard `{"error":{…}}`.
    pub fn from_status(status: u16, body: &str) -> ApiError {
        let detail = serde_json::from_str::<ErrorBody>(body)
            .ok()
            .map(|b| b.error);
        ApiError::Status { status, detail }
    }

    /// True for a missing finding, which pages show as "not found" rather than a failure.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status: 404, .. })
    }

    /// True when the API refused a change to "all matching" because the filter
    /// matches another number of findings than the person confirmed (409
    /// `expected_total_mismatch`; nothing was changed). The answer does not carry
    /// the new number: the page counts again.
    pub fn is_count_mismatch(&self) -> bool {
        matches!(
            self,
            ApiError::Status { status: 409, detail: Some(d) } if d.code == "expected_total_mismatch"
        )
    }

    /// True when the API wants credentials (no session, or it ended): the
    /// dashboard asks the person to sign in again instead of showing a failure.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Status { status: 401, .. })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable => f.write_str(
                "The API cannot be reached. Check that the cspm server is running and your network is up, then retry.",
            ),
            ApiError::Status { status: 401 | 403, .. } => {
                f.write_str("The API refused the request: you are not signed in or not allowed to do this.")
            }
            ApiError::Status { status, detail: Some(d) } => {
                write!(f, "The API answered {status}: {}", d.message)?;
                if let Some(field) = &d.field {
                    write!(f, " (field: {field})")?;
                }
                Ok(())
            }
            ApiError::Status { status: 404, detail: None } => f.write_str("Not found."),
            ApiError::Status { status, detail: None } => {
                write!(f, "The API answered with an error (HTTP {status}).")
            }
            ApiError::BadAnswer(why) => {
                write!(f, "The API sent an answer the dashboard cannot read: {why}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_the_apis_words_and_field() {
        let e = ApiError::from_status(
            400,
            r#"{"error":{"code":"invalid_parameter","message":"unknown severity","field":"severity"}}"#,
        );
        assert_eq!(
            e.to_string(),
            "The API answered 400: unknown severity (field: severity)"
        );
        let e = ApiError::from_status(502, "<html>Bad gateway</html>");
        assert_eq!(e.to_string(), "The API answered with an error (HTTP 502).");
        assert!(ApiError::from_status(404, "").is_not_found());
        assert!(ApiError::from_status(401, "").is_unauthorized());
        assert!(!ApiError::from_status(403, "").is_unauthorized());
        assert!(ApiError::from_status(401, "{}")
            .to_string()
            .contains("not signed in"));
        assert!(ApiError::Unreachable.to_string().contains("retry"));
    }

    #[test]
    fn only_the_bulk_count_409_is_a_count_mismatch() {
        // The body `POST /findings/workflow` answers (backend/src/http/bulk.rs).
        let e = ApiError::from_status(
            409,
            r#"{"error":{"code":"expected_total_mismatch","message":"the filter matches 90 findings, not the 92 expected; nothing was changed","field":"expected_total"}}"#,
        );
        assert!(e.is_count_mismatch());
        let other = ApiError::from_status(
            409,
            r#"{"error":{"code":"remediation_off","message":"off","field":null}}"#,
        );
        assert!(!other.is_count_mismatch());
        assert!(!ApiError::from_status(409, "").is_count_mismatch());
        assert!(!ApiError::from_status(
            400,
            r#"{"error":{"code":"expected_total_mismatch","message":"x"}}"#
        )
        .is_count_mismatch());
    }
}
