//! A configured provider ready to verify: metadata from discovery (unless a key URL is
//! configured) and a verifier over its cached keys.

use super::config::OidcConfig;
use super::discovery::{discover, DiscoveryError, ProviderMetadata};
use super::jwks::JwksCache;
use super::verify::TokenVerifier;
use std::sync::Arc;

/// One provider, connected.
pub struct OidcProvider {
    /// What the operator configured.
    pub config: OidcConfig,
    /// The discovered endpoints; `None` when keys come from a configured `jwks_uri`
    /// (then there is nothing to sign in with, only bearer tokens to verify).
    pub metadata: Option<ProviderMetadata>,
    /// Verifies the provider's tokens.
    pub verifier: Arc<TokenVerifier>,
}

impl OidcProvider {
    /// Discovers the provider (when no `jwks_uri` is configured) and builds a verifier.
    /// Keys are fetched on first use, so a provider that is briefly down at startup does
    /// not stop the server; discovery, though, must succeed.
    pub async fn connect(
        config: OidcConfig,
        http: reqwest::Client,
    ) -> Result<Self, DiscoveryError> {
        let (metadata, jwks_uri) = match &config.jwks_uri {
            Some(uri) => (None, uri.clone()),
            None => {
                let metadata = discover(&http, &config.issuer).await?;
                let uri = metadata.jwks_uri.clone();
                (Some(metadata), uri)
            }
        };
        let keys = Arc::new(JwksCache::new(http, jwks_uri));
        let verifier = Arc::new(TokenVerifier::new(&config, keys));
        Ok(OidcProvider {
            config,
            metadata,
            verifier,
        })
    }
}
