//! What the live push needs beyond the local hub (`sinks::live`): single-use
//! tickets that open a socket without a token in the URL (kept in memory locally,
//! in DynamoDB on AWS), and on AWS the WebSocket connections table, posting
//! frames through API Gateway, and `resume` served from the findings table.

/// API Gateway WebSocket connections of the dashboards open now (DynamoDB).
#[cfg(feature = "aws")]
pub mod connections;
/// Posting a frame to one connection through the API Gateway Management API.
#[cfg(feature = "aws")]
pub mod gateway;
/// Feed positions on AWS, and `resume` from the findings table.
#[cfg(feature = "aws")]
pub mod resume;
/// Single-use tickets, in memory or in DynamoDB.
pub mod tickets;

/// True when a browser page from `origin` may open the live socket served at
/// `host`: the server's own origin, or one of `allowed` (the CORS origins and,
/// on AWS, the dashboard's URL). Non-browser clients send no `Origin`; they
/// still need a ticket when credentials are required.
pub fn origin_allowed(origin: Option<&str>, host: &str, allowed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    let own = origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest.eq_ignore_ascii_case(host));
    own || allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// Why a live operation on AWS failed, and whether trying again may help.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// Throttling, a timeout or a 5xx: may clear by itself.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else (permissions, a missing table, bad data).
    #[error("{0}")]
    Failed(String),
}

impl LiveError {
    /// True when trying again later may work.
    pub fn is_retryable(&self) -> bool {
        matches!(self, LiveError::Unavailable(_))
    }

    /// Classifies an SDK error of `operation` on `resource`.
    #[cfg(feature = "aws")]
    pub(crate) fn of<E>(
        operation: &str,
        resource: &str,
        err: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    ) -> LiveError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let text = format!("{operation} {resource}: {}", crate::aws::error_text(err));
        if crate::aws::is_retryable(err) {
            LiveError::Unavailable(text)
        } else {
            LiveError::Failed(text)
        }
    }
}
