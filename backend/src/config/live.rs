//! Configuration of the live dashboard's AWS Lambdas (`live`, `live_authorizer`)
//! and of the live sink in `fanout`: each reads only the variables
//! `backend/lambdas.json` gives it, so none of them needs the others'.

use super::{
    split_list, ConfigError, ENV_CONNECTIONS_TABLE, ENV_CORS_ORIGINS, ENV_DASHBOARD_URL,
    ENV_LIVE_ENDPOINT, ENV_STATE_TABLE, ENV_TABLE_NAME,
};

/// What the live Lambdas read from their environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveConfig {
    /// The findings table (`resume` reads its change index).
    pub table_name: Option<String>,
    /// The WebSocket connections table.
    pub connections_table: Option<String>,
    /// The Management API endpoint of the WebSocket stage.
    pub live_endpoint: Option<String>,
    /// The table holding live tickets.
    pub state_table: Option<String>,
    /// Browser origins allowed to open the socket: the CORS origins and the
    /// dashboard URL's origin.
    pub allowed_origins: Vec<String>,
}

impl LiveConfig {
    /// Reads the process environment.
    pub fn from_env() -> LiveConfig {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> LiveConfig {
        let val = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut allowed_origins = val(ENV_CORS_ORIGINS)
            .map(|v| split_list(&v))
            .unwrap_or_default();
        if let Some(origin) = val(ENV_DASHBOARD_URL).and_then(|u| origin_of(&u)) {
            allowed_origins.push(origin);
        }
        LiveConfig {
            table_name: val(ENV_TABLE_NAME),
            connections_table: val(ENV_CONNECTIONS_TABLE),
            live_endpoint: val(ENV_LIVE_ENDPOINT),
            state_table: val(ENV_STATE_TABLE),
            allowed_origins,
        }
    }

    /// A setting this Lambda cannot work without.
    pub fn required<'a>(
        value: &'a Option<String>,
        name: &'static str,
    ) -> Result<&'a str, ConfigError> {
        value.as_deref().ok_or(ConfigError::Missing(name))
    }
}

/// `scheme://host[:port]` of a URL (what a browser sends as `Origin`).
fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    match u.origin() {
        url::Origin::Tuple(..) => Some(u.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_dashboard_url_and_cors_origins_are_the_allowed_origins() {
        let env: HashMap<&str, &str> = HashMap::from([
            (ENV_DASHBOARD_URL, "https://d111.cloudfront.net/ui/"),
            (ENV_CORS_ORIGINS, "https://a.example, https://b.example"),
            (ENV_CONNECTIONS_TABLE, "cspm-live-connections"),
        ]);
        let c = LiveConfig::from_lookup(|k| env.get(k).map(|v| v.to_string()));
        assert_eq!(
            c.allowed_origins,
            [
                "https://a.example",
                "https://b.example",
                "https://d111.cloudfront.net"
            ]
        );
        assert_eq!(
            c.connections_table.as_deref(),
            Some("cspm-live-connections")
        );
        assert!(LiveConfig::required(&c.live_endpoint, ENV_LIVE_ENDPOINT).is_err());
    }
}
