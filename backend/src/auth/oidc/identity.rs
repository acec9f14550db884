//! What a verified token says about its holder. Role names are passed on as the
//! provider wrote them; mapping them to our roles (unknown → viewer) is the roles
//! module's job, so this module never grants anything.

use super::error::VerifyError;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Which kind of token was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// An OAuth access token (bearer on API calls).
    Access,
    /// An OpenID Connect ID token (the session's proof of sign-in).
    Id,
}

impl TokenUse {
    /// The value Cognito writes in `token_use`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenUse::Access => "access",
            TokenUse::Id => "id",
        }
    }
}

/// The holder of a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The provider's stable user id.
    pub sub: String,
    /// Display name (`name`), where the token has one.
    pub name: Option<String>,
    /// E-mail address (`email`), where the token has one.
    pub email: Option<String>,
    /// Sign-in name: `username` (Cognito access), `cognito:username` (Cognito ID) or
    /// `preferred_username` (most other providers).
    pub username: Option<String>,
    /// The values of the configured roles claim, unmapped.
    pub roles_claim: Vec<String>,
    /// Which kind of token this was.
    pub token_use: TokenUse,
    /// The token's `exp`: a session must renew before this.
    pub expires_at: DateTime<Utc>,
}

/// Builds the identity from verified claims.
pub(crate) fn identity_from(
    claims: &Map<String, Value>,
    roles_claim: &str,
    token_use: TokenUse,
) -> Result<VerifiedIdentity, VerifyError> {
    let sub = match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err(VerifyError::InvalidClaim("sub")),
        None => return Err(VerifyError::MissingClaim("sub")),
    };
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(VerifyError::InvalidClaim("exp"))?;
    let expires_at = DateTime::from_timestamp(exp, 0).ok_or(VerifyError::InvalidClaim("exp"))?;
    let text = |key: &str| claims.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(VerifiedIdentity {
        sub,
        name: text("name"),
        email: text("email"),
        username: text("username")
            .or_else(|| text("cognito:username"))
            .or_else(|| text("preferred_username")),
        roles_claim: roles(claims, roles_claim),
        token_use,
        expires_at,
    })
}

/// The strings in the roles claim: a JSON list (Cognito, Keycloak, Entra) or one
/// string of space- or comma-separated names. The literal key is tried first, since
/// names such as `cognito:groups` or `https://example.com/roles` are common; then a
/// dotted path (`realm_access.roles`). Anything else gives no roles.
pub(crate) fn roles(claims: &Map<String, Value>, claim: &str) -> Vec<String> {
    let value = claims.get(claim).or_else(|| {
        let mut parts = claim.split('.');
        let first = claims.get(parts.next()?)?;
        parts.try_fold(first, |v, key| v.get(key))
    });
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn roles_come_from_lists_strings_and_nested_paths() {
        let c = obj(json!({
            "cognito:groups": ["analyst", "admin"],
            "roles": "viewer, analyst  admin",
            "realm_access": {"roles": ["admin"]},
            "groups": 7,
        }));
        assert_eq!(roles(&c, "cognito:groups"), ["analyst", "admin"]);
        assert_eq!(roles(&c, "roles"), ["viewer", "analyst", "admin"]);
        assert_eq!(roles(&c, "realm_access.roles"), ["admin"]);
        assert!(roles(&c, "groups").is_empty());
        assert!(roles(&c, "absent").is_empty());
    }

    #[test]
    fn identity_takes_cognito_and_generic_names() {
        let id = identity_from(
            &obj(json!({"sub": "u1", "exp": 2_000_000_000, "cognito:username": "alice", "email": "a@example.com"})),
            "cognito:groups",
            TokenUse::Id,
        )
        .unwrap();
        assert_eq!(id.username.as_deref(), Some("alice"));
        assert_eq!(id.email.as_deref(), Some("a@example.com"));
        assert_eq!(id.expires_at.timestamp(), 2_000_000_000);
        assert!(id.roles_claim.is_empty());
        let err =
            identity_from(&obj(json!({"sub": 5, "exp": 1})), "r", TokenUse::Access).unwrap_err();
        assert!(matches!(err, VerifyError::InvalidClaim("sub")));
    }
}
