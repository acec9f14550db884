//! HTTP webhook: `POST` of `{"changes":[…]}` (at most 100 changes and 256 KiB a
//! request) with `Content-Type: application/json`, `X-Cspm-Timestamp: <unix
//! seconds>` and, when a secret is configured, `X-Cspm-Signature: sha256=<hex
//! HMAC-SHA256(secret, timestamp + "." + body)>`. 2xx is delivered; 429, 5xx and
//! timeouts are retried (honouring `Retry-After`); any other answer, redirects
//! included, parks the batch. Targets pass the SSRF policy (ssrf.rs) at build time
//! and again on every connection. Receivers deduplicate by each change's `key`.

use super::secrets::Secret;
use super::ssrf::{Resolver, Target, TargetError};
use super::{Filter, Sink, SinkError};
use crate::store::Change;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Most changes in one request.
pub const MAX_CHANGES: usize = 100;
/// Most bytes in one request body.
pub const MAX_BODY: usize = 256 * 1024;

/// Posts change batches to one URL.
pub struct WebhookSink {
    name: String,
    target: Target,
    secret: Option<Secret>,
    filter: Filter,
    client: reqwest::Client,
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `timestamp` + "." + `body`).
pub fn signature(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Resolves the target's host through the SSRF policy: the HTTP client connects
/// only to addresses that passed it (the Slack sink's client too).
pub(crate) struct PolicyResolver {
    /// The one target the client may reach.
    pub(crate) target: Target,
    /// The host lookup.
    pub(crate) resolver: Arc<dyn Resolver>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (target, resolver) = (self.target.clone(), self.resolver.clone());
        Box::pin(async move {
            let addrs = target.resolve(resolver.as_ref()).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl WebhookSink {
    /// A webhook sink to `target`, signing with `secret` when given.
    pub fn new(
        name: impl Into<String>,
        target: Target,
        secret: Option<Secret>,
        filter: Filter,
        timeout: Duration,
        resolver: Arc<dyn Resolver>,
    ) -> Result<WebhookSink, SinkError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would connect past the address checks.
            .no_proxy()
            .timeout(timeout)
            .user_agent(concat!("cspm-monitor/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PolicyResolver {
                target: target.clone(),
                resolver,
            }))
            .build()
            .map_err(|e| SinkError::permanent(format!("webhook client: {e}")))?;
        Ok(WebhookSink {
            name: name.into(),
            target,
            secret,
            filter,
            client,
        })
    }

    /// `scheme://host[:port]` only: paths and queries may hold tokens.
    fn redacted(&self) -> String {
        let u = &self.target.url;
        match u.port() {
            Some(p) => format!("{}://{}:{p}", u.scheme(), self.target.host()),
            None => format!("{}://{}", u.scheme(), self.target.host()),
        }
    }

    async fn post(&self, body: Vec<u8>) -> Result<(), SinkError> {
        let ts = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut req = self
            .client
            .post(self.target.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Cspm-Timestamp", ts.to_string());
        if let Some(secret) = &self.secret {
            req = req.header(
                "X-Cspm-Signature",
                signature(secret.expose().as_bytes(), ts, &body),
            );
        }
        let where_ = self.redacted();
        let resp = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) => return Err(transport_error(&where_, &e)),
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = retry_after(resp.headers());
        let reason = format!("webhook {where_} answered HTTP {}", status.as_u16());
        if status.as_u16() == 429 || status.is_server_error() {
            Err(SinkError::Retryable {
                reason,
                retry_after,
            })
        } else if status.is_redirection() {
            Err(SinkError::permanent(format!(
                "{reason}: redirects are not followed (server-side request forgery guard)"
            )))
        } else {
            Err(SinkError::permanent(reason))
        }
    }
}

/// A request that got no answer: the SSRF policy refusing is permanent; timeouts
/// and connection failures may pass.
fn transport_error(where_: &str, e: &reqwest::Error) -> SinkError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(t) = s.downcast_ref::<TargetError>() {
            return SinkError::permanent(format!("webhook {where_}: {t}"));
        }
        source = s.source();
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    SinkError::retryable(format!("webhook {where_}: {what}"))
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// Splits changes into request bodies of at most [`MAX_CHANGES`] and (unless one
/// change alone is larger) [`MAX_BODY`] bytes.
pub fn bodies(changes: &[Change]) -> Result<Vec<Vec<u8>>, SinkError> {
    let mut out = Vec::new();
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut size = 0;
    let flush = |parts: &mut Vec<Vec<u8>>, out: &mut Vec<Vec<u8>>| {
        if parts.is_empty() {
            return;
        }
        let mut body = b"{\"changes\":[".to_vec();
        body.extend(parts.join(&b","[..]));
        body.extend(b"]}");
        out.push(body);
        parts.clear();
    };
    for c in changes {
        let json = serde_json::to_vec(c)
            .map_err(|e| SinkError::permanent(format!("serializing change {}: {e}", c.key)))?;
        if !parts.is_empty() && (parts.len() == MAX_CHANGES || size + json.len() + 16 > MAX_BODY) {
            flush(&mut parts, &mut out);
            size = 0;
        }
        size += json.len() + 1;
        parts.push(json);
    }
    flush(&mut parts, &mut out);
    Ok(out)
}

#[async_trait]
impl Sink for WebhookSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn wants(&self, change: &Change) -> bool {
        self.filter.accepts(change)
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        for body in bodies(changes)? {
            self.post(body).await?;
        }
        Ok(())
    }

    fn max_batch(&self) -> usize {
        MAX_CHANGES
    }

    fn channel(&self) -> Option<&'static str> {
        Some("webhook")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Expected value computed independently: Python's
        // hmac.new(b"secret", b'1700000000.{"changes":[]}', hashlib.sha256).hexdigest()
        assert_eq!(
            signature(b"secret", 1_700_000_000, b"{\"changes\":[]}"),
            "sha256=e59286f67295043ca5c310de34ebde27fc94e48a70ea8f8bd09d134cd45b3bbe"
        );
        assert_ne!(
            signature(b"secret", 1_700_000_001, b"{\"changes\":[]}"),
            signature(b"secret", 1_700_000_000, b"{\"changes\":[]}")
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        let later = SystemTime::now() + Duration::from_secs(120);
        h.insert(
            reqwest::header::RETRY_AFTER,
            httpdate::fmt_http_date(later).parse().unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
