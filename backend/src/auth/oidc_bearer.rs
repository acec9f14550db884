//! OIDC access tokens as bearer credentials: the [`BearerVerifier`] over a
//! provider's [`TokenVerifier`], mapping the configured roles claim to a [`Role`].

use super::oidc::{TokenVerifier, VerifiedIdentity, VerifyError};
use super::{AuthError, BearerVerifier, Principal, Role};
use std::sync::Arc;

/// Accepts the access tokens one OIDC provider issues for this API.
pub struct OidcBearer {
    verifier: Arc<TokenVerifier>,
}

impl OidcBearer {
    /// Bearer checks through `verifier` (its provider's keys, issuer and client).
    pub fn new(verifier: Arc<TokenVerifier>) -> Self {
        OidcBearer { verifier }
    }
}

/// A compact JWS has three base64url parts; anything else (a named token, the
/// `--api-token`) is not ours to judge, so the chain can answer "unknown token".
fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let three = parts.by_ref().take(3).filter(|p| !p.is_empty()).count() == 3;
    three && parts.next().is_none()
}

/// The principal a verified identity acts as: its role from the roles claim (no
/// or unknown role → viewer), named by `sub` and e-mail or name for the audit trail.
pub fn principal_of(identity: &VerifiedIdentity) -> Principal {
    let role = Role::from_groups(identity.roles_claim.iter().map(String::as_str));
    let label = identity
        .email
        .as_deref()
        .or(identity.name.as_deref())
        .or(identity.username.as_deref());
    Principal::person(&identity.sub, label, role)
}

#[async_trait::async_trait]
impl BearerVerifier for OidcBearer {
    async fn verify(&self, bearer: &str) -> Result<Option<Principal>, AuthError> {
        if !looks_like_jwt(bearer) {
            return Ok(None);
        }
        match self.verifier.verify_access_token(bearer).await {
            Ok(identity) => Ok(Some(principal_of(&identity))),
            Err(e @ VerifyError::KeysUnavailable(_)) if e.is_retryable() => {
                Err(AuthError::Unavailable(Box::new(e)))
            }
            Err(e) => Err(AuthError::Rejected(format!("OIDC token: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oidc::TokenUse;

    #[test]
    fn only_three_part_tokens_are_taken_for_jwts() {
        assert!(looks_like_jwt("aaa.bbb.ccc"));
        assert!(!looks_like_jwt("cspm_abcdef"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a..c"));
        assert!(!looks_like_jwt("a.b.c.d"));
    }

    fn identity(groups: &[&str], email: Option<&str>) -> VerifiedIdentity {
        VerifiedIdentity {
            sub: "sub-1".into(),
            name: Some("Ana".into()),
            email: email.map(str::to_string),
            username: None,
            roles_claim: groups.iter().map(|g| g.to_string()).collect(),
            token_use: TokenUse::Access,
            expires_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_roles_claim_decides_the_role_and_never_grants_more_than_viewer_by_default() {
        assert_eq!(
            principal_of(&identity(&["analyst"], None)).role,
            Role::Analyst
        );
        assert_eq!(
            principal_of(&identity(&["viewer", "admin"], None)).role,
            Role::Admin
        );
        assert_eq!(principal_of(&identity(&[], None)).role, Role::Viewer);
        assert_eq!(principal_of(&identity(&["root"], None)).role, Role::Viewer);
    }

    #[test]
    fn the_audit_actor_names_sub_and_email_or_name() {
        assert_eq!(
            principal_of(&identity(&[], Some("ana@example.com"))).actor,
            "sub-1 (ana@example.com)"
        );
        assert_eq!(principal_of(&identity(&[], None)).actor, "sub-1 (Ana)");
    }
}
