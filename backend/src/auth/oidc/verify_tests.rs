//! Each refusal reason, with keys made here and the key set served over HTTP.

use super::*;
use crate::auth::oidc::testkit::{jwks, signing_input, JsonServer, TestKey};
use crate::auth::oidc::{http_client, JwksCache, OidcConfig};
use aws_lc_rs::hmac;
use serde_json::json;
use std::time::Duration;

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
const CLIENT: &str = "client-123";

struct Fixture {
    rsa: TestKey,
    ec: TestKey,
    server: JsonServer,
    verifier: TokenVerifier,
}

async fn fixture_with(config: OidcConfig) -> Fixture {
    let (rsa, ec) = (TestKey::rsa("rsa-1"), TestKey::es256("ec-1"));
    let server = JsonServer::start(jwks(&[&rsa, &ec])).await;
    // Zero interval: every unknown kid refetches, so a rotation shows at once.
    let keys = JwksCache::new(http_client(), server.url("/jwks"))
        .with_min_refresh_interval(Duration::ZERO);
    let verifier = TokenVerifier::new(&config, Arc::new(keys));
    Fixture {
        rsa,
        ec,
        server,
        verifier,
    }
}

async fn fixture() -> Fixture {
    fixture_with(OidcConfig::cognito("us-east-1", "us-east-1_Test", CLIENT).unwrap()).await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Shaped like a Cognito access token.
fn access_claims() -> Value {
    json!({"iss": ISSUER, "sub": "user-1", "client_id": CLIENT, "token_use": "access",
           "iat": now(), "exp": now() + 3600, "username": "alice", "cognito:groups": ["analyst"]})
}

/// Shaped like a Cognito ID token from a sign-in that sent nonce `n-1`.
fn id_claims() -> Value {
    json!({"iss": ISSUER, "sub": "user-1", "aud": CLIENT, "token_use": "id", "nonce": "n-1",
           "iat": now(), "exp": now() + 3600, "cognito:username": "alice", "email": "alice@example.com",
           "name": "Alice", "cognito:groups": ["admin", "viewer"]})
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[tokio::test]
async fn a_valid_access_token_is_accepted() {
    let f = fixture().await;
    let id = f
        .verifier
        .verify_access_token(&f.rsa.token(&access_claims()))
        .await
        .unwrap();
    assert_eq!(id.sub, "user-1");
    assert_eq!(id.username.as_deref(), Some("alice"));
    assert_eq!(id.roles_claim, ["analyst"]);
    assert_eq!(id.token_use, TokenUse::Access);
    assert_eq!(
        id.expires_at.timestamp(),
        access_claims()["exp"].as_i64().unwrap()
    );
}

#[tokio::test]
async fn an_es256_access_token_is_accepted() {
    let f = fixture().await;
    let id = f
        .verifier
        .verify_access_token(&f.ec.token(&access_claims()))
        .await
        .unwrap();
    assert_eq!(id.sub, "user-1");
}

#[tokio::test]
async fn an_id_token_with_its_nonce_is_accepted_for_the_session() {
    let f = fixture().await;
    let id = f
        .verifier
        .verify_id_token(&f.rsa.token(&id_claims()), Some("n-1"))
        .await
        .unwrap();
    assert_eq!(id.email.as_deref(), Some("alice@example.com"));
    assert_eq!(id.name.as_deref(), Some("Alice"));
    assert_eq!(id.roles_claim, ["admin", "viewer"]);
    assert_eq!(id.token_use, TokenUse::Id);
    let err = f
        .verifier
        .verify_id_token(&f.rsa.token(&id_claims()), Some("n-2"))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::NonceMismatch), "{err}");
}

#[tokio::test]
async fn an_expired_token_is_refused_but_skew_within_the_leeway_is_not() {
    let f = fixture().await;
    let expired = with(access_claims(), "exp", json!(now() - 600));
    let err = f
        .verifier
        .verify_access_token(&f.rsa.token(&expired))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::Expired), "{err}");
    // Ten seconds past exp is within the 60 s leeway.
    let skewed = with(access_claims(), "exp", json!(now() - 10));
    assert!(f
        .verifier
        .verify_access_token(&f.rsa.token(&skewed))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let f = fixture().await;
    let early = with(access_claims(), "nbf", json!(now() + 600));
    let err = f
        .verifier
        .verify_access_token(&f.rsa.token(&early))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::NotYetValid), "{err}");
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let f = fixture().await;
    let other = with(
        access_claims(),
        "iss",
        json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
    );
    let err = f
        .verifier
        .verify_access_token(&f.rsa.token(&other))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::WrongIssuer), "{err}");
    let mut none = access_claims();
    none.as_object_mut().unwrap().remove("iss");
    let err = f
        .verifier
        .verify_access_token(&f.rsa.token(&none))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::MissingClaim("iss")), "{err}");
}

