//! Server-side request forgery is refused: a sink URL configured by someone (or
//! changed by an attacker who can edit configuration) must not make this server
//! call its own network — the instance metadata service at 169.254.169.254 above
//! all. A target must be `https` (plain `http` only to loopback, for tests and
//! local relays), and every address its host resolves to must be public, unless the
//! URL itself names loopback (`localhost`, `127.0.0.1`, `[::1]`): then loopback
//! addresses, and only those, are allowed. Redirects are never followed (a sink's
//! HTTP client is built with redirects off), so a public URL cannot bounce the
//! request inward either. The same check runs at lint and at every send (DNS can
//! change in between; the client connects only to the addresses checked).

use async_trait::async_trait;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use url::{Host, Url};

/// Why a target URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not a URL at all.
    #[error("not a URL: {0}")]
    Malformed(String),
    /// Neither https nor http to loopback.
    #[error("must be https (plain http only to localhost/127.0.0.1/[::1]), not {0}://")]
    Scheme(String),
    /// User name or password inside the URL (secrets are referenced, never inline).
    #[error("must not carry a user name or password (use secret_env / secret_ssm)")]
    Credentials,
    /// The host is (or resolves to) an address this server must not call.
    #[error("{host} is {addr}, a {kind} address: refused (server-side request forgery)")]
    Forbidden {
        /// The URL's host.
        host: String,
        /// The address.
        addr: IpAddr,
        /// link-local, private, loopback…
        kind: &'static str,
    },
    /// The host could not be resolved.
    #[error("{host} does not resolve: {reason}")]
    Unresolvable {
        /// The URL's host.
        host: String,
        /// Why.
        reason: String,
    },
}

/// A parsed, policy-checked target URL (addresses are checked when resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL.
    pub url: Url,
    /// True when the URL names loopback itself.
    pub names_loopback: bool,
}

impl Target {
    /// Parses `text` and applies the static part of the policy (scheme, inline
    /// credentials, a literal IP address).
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        let url = Url::parse(text).map_err(|e| TargetError::Malformed(e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::Credentials);
        }
        let names_loopback = match url.host() {
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(TargetError::Malformed("no host".into())),
        };
        let target = Target {
            url,
            names_loopback,
        };
        // A forbidden address literal is named as such, whatever the scheme.
        match target.url.host() {
            Some(Host::Ipv4(ip)) => target.check(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => target.check(IpAddr::V6(ip))?,
            _ => {}
        }
        match target.url.scheme() {
            "https" => {}
            "http" if names_loopback => {}
            other => return Err(TargetError::Scheme(other.to_string())),
        }
        Ok(target)
    }

    /// The host as written in the URL.
    pub fn host(&self) -> String {
        self.url.host_str().unwrap_or_default().to_string()
    }

    /// Refuses `addr` unless the policy allows it for this URL.
    pub fn check(&self, addr: IpAddr) -> Result<(), TargetError> {
        match forbidden_kind(addr) {
            Some("loopback") if self.names_loopback => Ok(()),
            Some(kind) => Err(TargetError::Forbidden {
                host: self.host(),
                addr,
                kind,
            }),
            None if self.names_loopback => Err(TargetError::Forbidden {
                host: self.host(),
                addr,
                kind: "non-loopback (the URL names loopback)",
            }),
            None => Ok(()),
        }
    }

    /// Resolves the host with `resolver` and checks every address: one forbidden
    /// address refuses the whole target (DNS answers can mix them on purpose).
    pub async fn resolve(&self, resolver: &dyn Resolver) -> Result<Vec<SocketAddr>, TargetError> {
        let port = self.url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<IpAddr> = match self.url.host() {
            Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            _ => resolver
                .lookup(&self.host())
                .await
                .map_err(|e| TargetError::Unresolvable {
                    host: self.host(),
                    reason: e.to_string(),
                })?,
        };
        if addrs.is_empty() {
            return Err(TargetError::Unresolvable {
                host: self.host(),
                reason: "no addresses".into(),
            });
        }
        for a in &addrs {
            self.check(*a)?;
        }
        Ok(addrs
            .into_iter()
            .map(|a| SocketAddr::new(a, port))
            .collect())
    }
}

