//! An issuer's usable signing keys, from its JWKS — pure: the bytes come from whoever fetched
//! them.

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyOperations, PublicKeyUse,
};

use super::issuer::{IssuerRules, SigningAlgorithm};

/// A key tokens may be signed with, and the algorithms it may verify.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    algorithms: Vec<SigningAlgorithm>,
    key: DecodingKey,
}

impl VerifyingKey {
    /// Whether a token signed with `alg` may be checked with this key.
    pub fn allows(&self, alg: SigningAlgorithm) -> bool {
        self.algorithms.contains(&alg)
    }

    /// The key, for jsonwebtoken.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

/// A key of the JWKS that is not kept, and why (logged, never an error: one odd key must not
/// take the issuer down).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The key's `kid`, if it has one.
    pub kid: Option<String>,
    /// Why it was skipped.
    pub reason: &'static str,
}

/// What looking up a token's `kid` gives.
#[derive(Debug, Clone, Copy)]
pub enum KeyLookup<'k> {
    /// The key.
    Found(&'k VerifyingKey),
    /// The issuer has keys, but not this one: perhaps rotated in since the last fetch.
    Unknown,
    /// The issuer's keys could not be had (never fetched, or none usable).
    NoKeys,
}

/// The usable signing keys of one issuer's JWKS, by `kid`.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<(String, VerifyingKey)>,
}

impl KeySet {
    /// The keys of a JWKS that fit the issuer's pinned algorithms: a `kid`, `use` absent or
    /// `sig`, `key_ops` absent or holding `verify`; RSA for pinned RSA algorithms (the key's
    /// `alg`, if given, pinned), EC P-256 for ES256, P-384 for ES384, Ed25519 for EdDSA. `oct`
    /// keys are never kept (jsonwebtoken would make HMAC keys of them); of two keys with one
    /// `kid`, the first.
    pub fn from_jwks(
        jwks: &[u8],
        rules: &IssuerRules,
    ) -> Result<(KeySet, Vec<Skipped>), serde_json::Error> {
        let set: JwkSet = serde_json::from_slice(jwks)?;
        let mut keys: Vec<(String, VerifyingKey)> = Vec::new();
        let mut skipped = Vec::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                let reason = "no `kid`";
                skipped.push(Skipped { kid: None, reason });
                continue;
            };
            let kept = match keys.iter().any(|(k, _)| *k == kid) {
                true => Err("a second key with this `kid`"),
                false => usable(jwk, rules),
            };
            match kept {
                Ok(key) => keys.push((kid, key)),
                Err(reason) => skipped.push(Skipped {
                    kid: Some(kid),
                    reason,
                }),
            }
        }
        Ok((KeySet { keys }, skipped))
    }

    /// The key with this `kid`.
    pub fn lookup(&self, kid: &str) -> KeyLookup<'_> {
        match self.keys.iter().find(|(k, _)| k == kid) {
            Some((_, key)) => KeyLookup::Found(key),
            None if self.keys.is_empty() => KeyLookup::NoKeys,
            None => KeyLookup::Unknown,
        }
    }

    /// How many keys are kept.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The key, if it may verify tokens of a pinned algorithm.
fn usable(jwk: &Jwk, rules: &IssuerRules) -> Result<VerifyingKey, &'static str> {
    let common = &jwk.common;
    if !matches!(common.public_key_use, None | Some(PublicKeyUse::Signature)) {
        return Err("`use` is not `sig`");
    }
    if let Some(ops) = &common.key_operations
        && !ops.contains(&KeyOperations::Verify)
    {
        return Err("`key_ops` lacks `verify`");
    }
    let fits: Vec<SigningAlgorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => SigningAlgorithm::ALL
            .into_iter()
            .filter(|alg| alg.is_rsa())
            .collect(),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![SigningAlgorithm::ES256],
            EllipticCurve::P384 => vec![SigningAlgorithm::ES384],
            _ => return Err("an EC curve other than P-256 and P-384"),
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            vec![SigningAlgorithm::EdDSA]
        }
        AlgorithmParameters::OctetKey(_) => return Err("a symmetric (`oct`) key"),
        _ => return Err("a key type no pinned algorithm takes"),
    };
    let named = match common.key_algorithm {
        None => None,
        Some(named) => match jsonwebtoken::Algorithm::try_from(named)
            .ok()
            .and_then(SigningAlgorithm::from_jwt)
        {
            Some(alg) => Some(alg),
            None => return Err("its `alg` is not a public-key signature algorithm"),
        },
    };
    let algorithms: Vec<SigningAlgorithm> = fits
        .into_iter()
        .filter(|alg| rules.allows(*alg) && named.is_none_or(|named| named == *alg))
        .collect();
    if algorithms.is_empty() {
        return Err("no pinned algorithm takes it");
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| "its parameters do not decode")?;
    Ok(VerifyingKey { algorithms, key })
}

#[cfg(test)]
mod tests {

    use serde_json::{Value, json};

    use super::*;
    use crate::upload::identity::issuer::test_spec;
    use crate::upload::identity::test_tokens::keys;