#[tokio::test]
async fn a_token_for_another_client_or_audience_is_refused() {
    let f = fixture().await;
    let other_client = with(access_claims(), "client_id", json!("someone-else"));
    let err = f
        .verifier
        .verify_access_token(&f.rsa.token(&other_client))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::WrongAudience), "{err}");
    let mut neither = access_claims();
    neither.as_object_mut().unwrap().remove("client_id");
    let err = f
        .verifier
        .verify_access_token(&f.rsa.token(&neither))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::MissingClaim("aud")), "{err}");
    let id_for_other = with(id_claims(), "aud", json!(["someone-else"]));
    let err = f
        .verifier
        .verify_id_token(&f.rsa.token(&id_for_other), Some("n-1"))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::WrongAudience), "{err}");
}

#[tokio::test]
async fn a_configured_audience_is_what_aud_must_name() {
    let mut config = OidcConfig::new(ISSUER, CLIENT).unwrap();
    config.audience = Some("api://cspm".into());
    let f = fixture_with(config).await;
    let mut generic = access_claims();
    let claims = generic.as_object_mut().unwrap();
    claims.remove("client_id");
    claims.remove("token_use");
    claims.insert("aud".into(), json!(["api://cspm", "other"]));
    assert!(f
        .verifier
        .verify_access_token(&f.rsa.token(&generic))
        .await
        .is_ok());
    // A generic ID token (no token_use) names the client, not the API: refused as bearer.
    let mut id = id_claims();
    id.as_object_mut().unwrap().remove("token_use");
    let err = f
        .verifier
        .verify_access_token(&f.rsa.token(&id))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::WrongAudience), "{err}");
}

#[tokio::test]
async fn an_id_token_where_an_access_token_is_required_is_refused_and_the_reverse() {
    let f = fixture().await;
    let err = f
        .verifier
        .verify_access_token(&f.rsa.token(&id_claims()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::WrongTokenUse { expected: "access", ref found } if found == "id"),
        "{err}"
    );
    let err = f
        .verifier
        .verify_id_token(&f.rsa.token(&access_claims()), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::WrongTokenUse { expected: "id", .. }),
        "{err}"
    );
    let typed = f.rsa.sign(
        &json!({"alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}),
        &id_claims(),
    );
    let err = f
        .verifier
        .verify_id_token(&typed, Some("n-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::WrongTokenUse { expected: "id", .. }),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_kid_is_refused_then_found_after_the_provider_publishes_it() {
    let f = fixture().await;
    let rotated = TestKey::rsa("rsa-2");
    let token = rotated.token(&access_claims());
    let err = f.verifier.verify_access_token(&token).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::UnknownKid(ref k) if k == "rsa-2"),
        "{err}"
    );
    f.server.set(jwks(&[&f.rsa, &rotated]));
    let id = f.verifier.verify_access_token(&token).await.unwrap();
    assert_eq!(id.sub, "user-1");
}

#[tokio::test]
async fn an_unsigned_token_is_refused() {
    let f = fixture().await;
    for alg in ["none", "None", "NONE"] {
        let token = format!(
            "{}.",
            signing_input(&json!({"alg": alg, "kid": "rsa-1"}), &access_claims())
        );
        let err = f.verifier.verify_access_token(&token).await.unwrap_err();
        assert!(matches!(err, VerifyError::AlgNone), "{alg}: {err}");
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let f = fixture().await;
    let input = signing_input(
        &json!({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}),
        &access_claims(),
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, &f.rsa.public_key_bytes());
    let tag = hmac::sign(&key, input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    let err = f.verifier.verify_access_token(&token).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::AlgorithmNotAllowed(ref a) if a == "HS256"),
        "{err}"
    );
    assert_eq!(f.server.hits(), 0, "refused before any key is fetched");
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let f = fixture().await;
    let token = f.rsa.token(&access_claims());
    let (head, rest) = token.split_once('.').unwrap();
    let sig = rest.rsplit_once('.').unwrap().1;
    let forged = with(access_claims(), "cognito:groups", json!(["admin"]));
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
    let err = f
        .verifier
        .verify_access_token(&format!("{head}.{payload}.{sig}"))
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature), "{err}");
}

#[tokio::test]
async fn a_token_whose_algorithm_does_not_match_its_key_is_refused() {
    let f = fixture().await;
    // Signed by the EC key but naming the RSA key's kid.
    let token =
        f.ec.sign(&json!({"alg": "ES256", "kid": "rsa-1"}), &access_claims());
    let err = f.verifier.verify_access_token(&token).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::AlgorithmMismatch { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let f = fixture().await;
    for bad in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.sig"] {
        let err = f.verifier.verify_access_token(bad).await.unwrap_err();
        assert!(matches!(err, VerifyError::Malformed(_)), "{bad:?}: {err}");
    }
    let token = f
        .rsa
        .sign(&json!({"alg": "RS256", "kid": 7}), &access_claims());
    let err = f.verifier.verify_access_token(&token).await.unwrap_err();
    assert!(matches!(err, VerifyError::Malformed(_)), "{err}");
}

