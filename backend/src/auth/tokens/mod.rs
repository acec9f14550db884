//! Named API tokens: `cspm tokens create|list|revoke`. Only a token's SHA-256 is
//! stored; the token itself is printed once when it is made. Kept behind the
//! [`TokenStore`] port so the local SQLite table and a table on AWS behave alike.

/// Tokens in the auth table on AWS.
#[cfg(feature = "aws")]
pub mod dynamo;
/// Making tokens, hashing them, and the names they may have.
pub mod secret;
/// The token table in the server's SQLite file.
pub mod sqlite;

use super::Role;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
#[cfg(feature = "aws")]
pub use dynamo::DynamoTokens;
pub use secret::{generate, TokenHash};
pub use sqlite::SqliteTokens;

/// What is kept about a named token (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedToken {
    /// Its unique name; the audit trail records `token:NAME`.
    pub name: String,
    /// What its holder may do.
    pub role: Role,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// When it stops working (`None`: never).
    pub expires: Option<DateTime<Utc>>,
    /// When it was last accepted (updated at most once a minute).
    pub last_used: Option<DateTime<Utc>>,
    /// When it was revoked. A revoked token keeps its row, so its name stays taken
    /// (one name means one token in the audit trail) and authentication stays on.
    pub revoked: Option<DateTime<Utc>>,
}

impl NamedToken {
    /// True when the token may be used at `now`: not revoked, not expired.
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked.is_none() && self.expires.is_none_or(|e| now < e)
    }
}

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// A token with this name exists (revoked ones included); permanent.
    #[error("a token named {0:?} already exists (names are never reused, even after revoke)")]
    Duplicate(String),
    /// No unrevoked token has this name; permanent.
    #[error("no active token named {0:?}")]
    NotFound(String),
    /// The name breaks the naming rule; permanent.
    #[error("token names are 1 to 64 letters, digits, '.', '_' or '-' (got {0:?})")]
    InvalidName(String),
    /// The table could not be read or written (locked, unreachable); retryable.
    #[error("token store: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl TokenError {
    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, TokenError::Backend(_))
    }
}

/// Where named tokens are kept. Every lookup goes to the store, so a revoke is
/// seen by the next request of every running server.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Keeps `token` under `hash`; [`TokenError::Duplicate`] when the name is taken.
    async fn create(&self, token: &NamedToken, hash: &TokenHash) -> Result<(), TokenError>;
    /// Every token, revoked ones included, by name.
    async fn list(&self) -> Result<Vec<NamedToken>, TokenError>;
    /// Revokes the active token `name` at `at`; [`TokenError::NotFound`] when there
    /// is none.
    async fn revoke(&self, name: &str, at: DateTime<Utc>) -> Result<(), TokenError>;
    /// The token whose hash is `hash`, usable or not.
    async fn find(&self, hash: &TokenHash) -> Result<Option<NamedToken>, TokenError>;
    /// Records that `name` was accepted at `at`.
    async fn touch(&self, name: &str, at: DateTime<Utc>) -> Result<(), TokenError>;
    /// True once any token was ever created: from then on every route but
    /// `/health` needs credentials.
    async fn any(&self) -> Result<bool, TokenError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_usable_until_it_expires_or_is_revoked() {
        let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut t = NamedToken {
            name: "ci".into(),
            role: Role::Ingest,
            created: t0,
            expires: Some(t0 + chrono::Duration::days(1)),
            last_used: None,
            revoked: None,
        };
        assert!(t.usable_at(t0));
        assert!(!t.usable_at(t0 + chrono::Duration::days(1)));
        t.expires = None;
        assert!(t.usable_at(t0 + chrono::Duration::days(999)));
        t.revoked = Some(t0);
        assert!(!t.usable_at(t0));
    }
}
