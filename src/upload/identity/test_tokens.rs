//! Test keys and tokens made without jsonwebtoken: aws-lc-rs signs, and the JWS is put together
//! here by hand — a second implementation, so the tests do not check jsonwebtoken against itself.

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Base64url without padding, as JWS has it.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The test issuer's keys: one of each kind, made once per test run.
pub struct TestKeys {
    /// RS256, `kid` `rsa-1`.
    pub rsa: RsaKeyPair,
    /// ES256, `kid` `ec-1`.
    pub ec: EcdsaKeyPair,
    /// EdDSA, `kid` `ed-1`.
    pub ed: Ed25519KeyPair,
}

/// The keys (RSA key generation takes a while, so once).
pub fn keys() -> &'static TestKeys {
    static KEYS: OnceLock<TestKeys> = OnceLock::new();
    KEYS.get_or_init(|| TestKeys {
        rsa: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
        ec: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
        ed: Ed25519KeyPair::generate().unwrap(),
    })
}

impl TestKeys {
    /// The RSA public key as a JWK.
    pub fn rsa_jwk(&self) -> Value {
        let public = self.rsa.public_key();
        json!({
            "kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        })
    }

    /// The P-256 public key as a JWK.
    pub fn ec_jwk(&self) -> Value {
        let point = self.ec.public_key().as_ref();
        json!({
            "kty": "EC", "kid": "ec-1", "crv": "P-256",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        })
    }

    /// The Ed25519 public key as a JWK.
    pub fn ed_jwk(&self) -> Value {
        json!({
            "kty": "OKP", "kid": "ed-1", "crv": "Ed25519",
            "x": b64(self.ed.public_key().as_ref()),
        })
    }

    /// The JWKS with all three keys.
    pub fn jwks(&self) -> Vec<u8> {
        json!({ "keys": [self.rsa_jwk(), self.ec_jwk(), self.ed_jwk()] })
            .to_string()
            .into_bytes()
    }

    /// A token: header and claims as given, signed with the key the header's `alg` names
    /// (anything else: no signature).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = match header["alg"].as_str() {
            Some("RS256") => {
                let mut signature = vec![0; self.rsa.public_modulus_len()];
                let rng = SystemRandom::new();
                self.rsa
                    .sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature)
                    .unwrap();
                signature
            }
            Some("ES256") => {
                let rng = SystemRandom::new();
                self.ec
                    .sign(&rng, input.as_bytes())
                    .unwrap()
                    .as_ref()
                    .to_vec()
            }
            Some("EdDSA") => self.ed.sign(input.as_bytes()).as_ref().to_vec(),
            _ => Vec::new(),
        };
        format!("{input}.{}", b64(&signature))
    }
}
