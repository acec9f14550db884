//! The signature checks of token verification, on `ring`: jsonwebtoken only parses
//! and validates claims, and calls this provider for the one cryptographic step.
//!
//! Why not one of jsonwebtoken's own providers: `ring` is already in every build (the
//! HTTP client's TLS), while aws-lc-rs would add the slowest C build of the local quick
//! start (about a minute of the two cores) and RustCrypto a dozen crates, for two
//! verifications. Only what [`super::jwks`] accepts is provided — RS256 and ES256,
//! verify only: a server that checks a provider's tokens signs none. Anything else is
//! refused as an invalid algorithm, so a token can never be "verified" by a missing case.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature::{
    RsaPublicKeyComponents, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
};

/// The provider: RS256 and ES256 verification.
static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes this the process's provider (once; later calls are no-ops). Called before
/// any token is decoded ([`super::TokenVerifier`]'s constructor).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when a provider is installed already, which only this function does.
        let _ = PROVIDER.install_default();
    });
}

fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    let v = match (alg, key.family()) {
        (Algorithm::RS256, AlgorithmFamily::Rsa) => RingVerifier::Rs256(key.clone()),
        (Algorithm::ES256, AlgorithmFamily::Ec) => RingVerifier::Es256(key.clone()),
        (Algorithm::RS256 | Algorithm::ES256, _) => return Err(ErrorKind::InvalidKeyFormat.into()),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(Box::new(v))
}

/// One algorithm's check over one key.
enum RingVerifier {
    /// RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 to 8192 bits.
    Rs256(DecodingKey),
    /// ECDSA P-256 with SHA-256, the JWS fixed-length `r || s` signature.
    Es256(DecodingKey),
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        let checked = match self {
            RingVerifier::Rs256(key) => match key.kind() {
                DecodingKeyKind::RsaModulusExponent { n, e } => {
                    RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, msg, sig)
                }
                // A DER key (from PEM): ring reads the RSAPublicKey structure.
                DecodingKeyKind::SecretOrDer(der) => {
                    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der).verify(msg, sig)
                }
            },
            RingVerifier::Es256(key) => match key.kind() {
                // `from_ec_components` keeps the uncompressed point 0x04 || x || y.
                DecodingKeyKind::SecretOrDer(point) => {
                    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(msg, sig)
                }
                DecodingKeyKind::RsaModulusExponent { .. } => {
                    return Err(signature::Error::new());
                }
            },
        };
        checked.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        match self {
            RingVerifier::Rs256(_) => Algorithm::RS256,
            RingVerifier::Es256(_) => Algorithm::ES256,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(r: Result<Box<dyn JwtVerifier>, Error>) -> ErrorKind {
        r.err().expect("refused").into_kind()
    }

    #[test]
    fn only_rs256_and_es256_over_keys_of_their_family_get_a_verifier() {
        let rsa = DecodingKey::from_rsa_components("AQAB", "AQAB").unwrap();
        let ec = DecodingKey::from_ec_components("AA", "AA").unwrap();
        let secret = DecodingKey::from_secret(b"a shared secret").unwrap();
        assert_eq!(
            verifier(&Algorithm::RS256, &rsa).unwrap().algorithm(),
            Algorithm::RS256
        );
        assert_eq!(
            verifier(&Algorithm::ES256, &ec).unwrap().algorithm(),
            Algorithm::ES256
        );
        for (alg, key) in [
            (Algorithm::HS256, &secret),
            (Algorithm::RS384, &rsa),
            (Algorithm::PS256, &rsa),
            (Algorithm::ES384, &ec),
            (Algorithm::EdDSA, &ec),
        ] {
            assert!(
                matches!(kind_of(verifier(&alg, key)), ErrorKind::InvalidAlgorithm),
                "{alg:?}"
            );
        }
        assert!(matches!(
            kind_of(verifier(&Algorithm::RS256, &ec)),
            ErrorKind::InvalidKeyFormat
        ));
        assert!(matches!(
            kind_of(verifier(&Algorithm::ES256, &secret)),
            ErrorKind::InvalidKeyFormat
        ));
    }

    #[test]
    fn a_signature_over_other_bytes_or_from_a_bad_key_does_not_verify() {
        let rsa = DecodingKey::from_rsa_components("AQAB", "AQAB").unwrap();
        let v = verifier(&Algorithm::RS256, &rsa).unwrap();
        assert!(v.verify(b"header.payload", &vec![0u8; 256]).is_err());
        let ec = DecodingKey::from_ec_components("AA", "AA").unwrap();
        let v = verifier(&Algorithm::ES256, &ec).unwrap();
        assert!(v.verify(b"header.payload", &vec![0u8; 64]).is_err());
    }

    #[test]
    fn nothing_is_signed() {
        let key = EncodingKey::from_secret(b"k").unwrap();
        assert!(matches!(
            no_signer(&Algorithm::HS256, &key)
                .err()
                .unwrap()
                .into_kind(),
            ErrorKind::InvalidAlgorithm
        ));
    }
}
