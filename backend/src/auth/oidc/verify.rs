//! Is this token one our provider issued, for us, now, of the right kind?
//!
//! The header is read before any key is looked up, so that what jsonwebtoken would
//! reject with one generic error gets its own reason: `alg: none`, and HS256 (the
//! "use the public key as the HMAC secret" confusion) are refused by name, and only
//! RS256/ES256 go on. The key's algorithm must then equal the header's. Signature,
//! `exp`/`nbf` (60 s leeway) and `iss` are checked by jsonwebtoken; audience, client,
//! `token_use` and `nonce` here, because providers differ on them (Cognito access
//! tokens carry `client_id` and no `aud`).
//!
//! A header without `kid` (oidc-provider-mock's ID tokens) is verified with the
//! provider's only key for the header's algorithm, and refused when there is not exactly
//! one (OpenID Connect Core 1.0 §10.1); see [`JwksCache::sole_key`].

use super::config::OidcConfig;
use super::error::VerifyError;
use super::identity::{identity_from, TokenUse, VerifiedIdentity};
use super::jwks::{JwksCache, KeyLookupError};
use super::pkce::secrets_match;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;

/// Verifies one provider's tokens. Cheap to share (`Arc`); holds the key cache.
pub struct TokenVerifier {
    issuer: String,
    client_id: String,
    access_audience: String,
    roles_claim: String,
    keys: Arc<JwksCache>,
}

/// The parts of the header we decide on before touching a key.
struct Header {
    alg: Algorithm,
    /// `None` when absent or empty: the key must then be the set's only one for `alg`.
    kid: Option<String>,
    typ: Option<String>,
}

impl TokenVerifier {
    /// A verifier for `config`'s issuer and client, with keys from `keys`.
    pub fn new(config: &OidcConfig, keys: Arc<JwksCache>) -> Self {
        super::crypto::install();
        TokenVerifier {
            issuer: config.issuer.clone(),
            client_id: config.client_id.clone(),
            access_audience: config.access_audience().to_string(),
            roles_claim: config.roles_claim.clone(),
            keys,
        }
    }

    /// Verifies a bearer access token. An ID token is refused (`token_use: id`, or an
    /// audience that is the client rather than the API when an audience is configured).
    pub async fn verify_access_token(&self, token: &str) -> Result<VerifiedIdentity, VerifyError> {
        logged(
            self.verify(token, TokenUse::Access, None).await,
            TokenUse::Access,
        )
    }

    /// Verifies an ID token: for the session, where the provider's access tokens are
    /// opaque. `nonce` is the value this sign-in sent (required then); renewals pass `None`.
    pub async fn verify_id_token(
        &self,
        token: &str,
        nonce: Option<&str>,
    ) -> Result<VerifiedIdentity, VerifyError> {
        logged(self.verify(token, TokenUse::Id, nonce).await, TokenUse::Id)
    }

    async fn verify(
        &self,
        token: &str,
        want: TokenUse,
        nonce: Option<&str>,
    ) -> Result<VerifiedIdentity, VerifyError> {
        let header = header_of(token)?;
        // RFC 9068 §4: an access token typed `at+jwt` must never pass as an ID token.
        if want == TokenUse::Id && header.typ.as_deref().is_some_and(is_access_token_type) {
            return Err(VerifyError::WrongTokenUse {
                expected: "id",
                found: "at+jwt".into(),
            });
        }
        let found = match &header.kid {
            Some(kid) => self.keys.key(kid).await,
            None => self.keys.sole_key(header.alg).await,
        };
        let key = found.map_err(|e| match e {
            KeyLookupError::Unknown => VerifyError::UnknownKid(header.kid.unwrap_or_default()),
            KeyLookupError::NoSoleKey { candidates } => VerifyError::MissingKid {
                alg: format!("{:?}", header.alg),
                candidates,
            },
            KeyLookupError::Fetch(f) => VerifyError::KeysUnavailable(f),
        })?;
        if key.alg != header.alg {
            return Err(VerifyError::AlgorithmMismatch {
                token: format!("{:?}", header.alg),
                key: format!("{:?}", key.alg),
            });
        }
        let mut validation = Validation::new(key.alg);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.validate_aud = false; // checked below, per token kind
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| from_jwt_error(e.into_kind()))?
            .claims;
        check_token_use(&claims, want)?;
        match want {
            TokenUse::Access => self.check_access_audience(&claims)?,
            TokenUse::Id => self.check_id_audience(&claims, nonce)?,
        }
        identity_from(&claims, &self.roles_claim, want)
    }

    /// `aud` must name the API when present; Cognito's `client_id` (and only it) stands
    /// in when `aud` is absent. A `client_id` that is present must be ours either way.
    fn check_access_audience(&self, claims: &Map<String, Value>) -> Result<(), VerifyError> {
        let client = match claims.get("client_id") {
            None => None,
            Some(Value::String(c)) => Some(c.as_str()),
            Some(_) => return Err(VerifyError::InvalidClaim("client_id")),
        };
        if client.is_some_and(|c| c != self.client_id) {
            return Err(VerifyError::WrongAudience);
        }
        match audiences(claims)? {
            Some(aud) if aud.iter().any(|a| *a == self.access_audience) => Ok(()),
            Some(_) => Err(VerifyError::WrongAudience),
            None if client.is_some() => Ok(()),
            None => Err(VerifyError::MissingClaim("aud")),
        }
    }

    /// OIDC Core §3.1.3.7: `aud` contains our client id; `azp`, when present, is us;
    /// `nonce` is the one this sign-in sent.
    fn check_id_audience(
        &self,
        claims: &Map<String, Value>,
        nonce: Option<&str>,
    ) -> Result<(), VerifyError> {
        let aud = audiences(claims)?.ok_or(VerifyError::MissingClaim("aud"))?;
        if !aud.iter().any(|a| *a == self.client_id) {
            return Err(VerifyError::WrongAudience);
        }
        match claims.get("azp") {
            None => {}
            Some(Value::String(azp)) if *azp == self.client_id => {}
            Some(_) => return Err(VerifyError::WrongAudience),
        }
        if let Some(expected) = nonce {
            match claims.get("nonce") {
                Some(Value::String(got)) if secrets_match(expected, got) => {}
                Some(Value::String(_)) => return Err(VerifyError::NonceMismatch),
                Some(_) => return Err(VerifyError::InvalidClaim("nonce")),
                None => return Err(VerifyError::MissingClaim("nonce")),
            }
        }
        Ok(())
    }
}