/// A verifier over a key set of exactly these JWKs (zero refetch interval, as above).
async fn verifier_over(keys: Vec<Value>) -> (JsonServer, TokenVerifier) {
    let server = JsonServer::start(json!({ "keys": keys })).await;
    let cache = JwksCache::new(http_client(), server.url("/jwks"))
        .with_min_refresh_interval(Duration::ZERO);
    let config = OidcConfig::cognito("us-east-1", "us-east-1_Test", CLIENT).unwrap();
    (server, TokenVerifier::new(&config, Arc::new(cache)))
}

/// Without `use` and `alg`, as oidc-provider-mock publishes its key.
fn bare_jwk(key: &TestKey) -> Value {
    let mut jwk = key.jwk();
    let fields = jwk.as_object_mut().unwrap();
    fields.remove("use");
    fields.remove("alg");
    jwk
}

fn without_kid(mut jwk: Value) -> Value {
    jwk.as_object_mut().unwrap().remove("kid");
    jwk
}

/// The header oidc-provider-mock puts on its ID tokens: no `kid`.
fn kidless(key: &TestKey, claims: &Value) -> String {
    key.sign(&json!({"alg": key.alg(), "typ": "JWT"}), claims)
}

#[tokio::test]
async fn a_token_without_kid_verifies_with_the_providers_only_key_for_its_algorithm() {
    let rsa = TestKey::rsa("rsa-1");
    // The JWK with its kid (the mock publishes a thumbprint), and with none at all.
    for jwk in [bare_jwk(&rsa), without_kid(bare_jwk(&rsa))] {
        let (_server, verifier) = verifier_over(vec![jwk]).await;
        let id = verifier
            .verify_id_token(&kidless(&rsa, &id_claims()), Some("n-1"))
            .await
            .unwrap();
        assert_eq!(id.sub, "user-1");
    }
    // A key of another type is no candidate: with an EC key beside it, the RSA key is
    // still the only one for RS256.
    let ec = TestKey::es256("ec-1");
    let (_server, verifier) = verifier_over(vec![rsa.jwk(), ec.jwk()]).await;
    assert!(verifier
        .verify_access_token(&kidless(&rsa, &access_claims()))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_token_without_kid_is_refused_when_several_keys_could_have_signed_it() {
    let (a, b) = (TestKey::rsa("rsa-1"), TestKey::rsa("rsa-2"));
    let (_server, verifier) = verifier_over(vec![a.jwk(), without_kid(b.jwk())]).await;
    for signer in [&a, &b] {
        let err = verifier
            .verify_access_token(&kidless(signer, &access_claims()))
            .await
            .unwrap_err();
        assert!(
            matches!(err, VerifyError::MissingKid { ref alg, candidates: 2 } if alg == "RS256"),
            "{err}"
        );
        assert!(!err.is_retryable());
        assert_eq!(err.reason(), "missing_kid");
    }
    // Naming the key still works as before.
    assert!(verifier
        .verify_access_token(&a.token(&access_claims()))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_token_without_kid_is_refused_when_the_only_key_is_of_another_type() {
    let (rsa, ec) = (TestKey::rsa("rsa-1"), TestKey::es256("ec-1"));
    let (server, verifier) = verifier_over(vec![bare_jwk(&ec)]).await;
    let err = verifier
        .verify_access_token(&kidless(&rsa, &access_claims()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::MissingKid { ref alg, candidates: 0 } if alg == "RS256"),
        "{err}"
    );
    assert!(!err.is_retryable());
    // The provider then publishes the RSA key (the set was refetched, as for an unknown kid).
    server.set(jwks(&[&rsa]));
    assert!(verifier
        .verify_access_token(&kidless(&rsa, &access_claims()))
        .await
        .is_ok());
}

#[tokio::test]
async fn without_kid_an_unsigned_or_hmac_token_is_still_refused_before_any_key() {
    let rsa = TestKey::rsa("rsa-1");
    let (server, verifier) = verifier_over(vec![bare_jwk(&rsa)]).await;
    let unsigned = format!(
        "{}.",
        signing_input(&json!({"alg": "none"}), &access_claims())
    );
    let err = verifier.verify_access_token(&unsigned).await.unwrap_err();
    assert!(matches!(err, VerifyError::AlgNone), "{err}");
    let input = signing_input(&json!({"alg": "HS256", "typ": "JWT"}), &access_claims());
    let key = hmac::Key::new(hmac::HMAC_SHA256, &rsa.public_key_bytes());
    let tag = hmac::sign(&key, input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    let err = verifier.verify_access_token(&token).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::AlgorithmNotAllowed(ref a) if a == "HS256"),
        "{err}"
    );
    assert_eq!(server.hits(), 0, "refused before any key is fetched");
}

#[tokio::test]
async fn unreachable_keys_are_a_retryable_refusal() {
    let f = fixture().await;
    f.server.fail_with(503);
    let err = f
        .verifier
        .verify_access_token(&f.rsa.token(&access_claims()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::KeysUnavailable(_)) && err.is_retryable(),
        "{err}"
    );
}
