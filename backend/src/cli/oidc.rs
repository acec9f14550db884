//! `cspm serve`'s OpenID Connect options: bearer access tokens from any OIDC
//! provider (Okta, Entra ID, Keycloak, Google, Cognito) verified against its keys,
//! and browser sign-in through this server (authorization code + PKCE, a session
//! cookie) when the provider's discovery document offers it.

use crate::auth::oidc::{http_client, OidcConfig, OidcProvider};
use crate::auth::oidc_bearer::OidcBearer;
use crate::auth::session::{SessionStore, SignIn};
use crate::config::signin::{split_scopes, SignInConfig};
use crate::sinks::secrets::Secret;
use clap::Args;
use std::net::SocketAddr;
use std::sync::Arc;

// Environment variables of the OIDC options (also settable as flags); the `api`
// Lambda reads the same ones (config/signin.rs).
use crate::config::{
    ENV_OIDC_AUDIENCE as ENV_AUDIENCE, ENV_OIDC_CLIENT_ID as ENV_CLIENT_ID,
    ENV_OIDC_COGNITO_DOMAIN as ENV_COGNITO_DOMAIN, ENV_OIDC_ISSUER as ENV_ISSUER,
    ENV_OIDC_JWKS_URL as ENV_JWKS_URL, ENV_OIDC_ROLES_CLAIM as ENV_ROLES_CLAIM,
    ENV_OIDC_SCOPES as ENV_SCOPES, ENV_SESSION_MAX_AGE,
};
/// The client secret of a confidential client: only from the environment, so it is
/// never in a command line (`ps`) or a flag echoed in logs.
pub const ENV_CLIENT_SECRET: &str = "CSPM_OIDC_CLIENT_SECRET";

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
    /// Scopes asked for at browser sign-in (space- or comma-separated); default
    /// `openid email profile`, plus `offline_access` when the provider lists it.
    #[arg(long, env = ENV_SCOPES)]
    pub oidc_scopes: Option<String>,
    /// A Cognito user pool's domain (`https://<prefix>.auth.<region>.amazoncognito.com`):
    /// sign-out goes to its `/logout` with Cognito's parameters (`client_id`,
    /// `logout_uri`), and the refresh token is revoked at its `/oauth2/revoke` when
    /// discovery names no revocation endpoint.
    #[arg(long, env = ENV_COGNITO_DOMAIN)]
    pub oidc_cognito_domain: Option<String>,
    /// The longest a browser session lasts, renewals included (`12h`, `1d`).
    #[arg(long, env = ENV_SESSION_MAX_AGE, default_value = "12h", value_parser = parse_max_age)]
    pub session_max_age: chrono::Duration,
}

fn parse_max_age(s: &str) -> Result<chrono::Duration, String> {
    crate::archive::age::parse_older_than(s)
}

/// The URL browsers reach the server at: `--public-url`, else `http://ADDR` for a
/// loopback address with a real port (a local `cspm serve`).
pub fn public_url(configured: Option<&str>, addr: SocketAddr) -> Option<String> {
    match configured.filter(|u| !u.is_empty()) {
        Some(u) => Some(u.trim_end_matches('/').to_string()),
        None if addr.ip().is_loopback() && addr.port() != 0 => Some(format!("http://{addr}")),
        None => None,
    }
}

impl OidcArgs {
    /// The options as the `api` Lambda reads them from its environment (one
    /// meaning for both), when an issuer is given.
    fn as_config(&self) -> Option<SignInConfig> {
        let (Some(issuer), Some(client_id)) = (&self.oidc_issuer, &self.oidc_client_id) else {
            return None;
        };
        let set = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        Some(SignInConfig {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            audience: set(&self.oidc_audience),
            roles_claim: set(&self.oidc_roles_claim),
            scopes: self.oidc_scopes.as_deref().map(split_scopes),
            cognito_domain: set(&self.oidc_cognito_domain),
            public_url: None,
            auth_table: None,
            max_age: Some(self.session_max_age),
            client_secret_parameter: None,
        })
    }

    /// The provider's configuration, when an issuer is given.
    pub fn config(&self) -> Result<Option<OidcConfig>, super::CliError> {
        let Some(c) = self.as_config() else {
            return Ok(None);
        };
        let secret = std::env::var(ENV_CLIENT_SECRET)
            .ok()
            .filter(|s| !s.is_empty())
            .map(Secret::new);
        Ok(Some(c.provider(secret, self.oidc_jwks_url.as_deref())?))
    }

    /// The configured provider, connected (discovery runs now, so a wrong issuer
    /// stops the server before it listens).
    pub async fn connect(&self) -> Result<Option<OidcProvider>, super::CliError> {
        let Some(config) = self.config()? else {
            return Ok(None);
        };
        let provider = OidcProvider::connect(config, http_client()).await?;
        tracing::info!(issuer = %provider.config.issuer, "accepting OIDC access tokens");
        Ok(Some(provider))
    }

    /// The bearer verifier for a connected provider.
    pub fn bearer(provider: &OidcProvider) -> OidcBearer {
        OidcBearer::new(Arc::clone(&provider.verifier))
    }

    /// Browser sign-in at `provider`, reached at `public_url`, sessions in `store`.
    /// `None` (with a warning) when the provider offers no sign-in (a key-only
    /// configuration) or no public URL is known.
    pub fn signin(
        &self,
        provider: &OidcProvider,
        public_url: Option<&str>,
        store: Arc<dyn SessionStore>,
    ) -> Result<Option<SignIn>, super::CliError> {
        let Some(url) = public_url else {
            tracing::warn!("no browser sign-in: set --public-url to the address browsers use");
            return Ok(None);
        };
        let Some(config) = self.as_config() else {
            return Ok(None);
        };
        let settings = config.settings(url)?;
        Ok(SignIn::enabled(provider, http_client(), settings, store))
    }
}
