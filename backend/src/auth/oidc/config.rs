//! The provider as the operator describes it. Only shapes are checked here (URLs,
//! identifiers); whether the provider agrees is checked at discovery.

// The secret reference (`secret_env`/`secret_ssm`) and its redacting type are the
// ones the sinks use: one way to keep a secret out of logs.
use crate::sinks::secrets::Secret;
use url::Url;

/// The claim Cognito puts a user's groups in; other providers use `groups` or `roles`.
pub const DEFAULT_ROLES_CLAIM: &str = "cognito:groups";

/// Scopes asked for at sign-in when the operator names none: `openid` makes it OIDC,
/// `email` and `profile` give the name and address the top bar and audit trail show.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// One OpenID Connect provider. `Debug` never shows the client secret.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider's issuer, compared byte for byte with discovery and with `iss`.
    pub issuer: String,
    /// Our client id at the provider.
    pub client_id: String,
    /// Present for a confidential client (the token endpoint then takes basic auth);
    /// read through `sinks::secrets::SecretRef` from the environment or SSM.
    pub client_secret: Option<Secret>,
    /// Scopes asked for at sign-in.
    pub scopes: Vec<String>,
    /// Claim holding the user's groups or roles (a list, or one space-separated string);
    /// a dotted path such as `realm_access.roles` reaches into an object.
    pub roles_claim: String,
    /// The `aud` access tokens must carry, when it differs from the client id
    /// (Okta's `api://default`, an Entra application id URI). Cognito access tokens
    /// carry no `aud` but `client_id`, which is checked against the client id instead.
    pub audience: Option<String>,
    /// Signing keys from this URL instead of discovery's `jwks_uri`: for providers
    /// without discovery, or an emulator whose key URL differs from its issuer.
    pub jwks_uri: Option<Url>,
}

/// A configuration that cannot describe a provider.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OidcConfigError {
    /// The issuer or another URL does not parse, or has a query or fragment.
    #[error("{field}: not a usable URL ({reason})")]
    BadUrl { field: &'static str, reason: String },
    /// Tokens and keys over plain http could be swapped in transit; only loopback may.
    #[error("{field}: must be https (plain http only on a loopback address)")]
    Insecure { field: &'static str },
    /// An empty or oversized client id, region or pool id.
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
}

impl OidcConfig {
    /// A provider found by discovery at `issuer`, with the default scopes and the
    /// Cognito roles claim (set `roles_claim` for other providers).
    pub fn new(issuer: &str, client_id: &str) -> Result<Self, OidcConfigError> {
        let parsed = Url::parse(issuer).map_err(|e| OidcConfigError::BadUrl {
            field: "issuer",
            reason: e.to_string(),
        })?;
        // OIDC Discovery §2: the issuer has no query or fragment.
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(OidcConfigError::BadUrl {
                field: "issuer",
                reason: "query or fragment".into(),
            });
        }
        require_secure("issuer", &parsed)?;
        Ok(OidcConfig {
            issuer: issuer.to_string(),
            client_id: identifier("client id", client_id)?.to_string(),
            client_secret: None,
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            roles_claim: DEFAULT_ROLES_CLAIM.to_string(),
            audience: None,
            jwks_uri: None,
        })
    }

    /// A Cognito user pool: issuer `https://cognito-idp.{region}.amazonaws.com/{pool}`.
    pub fn cognito(region: &str, pool_id: &str, client_id: &str) -> Result<Self, OidcConfigError> {
        let region_ok = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if region.is_empty() || !region_ok(region) {
            return Err(OidcConfigError::Invalid {
                field: "region",
                reason: "not an AWS region name",
            });
        }
        // Pool ids look like `us-east-1_AbC123`; anything else would change the URL's shape.
        let pool_ok = pool_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if pool_id.is_empty() || pool_id.len() > 55 || !pool_ok {
            return Err(OidcConfigError::Invalid {
                field: "user pool id",
                reason: "not a user pool id",
            });
        }
        Self::new(
            &format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}"),
            client_id,
        )
    }

    /// Takes the signing keys from `jwks_uri` rather than from discovery.
    pub fn with_jwks_uri(mut self, jwks_uri: &str) -> Result<Self, OidcConfigError> {
        let url = Url::parse(jwks_uri).map_err(|e| OidcConfigError::BadUrl {
            field: "jwks uri",
            reason: e.to_string(),
        })?;
        require_secure("jwks uri", &url)?;
        self.jwks_uri = Some(url);
        Ok(self)
    }

    /// The `aud` an access token must name: the configured audience, else the client id.
    pub fn access_audience(&self) -> &str {
        self.audience.as_deref().unwrap_or(&self.client_id)
    }
}

/// Refuses plain http except on loopback (local test providers and the emulator).
pub fn require_secure(field: &'static str, url: &Url) -> Result<(), OidcConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(OidcConfigError::Insecure { field }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn identifier<'a>(field: &'static str, value: &'a str) -> Result<&'a str, OidcConfigError> {
    if value.trim().is_empty() {
        return Err(OidcConfigError::Invalid {
            field,
            reason: "empty",
        });
    }
    if value.len() > 256 || value.chars().any(char::is_control) {
        return Err(OidcConfigError::Invalid {
            field,
            reason: "too long or has control characters",
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cognito_issuer_is_the_regional_pool_url() {
        let c = OidcConfig::cognito("eu-west-1", "eu-west-1_AbC123", "client").unwrap();
        assert_eq!(
            c.issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert_eq!(c.roles_claim, "cognito:groups");
        assert_eq!(c.access_audience(), "client");
    }

    #[test]
    fn a_pool_id_that_would_change_the_url_is_refused() {
        for bad in ["", "us-east-1_a/../x", "us-east-1_a?x", "pool id"] {
            assert!(
                OidcConfig::cognito("us-east-1", bad, "c").is_err(),
                "{bad:?}"
            );
        }
        assert!(OidcConfig::cognito("us-east-1.evil.example", "p", "c").is_err());
    }

    #[test]
    fn plain_http_is_only_accepted_on_loopback() {
        assert!(OidcConfig::new("http://127.0.0.1:8080/realms/x", "c").is_ok());
        assert!(OidcConfig::new("http://localhost:8080", "c").is_ok());
        assert_eq!(
            OidcConfig::new("http://idp.example.com", "c").unwrap_err(),
            OidcConfigError::Insecure { field: "issuer" }
        );
        let c = OidcConfig::new("https://idp.example.com", "c").unwrap();
        assert!(c.clone().with_jwks_uri("http://10.0.0.1/jwks").is_err());
        assert!(c.with_jwks_uri("http://[::1]:9/jwks").is_ok());
    }

    #[test]
    fn issuer_with_a_query_and_an_empty_client_are_refused() {
        assert!(OidcConfig::new("https://idp.example.com/?a=b", "c").is_err());
        assert!(OidcConfig::new("https://idp.example.com", " ").is_err());
    }
}
