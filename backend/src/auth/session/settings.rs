//! What sign-in needs beyond the provider: our public URL (the callback and the
//! cookies' `Secure` flag derive from it), the scopes, and how long a session may
//! last at most.

use super::cookie::CookiePolicy;
use crate::auth::oidc::config::DEFAULT_SCOPES;
use crate::auth::oidc::ProviderMetadata;
use url::Url;

/// The longest a session lasts by default, renewals included: one working day.
pub const DEFAULT_MAX_AGE: chrono::Duration = chrono::Duration::hours(12);
/// How long a sign-in may take between `/auth/login` and `/auth/callback`.
pub const LOGIN_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// The scope that asks for a refresh token, added when the provider lists it.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The sign-in settings of one deployment.
#[derive(Debug, Clone)]
pub struct SignInSettings {
    /// Where browsers reach us (`https://cspm.example.com`, or the CloudFront URL);
    /// the callback is `<public_url>/auth/callback`.
    pub public_url: Url,
    /// Scopes asked for; `None`: `openid email profile`, plus `offline_access` when
    /// the provider lists it.
    pub scopes: Option<Vec<String>>,
    /// The absolute lifetime of a session.
    pub max_age: chrono::Duration,
    /// A Cognito user pool's domain (`https://<prefix>.auth.<region>.amazoncognito.com`
    /// or a custom one). Cognito's `/logout` takes its own parameters (`client_id` +
    /// `logout_uri`), not RP-initiated logout's, and older pools' discovery names no
    /// sign-out or revocation endpoint; with the domain, sign-out goes to its
    /// `/logout` Cognito's way, and the refresh token is revoked at its
    /// `/oauth2/revoke` when discovery names no revocation endpoint.
    pub cognito_domain: Option<Url>,
}

/// A public URL sign-in cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// Not an http(s) URL, or one with a query, fragment or credentials.
    #[error("public URL {0:?}: expected http(s)://host[:port][/path] without query")]
    BadPublicUrl(String),
    /// Plain http off loopback would send the session cookie in clear.
    #[error("public URL {0:?}: must be https (plain http only on loopback)")]
    Insecure(String),
    /// A lifetime of zero or less.
    #[error("the session lifetime must be positive")]
    BadMaxAge,
    /// The Cognito domain is not an https origin (a loopback http one in tests).
    #[error("Cognito domain {0:?}: expected https://host without path or query")]
    BadCognitoDomain(String),
}