/// Logs a refusal with its reason (never the token) and passes the result on.
fn logged(
    result: Result<VerifiedIdentity, VerifyError>,
    want: TokenUse,
) -> Result<VerifiedIdentity, VerifyError> {
    if let Err(e) = &result {
        if e.is_retryable() {
            tracing::warn!(reason = e.reason(), token_use = want.as_str(), error = %e, "token not verified: provider keys unavailable");
        } else {
            tracing::info!(reason = e.reason(), token_use = want.as_str(), error = %e, "token refused");
        }
    }
    result
}

fn header_of(token: &str) -> Result<Header, VerifyError> {
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed("not three dot-separated parts"));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|_| VerifyError::Malformed("header is not base64url"))?;
    let header: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| VerifyError::Malformed("header is not a JSON object"))?;
    let alg = match header.get("alg") {
        Some(Value::String(a)) => a.as_str(),
        _ => return Err(VerifyError::Malformed("header has no alg")),
    };
    let alg = match alg {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        a if a.eq_ignore_ascii_case("none") => return Err(VerifyError::AlgNone),
        other => return Err(VerifyError::AlgorithmNotAllowed(other.to_string())),
    };
    let kid = match header.get("kid") {
        Some(Value::String(k)) if !k.is_empty() => Some(k.clone()),
        Some(Value::String(_)) | None => None,
        Some(_) => return Err(VerifyError::Malformed("kid is not a string")),
    };
    let typ = header
        .get("typ")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Header { alg, kid, typ })
}

fn is_access_token_type(typ: &str) -> bool {
    typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
}

/// `aud` as a list (one string or several), `None` when absent.
fn audiences(claims: &Map<String, Value>) -> Result<Option<Vec<&str>>, VerifyError> {
    match claims.get("aud") {
        None => Ok(None),
        Some(Value::String(a)) => Ok(Some(vec![a.as_str()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().ok_or(VerifyError::InvalidClaim("aud")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(VerifyError::InvalidClaim("aud")),
    }
}

/// `token_use` (Cognito) where present must be the kind asked for.
fn check_token_use(claims: &Map<String, Value>, want: TokenUse) -> Result<(), VerifyError> {
    match claims.get("token_use") {
        None => Ok(()),
        Some(Value::String(u)) if u == want.as_str() => Ok(()),
        Some(Value::String(u)) => Err(VerifyError::WrongTokenUse {
            expected: want.as_str(),
            found: u.clone(),
        }),
        Some(_) => Err(VerifyError::InvalidClaim("token_use")),
    }
}

fn from_jwt_error(kind: ErrorKind) -> VerifyError {
    match kind {
        ErrorKind::InvalidSignature => VerifyError::BadSignature,
        ErrorKind::ExpiredSignature => VerifyError::Expired,
        ErrorKind::ImmatureSignature => VerifyError::NotYetValid,
        ErrorKind::InvalidIssuer => VerifyError::WrongIssuer,
        ErrorKind::InvalidAlgorithm => VerifyError::AlgorithmMismatch {
            token: "header".into(),
            key: "key".into(),
        },
        ErrorKind::MissingRequiredClaim(c) => VerifyError::MissingClaim(spec_claim(&c)),
        ErrorKind::InvalidClaimFormat(c) => VerifyError::InvalidClaim(spec_claim(&c)),
        ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_)
        | ErrorKind::InvalidToken => VerifyError::Malformed("payload or signature does not decode"),
        other => {
            tracing::debug!(kind = ?other, "jsonwebtoken refused the token");
            VerifyError::BadSignature
        }
    }
}

/// jsonwebtoken names the registered claims it checks as strings; ours are static.
fn spec_claim(name: &str) -> &'static str {
    match name {
        "exp" => "exp",
        "nbf" => "nbf",
        "iss" => "iss",
        "sub" => "sub",
        "aud" => "aud",
        _ => "registered claim",
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
