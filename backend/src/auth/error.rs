//! Why a request could not be authenticated.

/// An authentication failure. Only [`AuthError::Unavailable`] is worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credentials were sent where they are required (401).
    #[error("authentication required")]
    Missing,
    /// Credentials were sent and refused (401). The reason is logged, never sent:
    /// it would tell an attacker which check to work around.
    #[error("credentials refused: {0}")]
    Rejected(String),
    /// A state-changing request authenticated by the session cookie did not carry
    /// the session's `X-CSRF-Token` (403 `csrf`). Permanent.
    #[error("missing or wrong X-CSRF-Token")]
    Csrf,
    /// What verifies credentials could not be reached (the token table, a JWKS
    /// endpoint); retryable (503).
    #[error("credentials could not be checked: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AuthError {
    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, AuthError::Unavailable(_))
    }
}