/// What kind of address this server must not call, if any.
pub fn forbidden_kind(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) carry an IPv4 address.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_kind(v4);
            }
            let s = v6.segments();
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let o = v6.octets();
                return v4_kind(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
            }
            v6_kind(v6)
        }
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_link_local() => "link-local",
        _ if ip.is_private() => "private",
        _ if ip.is_unspecified() || o[0] == 0 => "unspecified",
        _ if ip.is_broadcast() || ip.is_multicast() || o[0] >= 240 => "multicast or reserved",
        [100, b, ..] if (64..128).contains(&b) => "shared (carrier-grade NAT)",
        [192, 0, 0, _] | [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => {
            "reserved or documentation"
        }
        [198, b, ..] if b == 18 || b == 19 => "benchmarking",
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_unspecified() => "unspecified",
        f if f & 0xffc0 == 0xfe80 => "link-local",
        f if f & 0xfe00 == 0xfc00 => "private (unique local)",
        f if f & 0xff00 == 0xff00 => "multicast",
        0x2001 if s[1] == 0x0db8 => "reserved or documentation",
        _ => return None,
    })
}

/// Looks host names up.
#[async_trait]
pub trait Resolver: Send + Sync {
    /// The addresses of `host`.
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>>;
}

/// The system's resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        let addrs = tokio::net::lookup_host((host, 0)).await?;
        Ok(addrs.map(|a| a.ip()).collect())
    }
}

/// Fixed answers (tests: a name that resolves to a private address).
#[derive(Debug, Clone, Default)]
pub struct StaticResolver(pub HashMap<String, Vec<IpAddr>>);

#[async_trait]
impl Resolver for StaticResolver {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        self.0.get(host).cloned().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("{host}: unknown"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_private_and_odd_addresses_are_refused_in_urls() {
        for url in [
            "https://169.254.169.254/latest/meta-data/",
            "http://169.254.169.254/latest/meta-data/",
            "https://10.0.0.1/hook",
            "https://192.168.1.10/hook",
            "https://172.16.0.5/hook",
            "https://[fd00::1]/hook",
            "https://[fe80::1]/hook",
            "https://[::ffff:169.254.169.254]/hook",
            "https://[64:ff9b::a9fe:a9fe]/hook",
            "https://0.0.0.0/hook",
            "https://100.64.0.1/hook",
        ] {
            assert!(
                matches!(
                    Target::parse(url),
                    Err(TargetError::Forbidden { .. } | TargetError::Scheme(_))
                ),
                "{url}"
            );
        }
        assert!(matches!(
            Target::parse("http://hooks.example.com/x"),
            Err(TargetError::Scheme(_))
        ));
        assert!(matches!(
            Target::parse("ftp://hooks.example.com/x"),
            Err(TargetError::Scheme(_))
        ));
        assert!(matches!(
            Target::parse("https://user:pw@hooks.example.com/x"),
            Err(TargetError::Credentials)
        ));
        assert!(Target::parse("https://hooks.example.com/cspm").is_ok());
        assert!(Target::parse("https://8.8.8.8/cspm").is_ok());
        assert!(Target::parse("http://127.0.0.1:9000/hook").is_ok());
        assert!(Target::parse("http://localhost:9000/hook").is_ok());
        assert!(Target::parse("http://[::1]:9000/hook").is_ok());
    }

    #[tokio::test]
    async fn resolved_addresses_are_checked_every_one() {
        let r = StaticResolver(HashMap::from([
            (
                "intranet.example".to_string(),
                vec!["10.0.0.1".parse().unwrap()],
            ),
            (
                "mixed.example".to_string(),
                vec![
                    "8.8.8.8".parse().unwrap(),
                    "169.254.169.254".parse().unwrap(),
                ],
            ),
            (
                "public.example".to_string(),
                vec!["93.184.216.34".parse().unwrap()],
            ),
            ("localhost".to_string(), vec!["10.1.1.1".parse().unwrap()]),
        ]));
        let t = |u: &str| Target::parse(u).unwrap();
        assert!(matches!(
            t("https://intranet.example/h").resolve(&r).await,
            Err(TargetError::Forbidden {
                kind: "private",
                ..
            })
        ));
        assert!(t("https://mixed.example/h").resolve(&r).await.is_err());
        let ok = t("https://public.example/h").resolve(&r).await.unwrap();
        assert_eq!(ok, vec!["93.184.216.34:443".parse().unwrap()]);
        // A URL naming loopback may only reach loopback.
        assert!(t("http://localhost:1/h").resolve(&r).await.is_err());
        assert!(t("https://unknown.example/h").resolve(&r).await.is_err());
    }
}
