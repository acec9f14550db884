//! Test parts: signing keys made in the test (RSA 2048 and P-256 from aws-lc-rs, the
//! library rustls already builds), tokens signed with them byte by byte (so tests can
//! also make the malformed ones a real signer never would), and a tiny HTTP server on
//! 127.0.0.1 that serves one JSON document and counts requests.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use url::Url;

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A key pair with a `kid`, able to sign tokens and describe itself as a JWK.
pub struct TestKey {
    pub kid: String,
    signer: Signer,
}

impl TestKey {
    pub fn rsa(kid: &str) -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        TestKey {
            kid: kid.into(),
            signer: Signer::Rsa(pair),
        }
    }

    pub fn es256(kid: &str) -> Self {
        let pair =
            EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
        TestKey {
            kid: kid.into(),
            signer: Signer::Ec(pair),
        }
    }

    pub fn alg(&self) -> &'static str {
        match self.signer {
            Signer::Rsa(_) => "RS256",
            Signer::Ec(_) => "ES256",
        }
    }

    /// The public key as a JWKS entry.
    pub fn jwk(&self) -> Value {
        match &self.signer {
            Signer::Rsa(pair) => {
                let c = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                       "n": URL_SAFE_NO_PAD.encode(c.n), "e": URL_SAFE_NO_PAD.encode(c.e)})
            }
            Signer::Ec(pair) => {
                // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "kid": self.kid, "use": "sig", "crv": "P-256",
                       "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])})
            }
        }
    }

    /// The public key's bytes, as an attacker would find them (for HMAC confusion).
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match &self.signer {
            Signer::Rsa(pair) => pair.public_key().as_ref().to_vec(),
            Signer::Ec(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    /// A token with the usual header (`alg`, `kid`, `typ: JWT`).
    pub fn token(&self, claims: &Value) -> String {
        self.sign(
            &json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"}),
            claims,
        )
    }

    /// Signs `header.claims` with this key, whatever the header says.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let rng = SystemRandom::new();
        let sig = match &self.signer {
            Signer::Rsa(pair) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .expect("RSA sign");
                sig
            }
            Signer::Ec(pair) => pair
                .sign(&rng, input.as_bytes())
                .expect("EC sign")
                .as_ref()
                .to_vec(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// `base64url(header).base64url(claims)`.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}", part(header), part(claims))
}

/// A JWKS document with these keys.
pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()})
}

#[derive(Clone, Default)]
struct Served {
    doc: Arc<Mutex<Value>>,
    fail: Arc<Mutex<Option<u16>>>,
    hits: Arc<AtomicUsize>,
}

/// Serves one JSON document at every path on 127.0.0.1; stops with the test's runtime.
pub struct JsonServer {
    base: Url,
    served: Served,
}

impl JsonServer {
    pub async fn start(doc: Value) -> Self {
        let served = Served::default();
        *served.doc.lock().unwrap() = doc;
        let app = Router::new().fallback(serve).with_state(served.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        JsonServer { base, served }
    }

    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }

    pub fn set(&self, doc: Value) {
        *self.served.doc.lock().unwrap() = doc;
    }

    /// Answers every later request with `status` and no body.
    pub fn fail_with(&self, status: u16) {
        *self.served.fail.lock().unwrap() = Some(status);
    }

    pub fn hits(&self) -> usize {
        self.served.hits.load(Ordering::SeqCst)
    }
}

async fn serve(State(s): State<Served>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    if let Some(status) = *s.fail.lock().unwrap() {
        return StatusCode::from_u16(status).unwrap().into_response();
    }
    let doc = s.doc.lock().unwrap().clone();
    Json(doc).into_response()
}
