//! Sign-in on AWS (the `api` Lambda): which OpenID provider's tokens it checks
//! itself (a Cognito user pool, or any OIDC provider) and, with a sessions table
//! and the public URL, browser sign-in through our own `/auth/*` routes. The same
//! variables as `cspm serve`'s flags; the client secret of a confidential client
//! comes from an SSM SecureString (named by `CSPM_OIDC_CLIENT_SECRET_PARAMETER`,
//! on a path only the `api` Lambda may read; or [`SSM_OIDC_CLIENT_SECRET`] under the
//! prefix), never the environment a console shows.

use crate::auth::oidc::{OidcConfig, OidcConfigError};
use crate::auth::session::settings::SettingsError;
use crate::auth::session::SignInSettings;
use crate::sinks::secrets::Secret;

use super::{
    ConfigError, ENV_AUTH_TABLE, ENV_DASHBOARD_URL, ENV_OIDC_AUDIENCE, ENV_OIDC_CLIENT_ID,
    ENV_OIDC_CLIENT_SECRET_PARAMETER, ENV_OIDC_COGNITO_DOMAIN, ENV_OIDC_ISSUER,
    ENV_OIDC_ROLES_CLAIM, ENV_OIDC_SCOPES, ENV_PUBLIC_URL, ENV_SESSION_MAX_AGE,
};

/// SSM parameter (under the prefix, SecureString): the app client's secret.
pub const SSM_OIDC_CLIENT_SECRET: &str = "oidc_client_secret";

/// What the `api` Lambda reads about sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInConfig {
    /// The provider's issuer (Cognito: `https://cognito-idp.<region>.amazonaws.com/<pool>`).
    pub issuer: String,
    /// Our app client id.
    pub client_id: String,
    /// The `aud` access tokens carry, when not the client id.
    pub audience: Option<String>,
    /// The claim with the user's groups (default `cognito:groups`).
    pub roles_claim: Option<String>,
    /// Scopes asked for at sign-in (space- or comma-separated).
    pub scopes: Option<Vec<String>>,
    /// The user pool's domain, for sign-out and token revocation at Cognito.
    pub cognito_domain: Option<String>,
    /// Where browsers reach the dashboard (the CloudFront URL); the callback is
    /// `<public_url>/auth/callback`.
    pub public_url: Option<String>,
    /// The auth table (sessions, named tokens); without it, no browser sign-in.
    pub auth_table: Option<String>,
    /// The longest a session lasts (`12h` by default).
    pub max_age: Option<chrono::Duration>,
    /// The SSM parameter holding the client secret, read at cold start.
    pub client_secret_parameter: Option<String>,
}

impl SignInConfig {
    /// Reads the process environment; `None` when no issuer is configured.
    pub fn from_env() -> Result<Option<SignInConfig>, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<SignInConfig>, ConfigError> {
        let val = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let Some(issuer) = val(ENV_OIDC_ISSUER) else {
            return Ok(None);
        };
        let client_id = val(ENV_OIDC_CLIENT_ID).ok_or(ConfigError::Missing(ENV_OIDC_CLIENT_ID))?;
        let max_age = match val(ENV_SESSION_MAX_AGE) {
            Some(v) => Some(
                crate::archive::age::parse_older_than(&v).map_err(|message| {
                    ConfigError::Invalid {
                        name: ENV_SESSION_MAX_AGE,
                        message,
                    }
                })?,
            ),
            None => None,
        };
        Ok(Some(SignInConfig {
            issuer,
            client_id,
            audience: val(ENV_OIDC_AUDIENCE),
            roles_claim: val(ENV_OIDC_ROLES_CLAIM),
            scopes: val(ENV_OIDC_SCOPES).map(|v| split_scopes(&v)),
            cognito_domain: val(ENV_OIDC_COGNITO_DOMAIN),
            public_url: val(ENV_PUBLIC_URL).or_else(|| val(ENV_DASHBOARD_URL)),
            auth_table: val(ENV_AUTH_TABLE),
            max_age,
            client_secret_parameter: val(ENV_OIDC_CLIENT_SECRET_PARAMETER),
        }))
    }
}

impl SignInConfig {
    /// The provider as configured: the default scopes and roles claim unless
    /// set, the client secret of a confidential client, keys from `jwks_url`
    /// instead of discovery's when given.
    pub fn provider(
        &self,
        client_secret: Option<Secret>,
        jwks_url: Option<&str>,
    ) -> Result<OidcConfig, OidcConfigError> {
        let mut config = OidcConfig::new(&self.issuer, &self.client_id)?;
        config.audience = self.audience.clone();
        if let Some(claim) = &self.roles_claim {
            config.roles_claim = claim.clone();
        }
        if let Some(scopes) = self.scopes.as_ref().filter(|s| !s.is_empty()) {
            config.scopes = scopes.clone();
        }
        if let Some(url) = jwks_url {
            config = config.with_jwks_uri(url)?;
        }
        config.client_secret = client_secret;
        Ok(config)
    }

    /// Browser sign-in settings at `public_url`: the lifetime, the scopes only
    /// when chosen (the default may add `offline_access`), the Cognito domain.
    pub fn settings(&self, public_url: &str) -> Result<SignInSettings, SettingsError> {
        let mut settings = SignInSettings::new(public_url)?;
        if let Some(max_age) = self.max_age {
            settings = settings.with_max_age(max_age)?;
        }
        if let Some(scopes) = self.scopes.as_ref().filter(|s| !s.is_empty()) {
            settings.scopes = Some(scopes.clone());
        }
        if let Some(domain) = &self.cognito_domain {
            settings = settings.with_cognito_domain(domain)?;
        }
        Ok(settings)
    }
}

/// Scopes written space- or comma-separated.
pub fn split_scopes(v: &str) -> Vec<String> {
    v.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Option<SignInConfig>, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SignInConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn sign_in_is_off_without_an_issuer_and_needs_a_client_with_one() {
        assert_eq!(read(&[(ENV_OIDC_CLIENT_ID, "c")]), Ok(None));
        assert_eq!(
            read(&[(ENV_OIDC_ISSUER, "https://idp.example")]),
            Err(ConfigError::Missing(ENV_OIDC_CLIENT_ID))
        );
    }

    #[test]
    fn every_setting_is_read_and_the_dashboard_url_is_the_public_url_by_default() {
        let c = read(&[
            (
                ENV_OIDC_ISSUER,
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab",
            ),
            (ENV_OIDC_CLIENT_ID, "client"),
            (ENV_OIDC_SCOPES, "openid, email profile"),
            (
                ENV_OIDC_COGNITO_DOMAIN,
                "https://cspm.auth.eu-west-1.amazoncognito.com",
            ),
            (ENV_AUTH_TABLE, "cspm-auth"),
            (ENV_SESSION_MAX_AGE, "8h"),
            (ENV_DASHBOARD_URL, "https://d111.cloudfront.net"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.scopes.unwrap(), ["openid", "email", "profile"]);
        assert_eq!(c.public_url.as_deref(), Some("https://d111.cloudfront.net"));
        assert_eq!(c.auth_table.as_deref(), Some("cspm-auth"));
        assert_eq!(c.max_age, Some(chrono::Duration::hours(8)));
        assert!(matches!(
            read(&[
                (ENV_OIDC_ISSUER, "https://idp.example"),
                (ENV_OIDC_CLIENT_ID, "c"),
                (ENV_SESSION_MAX_AGE, "soon"),
            ]),
            Err(ConfigError::Invalid {
                name: ENV_SESSION_MAX_AGE,
                ..
            })
        ));
    }
}
