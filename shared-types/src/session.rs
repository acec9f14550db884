use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The signed-in person, as the provider describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionUser {
    /// The provider's stable user id.
    pub sub: String,
    /// E-mail address, when the provider sent one.
    pub email: Option<String>,
    /// Display name (or sign-in name), when the provider sent one.
    pub name: Option<String>,
}

/// `GET /auth/session` answer: who is signed in in this browser, and the token
/// state-changing requests must echo in `X-CSRF-Token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The signed-in person.
    pub user: SessionUser,
    /// `viewer`, `analyst` or `admin`: what the API lets this session do.
    pub role: String,
    /// When the session ends at the latest (renewals do not move it).
    pub expires_at: DateTime<Utc>,
    /// Send as `X-CSRF-Token` on POST, PUT, PATCH and DELETE.
    pub csrf_token: String,
}

/// `POST /auth/logout` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogoutInfo {
    /// Where to send the browser to sign out at the provider too; `null` when the
    /// provider offers no sign-out endpoint (the session is over here either way).
    pub logout_url: Option<String>,
}