    fn rules(algorithms: &[SigningAlgorithm]) -> IssuerRules {
        IssuerRules::new(test_spec(
            "https://id.example/",
            "https://uploads.test",
            algorithms,
        ))
        .unwrap()
    }

    fn load(keys: &[Value], rules: &IssuerRules) -> (KeySet, Vec<Skipped>) {
        let jwks = json!({ "keys": keys }).to_string();
        KeySet::from_jwks(jwks.as_bytes(), rules).unwrap()
    }

    fn with(mut jwk: Value, field: &str, value: Value) -> Value {
        jwk[field] = value;
        jwk
    }

    fn reasons(skipped: &[Skipped]) -> Vec<(Option<&str>, &str)> {
        skipped
            .iter()
            .map(|s| (s.kid.as_deref(), s.reason))
            .collect()
    }

    #[test]
    fn pinned_keys_are_kept_by_kid() {
        let all = rules(&SigningAlgorithm::ALL);
        let (set, skipped) = KeySet::from_jwks(&keys().jwks(), &all).unwrap();
        assert_eq!((set.len(), skipped), (3, vec![]));
        let KeyLookup::Found(rsa) = set.lookup("rsa-1") else {
            panic!("rsa-1 is kept");
        };
        // The JWK says RS256: not PS256, though the key could.
        assert!(rsa.allows(SigningAlgorithm::RS256) && !rsa.allows(SigningAlgorithm::PS256));
        let KeyLookup::Found(ec) = set.lookup("ec-1") else {
            panic!("ec-1 is kept");
        };
        assert!(ec.allows(SigningAlgorithm::ES256) && !ec.allows(SigningAlgorithm::ES384));
        assert!(matches!(set.lookup("nope"), KeyLookup::Unknown));
        assert!(matches!(
            KeySet::default().lookup("rsa-1"),
            KeyLookup::NoKeys
        ));
        let rsa_without_alg = keys().rsa_jwk().as_object().unwrap().clone();
        let mut rsa_without_alg = Value::Object(rsa_without_alg);
        rsa_without_alg.as_object_mut().unwrap().remove("alg");
        let (set, _) = load(&[rsa_without_alg], &all);
        let KeyLookup::Found(rsa) = set.lookup("rsa-1") else {
            panic!("rsa-1 is kept");
        };
        assert!(rsa.allows(SigningAlgorithm::PS512) && !rsa.allows(SigningAlgorithm::ES256));
    }

    #[test]
    fn odd_keys_are_skipped_and_reported() {
        let rs_es = rules(&[SigningAlgorithm::RS256, SigningAlgorithm::ES256]);
        let k = keys();
        let oct = json!({ "kty": "oct", "kid": "hmac", "k": "c2VjcmV0", "alg": "HS256" });
        let no_kid = {
            let mut jwk = k.ec_jwk();
            jwk.as_object_mut().unwrap().remove("kid");
            jwk
        };
        let (set, skipped) = load(
            &[
                oct,
                no_kid,
                with(k.rsa_jwk(), "kid", json!("ec-1")),
                k.ec_jwk(),
                with(k.ec_jwk(), "kid", json!("ec-1")),
                with(
                    with(k.ec_jwk(), "kid", json!("p384")),
                    "crv",
                    json!("P-384"),
                ),
                with(with(k.rsa_jwk(), "kid", json!("enc")), "use", json!("enc")),
                with(
                    with(k.rsa_jwk(), "kid", json!("ops")),
                    "key_ops",
                    json!(["sign"]),
                ),
                with(with(k.rsa_jwk(), "kid", json!("ps")), "alg", json!("PS256")),
                with(with(k.rsa_jwk(), "kid", json!("hs")), "alg", json!("HS256")),
                k.ed_jwk(),
                json!({ "kty": "weird", "kid": "weird" }),
            ],
            &rs_es,
        );
        // The first `ec-1` (an RSA key) is kept; the real one comes second.
        assert_eq!(set.len(), 1, "{skipped:?}");
        assert!(
            matches!(set.lookup("ec-1"), KeyLookup::Found(key) if key.allows(SigningAlgorithm::RS256))
        );
        assert_eq!(
            reasons(&skipped),
            [
                (Some("hmac"), "a symmetric (`oct`) key"),
                (None, "no `kid`"),
                (Some("ec-1"), "a second key with this `kid`"),
                (Some("ec-1"), "a second key with this `kid`"),
                (Some("p384"), "no pinned algorithm takes it"),
                (Some("enc"), "`use` is not `sig`"),
                (Some("ops"), "`key_ops` lacks `verify`"),
                (Some("ps"), "no pinned algorithm takes it"),
                (
                    Some("hs"),
                    "its `alg` is not a public-key signature algorithm"
                ),
                (Some("ed-1"), "no pinned algorithm takes it"),
                (Some("weird"), "a key type no pinned algorithm takes"),
            ]
        );
        assert!(KeySet::from_jwks(b"not json", &rs_es).is_err());
    }
}