impl SignInSettings {
    /// Settings for `public_url` with the default scopes and lifetime.
    pub fn new(public_url: &str) -> Result<Self, SettingsError> {
        let bad = || SettingsError::BadPublicUrl(public_url.chars().take(200).collect());
        let url = Url::parse(public_url).map_err(|_| bad())?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host().is_none()
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(bad());
        }
        crate::auth::oidc::config::require_secure("public url", &url)
            .map_err(|_| SettingsError::Insecure(public_url.chars().take(200).collect()))?;
        Ok(SignInSettings {
            public_url: url,
            scopes: None,
            max_age: DEFAULT_MAX_AGE,
            cognito_domain: None,
        })
    }

    /// The same settings signing out through the Cognito domain `domain`.
    pub fn with_cognito_domain(mut self, domain: &str) -> Result<Self, SettingsError> {
        let bad = || SettingsError::BadCognitoDomain(domain.chars().take(200).collect());
        let url = Url::parse(domain.trim_end_matches('/')).map_err(|_| bad())?;
        let origin_only = url.host().is_some()
            && matches!(url.path(), "" | "/")
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        if !origin_only {
            return Err(bad());
        }
        crate::auth::oidc::config::require_secure("cognito domain", &url).map_err(|_| bad())?;
        self.cognito_domain = Some(url);
        Ok(self)
    }

    /// The same settings with a session lifetime of `max_age`.
    pub fn with_max_age(mut self, max_age: chrono::Duration) -> Result<Self, SettingsError> {
        if max_age <= chrono::Duration::zero() {
            return Err(SettingsError::BadMaxAge);
        }
        self.max_age = max_age;
        Ok(self)
    }

    /// `<public_url>/auth/callback`, the `redirect_uri` registered at the provider.
    pub fn redirect_uri(&self) -> Url {
        self.at("auth/callback")
    }

    /// Where the provider sends the browser after signing out: the dashboard.
    pub fn post_logout_redirect_uri(&self) -> Url {
        self.at("")
    }

    fn at(&self, rel: &str) -> Url {
        let mut base = self.public_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.join(rel)
            .expect("a relative path joins any http(s) URL")
    }

    /// `Secure` cookies unless we are reached over plain http (only loopback may be).
    pub fn cookie_policy(&self) -> CookiePolicy {
        CookiePolicy {
            secure: self.public_url.scheme() == "https",
        }
    }

    /// The `scope` parameter for the authorization request.
    pub fn scope(&self, metadata: &ProviderMetadata) -> String {
        if let Some(s) = &self.scopes {
            return s.join(" ");
        }
        let mut scopes: Vec<&str> = DEFAULT_SCOPES.to_vec();
        let offline = metadata
            .scopes_supported
            .as_ref()
            .is_some_and(|s| s.iter().any(|x| x == OFFLINE_ACCESS));
        if offline {
            scopes.push(OFFLINE_ACCESS);
        }
        scopes.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(scopes: Option<&[&str]>) -> ProviderMetadata {
        ProviderMetadata {
            issuer: "https://idp.example.com".into(),
            jwks_uri: Url::parse("https://idp.example.com/jwks").unwrap(),
            authorization_endpoint: None,
            token_endpoint: None,
            end_session_endpoint: None,
            revocation_endpoint: None,
            scopes_supported: scopes.map(|s| s.iter().map(|x| x.to_string()).collect()),
        }
    }

    #[test]
    fn the_callback_and_cookie_policy_follow_the_public_url() {
        let s = SignInSettings::new("https://cspm.example.com/app").unwrap();
        assert_eq!(
            s.redirect_uri().as_str(),
            "https://cspm.example.com/app/auth/callback"
        );
        assert_eq!(
            s.post_logout_redirect_uri().as_str(),
            "https://cspm.example.com/app/"
        );
        assert!(s.cookie_policy().secure);
        let local = SignInSettings::new("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            local.redirect_uri().as_str(),
            "http://127.0.0.1:8080/auth/callback"
        );
        assert!(!local.cookie_policy().secure);
    }

    #[test]
    fn unusable_public_urls_are_refused() {
        assert!(matches!(
            SignInSettings::new("http://cspm.example.com"),
            Err(SettingsError::Insecure(_))
        ));
        for bad in [
            "cspm.example.com",
            "https://u:p@cspm.example.com",
            "https://x/?a=1",
            "ftp://x",
        ] {
            assert!(SignInSettings::new(bad).is_err(), "{bad}");
        }
        let s = SignInSettings::new("https://x.example").unwrap();
        assert_eq!(
            s.with_max_age(chrono::Duration::zero()).unwrap_err(),
            SettingsError::BadMaxAge
        );
    }

    #[test]
    fn a_cognito_domain_is_an_https_origin() {
        let s = SignInSettings::new("https://x.example").unwrap();
        let ok = s
            .clone()
            .with_cognito_domain("https://cspm.auth.eu-west-1.amazoncognito.com/")
            .unwrap();
        assert_eq!(
            ok.cognito_domain.unwrap().as_str(),
            "https://cspm.auth.eu-west-1.amazoncognito.com/"
        );
        for bad in [
            "http://cspm.auth.eu-west-1.amazoncognito.com",
            "https://cspm.auth.eu-west-1.amazoncognito.com/logout",
            "https://a.example/?x=1",
            "cspm.auth.eu-west-1.amazoncognito.com",
        ] {
            assert!(
                matches!(
                    s.clone().with_cognito_domain(bad),
                    Err(SettingsError::BadCognitoDomain(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn offline_access_is_asked_for_only_where_listed() {
        let s = SignInSettings::new("https://x.example").unwrap();
        assert_eq!(s.scope(&metadata(None)), "openid email profile");
        assert_eq!(
            s.scope(&metadata(Some(&["openid", "offline_access"]))),
            "openid email profile offline_access"
        );
        let custom = SignInSettings {
            scopes: Some(vec!["openid".into(), "groups".into()]),
            ..s
        };
        assert_eq!(
            custom.scope(&metadata(Some(&["offline_access"]))),
            "openid groups"
        );
    }
}
