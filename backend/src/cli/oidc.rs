//! `cspm serve`'s OpenID Connect options: bearer access tokens from any OIDC
//! provider (Okta, Entra ID, Keycloak, Google, Cognito) verified against its keys.

use crate::auth::oidc::{http_client, OidcConfig, OidcProvider};
use crate::auth::oidc_bearer::OidcBearer;
use clap::Args;
use std::sync::Arc;

/// Environment variables of the OIDC options (also settable as flags).
const ENV_ISSUER: &str = "CSPM_OIDC_ISSUER";
const ENV_CLIENT_ID: &str = "CSPM_OIDC_CLIENT_ID";
const ENV_AUDIENCE: &str = "CSPM_OIDC_AUDIENCE";
const ENV_ROLES_CLAIM: &str = "CSPM_OIDC_ROLES_CLAIM";
const ENV_JWKS_URL: &str = "CSPM_OIDC_JWKS_URL";

/// Which provider's tokens the API accepts. Configuring one turns authentication on.
#[derive(Debug, Clone, Args, Default)]
pub struct OidcArgs {
    /// The provider's issuer (discovery at `<issuer>/.well-known/openid-configuration`;
    /// https, or http on loopback only).
    #[arg(long, env = ENV_ISSUER, requires = "oidc_client_id")]
    pub oidc_issuer: Option<String>,
    /// Our client id at the provider (Cognito access tokens name it in `client_id`).
    #[arg(long, env = ENV_CLIENT_ID, requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// The `aud` access tokens carry when it is not the client id (e.g. `api://default`).
    #[arg(long, env = ENV_AUDIENCE)]
    pub oidc_audience: Option<String>,
    /// The claim holding a user's groups or roles (`groups`, `roles`,
    /// `realm_access.roles`); default `cognito:groups`. Values `viewer`, `analyst`,
    /// `admin` grant those roles; none or unknown → viewer.
    #[arg(long, env = ENV_ROLES_CLAIM)]
    pub oidc_roles_claim: Option<String>,
    /// Signing keys from this URL instead of discovery's `jwks_uri`.
    #[arg(long, env = ENV_JWKS_URL)]
    pub oidc_jwks_url: Option<String>,
}

impl OidcArgs {
    /// The provider's configuration, when an issuer is given.
    pub fn config(&self) -> Result<Option<OidcConfig>, super::CliError> {
        let (Some(issuer), Some(client)) = (&self.oidc_issuer, &self.oidc_client_id) else {
            return Ok(None);
        };
        let mut config = OidcConfig::new(issuer, client)?;
        if let Some(aud) = self.oidc_audience.as_deref().filter(|a| !a.is_empty()) {
            config.audience = Some(aud.to_string());
        }
        if let Some(claim) = self.oidc_roles_claim.as_deref().filter(|c| !c.is_empty()) {
            config.roles_claim = claim.to_string();
        }
        if let Some(url) = &self.oidc_jwks_url {
            config = config.with_jwks_uri(url)?;
        }
        Ok(Some(config))
    }

    /// The bearer verifier for the configured provider (discovery runs now, so a
    /// wrong issuer stops the server before it listens).
    pub async fn bearer(&self) -> Result<Option<OidcBearer>, super::CliError> {
        let Some(config) = self.config()? else {
            return Ok(None);
        };
        let provider = OidcProvider::connect(config, http_client()).await?;
        tracing::info!(issuer = %provider.config.issuer, "accepting OIDC access tokens");
        Ok(Some(OidcBearer::new(Arc::clone(&provider.verifier))))
    }
}
