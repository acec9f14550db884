//! The `api` Lambda's identities: API Gateway's JWT authorizer has verified the
//! Cognito access token before the Lambda runs and passes its claims in the
//! request context. The role comes from the `cognito:groups` claim.

use super::{AuthError, Principal, RequestVerifier, Role};
use axum::http::{Extensions, HeaderMap};
use lambda_http::request::RequestContext;
use lambda_http::RequestExt;
use std::collections::HashMap;

/// Cognito's group claim.
pub const COGNITO_GROUPS: &str = "cognito:groups";

/// Reads the principal from the JWT authorizer's claims (HTTP API, payload v2).
#[derive(Debug, Clone)]
pub struct GatewayClaims {
    /// The claim holding the caller's groups.
    pub groups_claim: String,
}

impl Default for GatewayClaims {
    fn default() -> Self {
        GatewayClaims {
            groups_claim: COGNITO_GROUPS.into(),
        }
    }
}

/// The values of a list claim as API Gateway passes it: HTTP APIs flatten a JSON
/// array into one string, `[admin viewer]`; a JSON-array text or a
/// comma-separated list are accepted too.
pub fn claim_values(raw: &str) -> Vec<String> {
    if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
        return list;
    }
    raw.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl GatewayClaims {
    /// The principal the verified `claims` describe (`None` without a `sub`).
    pub fn principal(&self, claims: &HashMap<String, String>) -> Option<Principal> {
        let sub = claims.get("sub").filter(|s| !s.is_empty())?;
        let groups = claims
            .get(&self.groups_claim)
            .map(|g| claim_values(g))
            .unwrap_or_default();
        // Access tokens carry `username`; ID tokens `email`.
        let label = ["email", "username", "cognito:username", "name"]
            .iter()
            .find_map(|k| claims.get(*k));
        Some(Principal::person(
            sub,
            label.map(String::as_str),
            Role::from_groups(groups),
        ))
    }
}

#[async_trait::async_trait]
impl RequestVerifier for GatewayClaims {
    async fn identify(
        &self,
        _headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<Option<Principal>, AuthError> {
        let claims = match extensions.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(c)) => c
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|j| &j.claims),
            _ => None,
        };
        Ok(claims.and_then(|c| self.principal(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn http_api_flattened_groups_map_to_the_highest_role() {
        assert_eq!(claim_values("[analyst viewer]"), ["analyst", "viewer"]);
        assert_eq!(claim_values(r#"["admin"]"#), ["admin"]);
        assert_eq!(claim_values("viewer, analyst"), ["viewer", "analyst"]);
        let g = GatewayClaims::default();
        let p = g
            .principal(&claims(&[
                ("sub", "0a1b"),
                ("username", "ana"),
                ("cognito:groups", "[viewer analyst]"),
            ]))
            .unwrap();
        assert_eq!(p, Principal::person("0a1b", Some("ana"), Role::Analyst));
    }

    #[test]
    fn no_group_is_viewer_and_no_sub_is_nobody() {
        let g = GatewayClaims::default();
        assert_eq!(
            g.principal(&claims(&[("sub", "x")])).unwrap().role,
            Role::Viewer
        );
        assert_eq!(
            g.principal(&claims(&[("sub", "x"), ("cognito:groups", "[root]")]))
                .unwrap()
                .role,
            Role::Viewer
        );
        assert!(g
            .principal(&claims(&[("cognito:groups", "[admin]")]))
            .is_none());
    }
}
