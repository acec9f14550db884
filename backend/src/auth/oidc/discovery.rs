//! OpenID Connect Discovery 1.0: the provider's metadata at
//! `{issuer}/.well-known/openid-configuration`. The document's `issuer` must equal the
//! configured one exactly (§4.3), otherwise a document served elsewhere could point us
//! at someone else's keys.

use super::config::{require_secure, OidcConfigError};
use super::fetch::{get_json, FetchError};
use serde::Deserialize;
use url::Url;

/// The endpoints we use from a provider's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProviderMetadata {
    /// Equal to the configured issuer (checked).
    pub issuer: String,
    /// Where the signing keys are.
    #[serde(deserialize_with = "url_field")]
    pub jwks_uri: Url,
    /// Where the browser is sent to sign in. Required by the spec; absent only from
    /// key-only documents such as the AWS emulator's, which can verify tokens but not sign in.
    #[serde(default, deserialize_with = "optional_url_field")]
    pub authorization_endpoint: Option<Url>,
    /// Where our server exchanges a code or a refresh token.
    #[serde(default, deserialize_with = "optional_url_field")]
    pub token_endpoint: Option<Url>,
    /// RP-initiated logout, where offered (Cognito has its own `/logout` instead).
    #[serde(default, deserialize_with = "optional_url_field")]
    pub end_session_endpoint: Option<Url>,
    /// RFC 7009 token revocation, where offered.
    #[serde(default, deserialize_with = "optional_url_field")]
    pub revocation_endpoint: Option<Url>,
    /// The scopes the provider says it supports (sign-in adds `offline_access` only
    /// when listed here: some providers refuse a scope they do not know).
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
}

// `url` is built without its serde feature; parsing here keeps it that way.
fn url_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
    let text = String::deserialize(d)?;
    Url::parse(&text).map_err(serde::de::Error::custom)
}

fn optional_url_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(text) => Url::parse(&text)
            .map(Some)
            .map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

/// Metadata that could not be fetched or cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The document could not be fetched or parsed ([`FetchError::is_retryable`] tells).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The document names another issuer. Permanent.
    #[error("discovery names issuer {found:?}, configured is {expected:?}")]
    IssuerMismatch { expected: String, found: String },
    /// An endpoint is plain http off loopback, or the issuer does not form a URL. Permanent.
    #[error(transparent)]
    Config(#[from] OidcConfigError),
}

impl DiscoveryError {
    /// Whether asking again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DiscoveryError::Fetch(e) if e.is_retryable())
    }
}

/// `{issuer}/.well-known/openid-configuration`, keeping any path the issuer has
/// (Keycloak's `/realms/x`, Cognito's `/{pool}`).
pub fn discovery_url(issuer: &str) -> Result<Url, DiscoveryError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    Url::parse(&url).map_err(|e| {
        DiscoveryError::Config(OidcConfigError::BadUrl {
            field: "issuer",
            reason: e.to_string(),
        })
    })
}

/// Fetches and checks the metadata of the provider at `issuer`.
pub async fn discover(
    http: &reqwest::Client,
    issuer: &str,
) -> Result<ProviderMetadata, DiscoveryError> {
    discover_at(http, &discovery_url(issuer)?, issuer).await
}

/// Fetches metadata from `url` and checks it names `expected_issuer`. For providers
/// whose document is not under their issuer (the emulator serves Cognito's there).
pub async fn discover_at(
    http: &reqwest::Client,
    url: &Url,
    expected_issuer: &str,
) -> Result<ProviderMetadata, DiscoveryError> {
    require_secure("discovery url", url)?;
    let metadata: ProviderMetadata = get_json(http, url).await?;
    check(metadata, expected_issuer)
}

/// Accepts `metadata` only if it names `expected_issuer` and every endpoint is secure.
pub fn check(
    metadata: ProviderMetadata,
    expected_issuer: &str,
) -> Result<ProviderMetadata, DiscoveryError> {
    if metadata.issuer != expected_issuer {
        return Err(DiscoveryError::IssuerMismatch {
            expected: expected_issuer.to_string(),
            found: metadata.issuer,
        });
    }
    require_secure("jwks_uri", &metadata.jwks_uri)?;
    let optional = [
        ("authorization_endpoint", &metadata.authorization_endpoint),
        ("token_endpoint", &metadata.token_endpoint),
        ("end_session_endpoint", &metadata.end_session_endpoint),
        ("revocation_endpoint", &metadata.revocation_endpoint),
    ];
    for (field, url) in optional {
        if let Some(url) = url {
            require_secure(field, url)?;
        }
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oidc::testkit::JsonServer;
    use serde_json::json;

    /// Shaped like Keycloak's document (trimmed): extra fields are ignored.
    fn keycloak_like(issuer: &str) -> serde_json::Value {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/protocol/openid-connect/auth"),
            "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
            "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
            "end_session_endpoint": format!("{issuer}/protocol/openid-connect/logout"),
            "revocation_endpoint": format!("{issuer}/protocol/openid-connect/revoke"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["plain", "S256"],
        })
    }

    #[test]
    fn discovery_url_keeps_the_issuer_path() {
        assert_eq!(
            discovery_url("https://idp.example.com/realms/cspm/")
                .unwrap()
                .as_str(),
            "https://idp.example.com/realms/cspm/.well-known/openid-configuration"
        );
    }

    #[tokio::test]
    async fn metadata_naming_the_configured_issuer_is_accepted() {
        let server = JsonServer::start(json!({})).await;
        let issuer = server.url("/realms/cspm");
        server.set(keycloak_like(issuer.as_str()));
        let meta = discover(&crate::auth::oidc::http_client(), issuer.as_str())
            .await
            .unwrap();
        assert_eq!(meta.issuer, issuer.as_str());
        assert_eq!(
            meta.jwks_uri.path(),
            "/realms/cspm/protocol/openid-connect/certs"
        );
        assert!(meta.end_session_endpoint.is_some() && meta.revocation_endpoint.is_some());
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn metadata_naming_another_issuer_is_refused() {
        let server = JsonServer::start(json!({})).await;
        let issuer = server.url("/realms/cspm");
        // A trailing slash is a different issuer: the comparison is exact.
        server.set(keycloak_like(&format!("{issuer}/")));
        let err = discover(&crate::auth::oidc::http_client(), issuer.as_str())
            .await
            .unwrap_err();
        assert!(
            matches!(err, DiscoveryError::IssuerMismatch { .. }),
            "{err}"
        );
    }

    #[test]
    fn an_insecure_endpoint_is_refused() {
        let mut doc = keycloak_like("https://idp.example.com");
        doc["token_endpoint"] = json!("http://idp.example.com/token");
        let meta: ProviderMetadata = serde_json::from_value(doc).unwrap();
        let err = check(meta, "https://idp.example.com").unwrap_err();
        assert!(matches!(
            err,
            DiscoveryError::Config(OidcConfigError::Insecure {
                field: "token_endpoint"
            })
        ));
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_retryable_and_a_bad_document_is_not() {
        let server = JsonServer::start(json!({"issuer": 7})).await;
        let http = crate::auth::oidc::http_client();
        let err = discover(&http, server.url("/x").as_str())
            .await
            .unwrap_err();
        assert!(!err.is_retryable(), "{err}");
        server.fail_with(503);
        let err = discover(&http, server.url("/x").as_str())
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err}");
    }
}
