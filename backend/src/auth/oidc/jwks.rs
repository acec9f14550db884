//! The provider's signing keys, by `kid`. Providers rotate keys by publishing the new
//! one before signing with it, so an unknown `kid` means "fetch again" — but anyone can
//! send a token with a made-up `kid`, so a refetch happens at most once per interval;
//! in between, an unknown `kid` is simply refused.
//!
//! A token whose header names no `kid` (some providers omit it when they publish one
//! key) is matched as OpenID Connect Core 1.0 §10.1 allows: only when the set holds
//! exactly one key usable for the token's `alg`. With several, picking one would let the
//! token choose; with none, there is nothing to verify against. Either is refused.

use super::fetch::{get_json, FetchError};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use url::Url;

/// Least time between two fetches of the key set.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// A public key and the one algorithm it verifies.
pub struct VerifyingKey {
    /// RS256 for RSA keys, ES256 for P-256 keys.
    pub alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// The usable keys of one fetch.
#[derive(Default)]
struct Keys {
    /// For tokens that name their key.
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    /// Every usable key, with or without a `kid`, for tokens that name none.
    all: Vec<Arc<VerifyingKey>>,
}

/// A key set fetched from one URL and cached; shared by all requests.
pub struct JwksCache {
    http: reqwest::Client,
    uri: Url,
    min_refresh: Duration,
    keys: RwLock<Arc<Keys>>,
    /// Held while fetching so concurrent misses cause one fetch; holds the last attempt.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

/// Why no key was found.
#[derive(Debug, thiserror::Error)]
pub enum KeyLookupError {
    /// Not in the set, even after a refetch (or the refetch was rate-limited).
    #[error("unknown kid")]
    Unknown,
    /// The token names no `kid` and the set does not hold exactly one key for its
    /// algorithm (even after a refetch, or the refetch was rate-limited).
    #[error("no kid, and {candidates} keys for the algorithm (exactly one is needed)")]
    NoSoleKey { candidates: usize },
    /// The set could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

impl JwksCache {
    /// A cache over the key set at `uri`, empty until first used.
    pub fn new(http: reqwest::Client, uri: Url) -> Self {
        JwksCache {
            http,
            uri,
            min_refresh: MIN_REFRESH_INTERVAL,
            keys: RwLock::new(Arc::new(Keys::default())),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    /// A cache that holds the keys of `document` (a JWKS, RFC 7517 §5) and never
    /// fetches on a miss: for verifying offline — tests, and the token fuzz target,
    /// which must reach the verifier without a network. Keys that are not usable
    /// signing keys are skipped as on a fetch; a document that is not a key set is
    /// an error. `uri` is only where [`Self::refresh`] would fetch.
    pub fn from_document(
        http: reqwest::Client,
        uri: Url,
        document: &[u8],
    ) -> Result<Self, serde_json::Error> {
        let set: RawKeySet = serde_json::from_slice(document)?;
        Ok(JwksCache {
            http,
            uri,
            min_refresh: Duration::MAX,
            keys: RwLock::new(Arc::new(usable_keys(set.keys))),
            // A fetch "just happened", and the interval never ends: a miss is final.
            last_fetch: tokio::sync::Mutex::new(Some(Instant::now())),
        })
    }

    /// Changes the least time between fetches (tests use zero to see a rotation at once).
    pub fn with_min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh = interval;
        self
    }

    /// The URL the keys come from.
    pub fn uri(&self) -> &Url {
        &self.uri
    }

    /// The key named `kid`, fetching the set when it is not known and the last fetch
    /// is older than the interval.
    pub async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, KeyLookupError> {
        self.find(|keys| keys.by_kid.get(kid).cloned().ok_or(KeyLookupError::Unknown))
            .await
    }

    /// The one key for `alg`, for a token that names no `kid`: found only when the set
    /// holds exactly one such key. Fetches under the same rule as [`Self::key`], since a
    /// rotation can change the count.
    pub async fn sole_key(&self, alg: Algorithm) -> Result<Arc<VerifyingKey>, KeyLookupError> {
        self.find(|keys| {
            let mut candidates = keys.all.iter().filter(|k| k.alg == alg);
            match (candidates.next(), candidates.count()) {
                (Some(key), 0) => Ok(key.clone()),
                (first, rest) => Err(KeyLookupError::NoSoleKey {
                    candidates: usize::from(first.is_some()) + rest,
                }),
            }
        })
        .await
    }

    /// `pick` on the cached set; when it finds nothing, on a fresh set, unless the last
    /// fetch is younger than the interval.
    async fn find<F>(&self, pick: F) -> Result<Arc<VerifyingKey>, KeyLookupError>
    where
        F: Fn(&Keys) -> Result<Arc<VerifyingKey>, KeyLookupError>,
    {
        let found = pick(&self.cached());
        if found.is_ok() {
            return found;
        }
        let mut last = self.last_fetch.lock().await;
        // Another request may have fetched while this one waited for the lock.
        let found = pick(&self.cached());
        if found.is_ok() || last.is_some_and(|t| t.elapsed() < self.min_refresh) {
            return found;
        }
        // Counted even when it fails, so a provider that is down is not hammered.
        *last = Some(Instant::now());
        self.fetch().await?;
        pick(&self.cached())
    }

    /// Fetches the key set now, whatever the interval (at startup, to fail early).
    pub async fn refresh(&self) -> Result<usize, FetchError> {
        let mut last = self.last_fetch.lock().await;
        *last = Some(Instant::now());
        self.fetch().await
    }

    fn cached(&self) -> Arc<Keys> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn fetch(&self) -> Result<usize, FetchError> {
        let set: RawKeySet = get_json(&self.http, &self.uri).await?;
        let keys = usable_keys(set.keys);
        let count = keys.all.len();
        tracing::info!(uri = %self.uri, keys = count, "fetched OIDC signing keys");
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
        Ok(count)
    }
}

/// Keys are parsed one by one so that one key of a kind we do not know (an `OKP`, a
/// P-521) does not make the whole set unreadable.
#[derive(Deserialize)]
struct RawKeySet {
    keys: Vec<serde_json::Value>,
}

fn usable_keys(raw: Vec<serde_json::Value>) -> Keys {
    let mut keys = Keys::default();
    for value in raw {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            tracing::debug!("skipping a JWK that does not parse");
            continue;
        };
        let kid = jwk.common.key_id.clone();
        let Some(key) = verifying_key(&jwk) else {
            tracing::debug!(kid = ?kid, "skipping a JWK that is not an RS256 or ES256 signing key");
            continue;
        };
        let key = Arc::new(key);
        if let Some(kid) = kid {
            keys.by_kid.insert(kid, key.clone());
        }
        keys.all.push(key);
    }
    keys
}

/// The algorithm follows from the key itself (RSA → RS256, P-256 → ES256); a JWK that
/// declares another `alg` or an encryption `use` is not used for signatures.
fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let (alg, declared) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Algorithm::RS256, KeyAlgorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            (Algorithm::ES256, KeyAlgorithm::ES256)
        }
        _ => return None,
    };
    if jwk.common.key_algorithm.is_some_and(|a| a != declared) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyingKey { alg, key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oidc::testkit::{jwks, JsonServer, TestKey};
    use serde_json::json;

    #[test]
    fn only_signing_keys_of_known_kinds_are_kept_and_kidless_ones_only_for_kidless_tokens() {
        let rsa = TestKey::rsa("r");
        let ec = TestKey::es256("e");
        let mut enc = rsa.jwk();
        enc["kid"] = json!("enc");
        enc["use"] = json!("enc");
        let mut rs512 = rsa.jwk();
        rs512["kid"] = json!("rs512");
        rs512["alg"] = json!("RS512");
        let mut no_kid = rsa.jwk();
        no_kid.as_object_mut().unwrap().remove("kid");
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let keys = usable_keys(vec![
            rsa.jwk(),
            ec.jwk(),
            enc,
            rs512,
            no_kid,
            okp,
            json!({"kty": "??"}),
        ]);
        let mut kids: Vec<_> = keys.by_kid.keys().cloned().collect();
        kids.sort();
        assert_eq!(kids, ["e", "r"]);
        assert_eq!(keys.by_kid["r"].alg, Algorithm::RS256);
        assert_eq!(keys.by_kid["e"].alg, Algorithm::ES256);
        let algs: Vec<_> = keys.all.iter().map(|k| k.alg).collect();
        assert_eq!(
            algs,
            [Algorithm::RS256, Algorithm::ES256, Algorithm::RS256],
            "r, e and the kid-less RSA key; not enc, RS512, OKP or the unknown kty"
        );
    }

    #[tokio::test]
    async fn a_cache_from_a_document_finds_its_keys_and_never_fetches() {
        let a = TestKey::es256("a");
        let doc = serde_json::to_vec(&jwks(&[&a])).unwrap();
        // Nothing listens on port 9: a fetch would fail with KeysUnavailable.
        let uri = Url::parse("http://127.0.0.1:9/jwks").unwrap();
        let cache = JwksCache::from_document(crate::auth::oidc::http_client(), uri, &doc).unwrap();
        assert_eq!(cache.key("a").await.unwrap().alg, Algorithm::ES256);
        assert!(matches!(cache.key("b").await, Err(KeyLookupError::Unknown)));
        assert!(cache.sole_key(Algorithm::ES256).await.is_ok());
        assert!(JwksCache::from_document(
            crate::auth::oidc::http_client(),
            Url::parse("http://127.0.0.1:9/").unwrap(),
            b"{\"keys\": 1}"
        )
        .is_err());
    }

    #[tokio::test]
    async fn a_rotated_key_is_found_by_refetching() {
        let (a, b) = (TestKey::rsa("a"), TestKey::rsa("b"));
        let server = JsonServer::start(jwks(&[&a])).await;
        let cache = JwksCache::new(crate::auth::oidc::http_client(), server.url("/jwks"))
            .with_min_refresh_interval(Duration::ZERO);
        assert!(cache.key("a").await.is_ok());
        assert!(cache.key("a").await.is_ok());
        assert_eq!(server.hits(), 1, "a known kid is served from the cache");
        server.set(jwks(&[&a, &b]));
        assert!(cache.key("b").await.is_ok());
        assert_eq!(server.hits(), 2);
    }

    #[tokio::test]
    async fn unknown_kids_cause_at_most_one_fetch_per_interval() {
        let a = TestKey::rsa("a");
        let server = JsonServer::start(jwks(&[&a])).await;
        let cache = JwksCache::new(crate::auth::oidc::http_client(), server.url("/jwks"));
        assert!(cache.key("a").await.is_ok());
        for kid in ["x", "y", "z"] {
            assert!(matches!(cache.key(kid).await, Err(KeyLookupError::Unknown)));
        }
        assert_eq!(
            server.hits(),
            1,
            "made-up kids within the interval fetch nothing"
        );
    }

    #[tokio::test]
    async fn a_failing_key_url_is_reported_as_a_fetch_error() {
        let server = JsonServer::start(json!({})).await;
        server.fail_with(500);
        let cache = JwksCache::new(crate::auth::oidc::http_client(), server.url("/jwks"));
        match cache.key("a").await {
            Err(KeyLookupError::Fetch(e)) => assert!(e.is_retryable()),
            other => panic!("expected a fetch error, got {:?}", other.map(|_| ())),
        }
    }
}
