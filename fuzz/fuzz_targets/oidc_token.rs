//! Sign-in input on arbitrary bytes: bearer/ID tokens through the verifier, key set
//! documents, and the session's cookie, CSRF and `return_to` readers.
//!
//! Random text rarely gets past a JWT's signature, so the first byte picks a mode
//! and most modes sign what the fuzzer wrote with a real ES256 key the verifier
//! trusts: arbitrary claims bytes (not even JSON), or an arbitrary header over valid
//! claims. That reaches the claim checks (`exp`, `aud`, `client_id`, `token_use`,
//! `nonce`, the roles claim) an attacker with a stolen signing key — or a provider
//! with a bug — could feed. Nothing here may panic; whatever verifies must carry a
//! non-empty `sub`.
#![no_main]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cspm::auth::oidc::config::OidcConfig;
use cspm::auth::oidc::jwks::JwksCache;
use cspm::auth::oidc::verify::TokenVerifier;
use cspm::auth::session::{cookie, csrf, return_to};
use futures::executor::block_on;
use http::{HeaderMap, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use url::Url;

const ISSUER: &str = "https://issuer.example";
const CLIENT: &str = "dashboard";

struct Fixture {
    key: EcdsaKeyPair,
    verifier: TokenVerifier,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
        let point = key.public_key().as_ref();
        let jwks = serde_json::json!({"keys": [{
            "kty": "EC", "kid": "k", "use": "sig", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        }]});
        let verifier = TokenVerifier::new(
            &OidcConfig::new(ISSUER, CLIENT).expect("config"),
            Arc::new(cache(&serde_json::to_vec(&jwks).unwrap()).expect("key set")),
        );
        Fixture { key, verifier }
    })
}

fn cache(document: &[u8]) -> Result<JwksCache, serde_json::Error> {
    let http = reqwest::Client::new();
    JwksCache::from_document(http, Url::parse("http://127.0.0.1:9/jwks").unwrap(), document)
}

/// `base64url(header).base64url(claims).signature` with the trusted key.
fn signed(f: &Fixture, header: &[u8], claims: &[u8]) -> String {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
    let sig = f.key.sign(&SystemRandom::new(), input.as_bytes()).expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// Both token kinds; whatever passes names its holder.
fn verify(v: &TokenVerifier, token: &str) {
    for result in [
        block_on(v.verify_access_token(token)),
        block_on(v.verify_id_token(token, Some("nonce"))),
        block_on(v.verify_id_token(token, None)),
    ] {
        if let Ok(identity) = result {
            assert!(!identity.sub.is_empty(), "a verified token names its holder");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    match mode % 5 {
        // The token text as it arrives in `Authorization: Bearer …`.
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                verify(&f.verifier, text);
            }
        }
        // Any claims bytes under a valid header and signature.
        1 => verify(&f.verifier, &signed(f, br#"{"alg":"ES256","kid":"k","typ":"JWT"}"#, rest)),
        // Any header over claims that would otherwise pass.
        2 => {
            let claims = format!(
                r#"{{"iss":"{ISSUER}","sub":"u","aud":"{CLIENT}","client_id":"{CLIENT}","token_use":"access","exp":4102444800,"nonce":"nonce"}}"#
            );
            verify(&f.verifier, &signed(f, rest, claims.as_bytes()));
        }
        // A key set document, then a token against it.
        3 => {
            if let Ok(keys) = cache(rest) {
                let v = TokenVerifier::new(&OidcConfig::new(ISSUER, CLIENT).unwrap(), Arc::new(keys));
                verify(&v, &signed(f, br#"{"alg":"ES256","kid":"k"}"#, br#"{"sub":"u"}"#));
                verify(&v, &signed(f, br#"{"alg":"ES256"}"#, br#"{"sub":"u"}"#));
            }
        }
        // The session's readers: cookies, the CSRF header, where to go after sign-in.
        _ => {
            let mut headers = HeaderMap::new();
            for part in rest.split(|b| *b == b'\n') {
                if let Ok(value) = HeaderValue::from_bytes(part) {
                    headers.append(http::header::COOKIE, value.clone());
                    headers.append(csrf::CSRF_HEADER, value);
                }
            }
            if let Some(v) = cookie::read(&headers, cookie::SESSION_COOKIE) {
                assert!(!v.is_empty() && v.len() <= 128);
            }
            let _ = csrf::allows(&Method::POST, &headers, "expected-token");
            if let Ok(text) = std::str::from_utf8(rest) {
                if let Some(path) = return_to::safe_return_to(text) {
                    assert!(path.starts_with('/') && !path.starts_with("//"));
                }
            }
        }
    }
});
