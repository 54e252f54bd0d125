//! What one configured identity provider demands of its tokens — pure.

use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};

use super::user_claim::UserPrefix;

/// A signing algorithm an issuer may be pinned to: public-key algorithms only, so neither
/// `none` nor HMAC (the classic forgery: HS256 "signed" with the issuer's public key) can be
/// configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

impl SigningAlgorithm {
    /// Every algorithm, in the order of their names.
    pub const ALL: [SigningAlgorithm; 9] = [
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
    ];

    /// The algorithm of a JWS `alg` name; `None` for HMAC, `none` and anything else.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The same algorithm for jsonwebtoken.
    pub fn to_jwt(self) -> Algorithm {
        match self {
            Self::RS256 => Algorithm::RS256,
            Self::RS384 => Algorithm::RS384,
            Self::RS512 => Algorithm::RS512,
            Self::PS256 => Algorithm::PS256,
            Self::PS384 => Algorithm::PS384,
            Self::PS512 => Algorithm::PS512,
            Self::ES256 => Algorithm::ES256,
            Self::ES384 => Algorithm::ES384,
            Self::EdDSA => Algorithm::EdDSA,
        }
    }

    /// The pinned algorithm jsonwebtoken's `alg` is, if it is one of ours.
    pub fn from_jwt(alg: Algorithm) -> Option<Self> {
        Self::ALL.into_iter().find(|ours| ours.to_jwt() == alg)
    }

    /// Whether the algorithm takes an RSA key.
    pub fn is_rsa(self) -> bool {
        matches!(self.to_jwt().family(), jsonwebtoken::AlgorithmFamily::Rsa)
    }
}

/// What one `[[auth.oidc]]` entry says, as the settings checked it.
#[derive(Debug, Clone)]
pub struct IssuerSpec {
    /// The tokens' `iss`, exactly.
    pub issuer: String,
    /// One of them must be in `aud`; when empty, a token with an `aud` is refused.
    pub audiences: Vec<String>,
    /// When not empty, `azp`, `client_id` (Cognito) or `cid` (Okta) must be one of them.
    pub client_ids: Vec<String>,
    /// The algorithms tokens may be signed with.
    pub algorithms: Vec<SigningAlgorithm>,
    /// The claim that names the user (`sub` by default).
    pub user_claim: String,
    /// Written before the user's folder, with a `.`.
    pub user_prefix: Option<UserPrefix>,
    /// How far `exp` and `nbf` may be off.
    pub leeway: Duration,
    /// Claims that must equal a string, or hold it when they are arrays of strings.
    pub required_claims: Vec<(String, String)>,
    /// Scopes that must all be in the space-separated `scope`, or in `scp`.
    pub required_scopes: Vec<String>,
}

/// Why an issuer's rules cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerRulesError {
    /// No algorithm is pinned.
    #[error("no signing algorithm is allowed")]
    NoAlgorithm,
    /// Neither an audience nor a client id: a token for any API of the issuer would pass.
    #[error("neither an audience nor a client id is set")]
    NoAudience,
}

/// One issuer's rules, with jsonwebtoken's `Validation` built once per pinned algorithm (one
/// `Validation` naming several families refuses every token).
#[derive(Debug, Clone)]
pub struct IssuerRules {
    spec: IssuerSpec,
    validations: Vec<(SigningAlgorithm, Validation)>,
}

impl IssuerRules {
    /// Rules from a checked entry.
    pub fn new(spec: IssuerSpec) -> Result<Self, IssuerRulesError> {
        if spec.algorithms.is_empty() {
            return Err(IssuerRulesError::NoAlgorithm);
        }
        if spec.audiences.is_empty() && spec.client_ids.is_empty() {
            return Err(IssuerRulesError::NoAudience);
        }
        let validations = spec
            .algorithms
            .iter()
            .map(|&alg| (alg, validation(&spec, alg)))
            .collect();
        Ok(IssuerRules { spec, validations })
    }

    /// What the entry says.
    pub fn spec(&self) -> &IssuerSpec {
        &self.spec
    }

    /// Whether tokens may be signed with `alg`.
    pub fn allows(&self, alg: SigningAlgorithm) -> bool {
        self.spec.algorithms.contains(&alg)
    }

    /// The `Validation` for a pinned algorithm.
    pub fn validation(&self, alg: SigningAlgorithm) -> Option<&Validation> {
        self.validations
            .iter()
            .find_map(|(pinned, validation)| (*pinned == alg).then_some(validation))
    }
}

/// jsonwebtoken's checks for one algorithm: signature, `iss` (required), `aud` (required when
/// set); the times are ours (`now` is a parameter), but `exp` stays required. The user claim,
/// `sub` or another, is checked by the folder rule (a missing one is `user-claim-unusable`).
fn validation(spec: &IssuerSpec, alg: SigningAlgorithm) -> Validation {
    let mut validation = Validation::new(alg.to_jwt());
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.set_issuer(&[&spec.issuer]);
    let mut required = vec!["exp", "iss"];
    if !spec.audiences.is_empty() {
        validation.set_audience(&spec.audiences);
        required.push("aud");
    }
    validation.set_required_spec_claims(&required);
    validation
}

/// The tests' issuer rules: `issuer`, one `audience`, `algorithms`, the defaults otherwise.
#[cfg(test)]
pub(crate) fn test_spec(
    issuer: &str,
    audience: &str,
    algorithms: &[SigningAlgorithm],
) -> IssuerSpec {
    IssuerSpec {
        issuer: issuer.into(),
        audiences: vec![audience.into()],
        client_ids: vec![],
        algorithms: algorithms.to_vec(),
        user_claim: "sub".into(),
        user_prefix: None,
        leeway: Duration::from_secs(60),
        required_claims: vec![],
        required_scopes: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> IssuerSpec {
        test_spec(
            "https://id.example/",
            "https://uploads.test",
            &[SigningAlgorithm::RS256, SigningAlgorithm::ES256],
        )
    }

    #[test]
    fn hmac_and_none_are_not_algorithms() {
        for name in ["HS256", "HS384", "HS512", "none", "NONE", "", "rs256"] {
            assert_eq!(SigningAlgorithm::parse(name), None, "{name}");
        }
        for alg in SigningAlgorithm::ALL {
            assert_eq!(SigningAlgorithm::parse(alg.name()), Some(alg));
            assert_eq!(SigningAlgorithm::from_jwt(alg.to_jwt()), Some(alg));
        }
        assert_eq!(SigningAlgorithm::from_jwt(Algorithm::HS256), None);
    }

    #[test]
    fn one_validation_per_pinned_algorithm() {
        let rules = IssuerRules::new(spec()).unwrap();
        let rs = rules.validation(SigningAlgorithm::RS256).unwrap();
        assert_eq!(rs.algorithms, [Algorithm::RS256]);
        assert!(!rs.validate_exp && !rs.validate_nbf);
        for claim in ["exp", "iss", "aud"] {
            assert!(rs.required_spec_claims.contains(claim), "{claim}");
        }
        assert!(rules.validation(SigningAlgorithm::EdDSA).is_none());
        assert!(!rules.allows(SigningAlgorithm::PS256));
    }

    #[test]
    fn rules_need_an_algorithm_and_an_audience() {
        let no_algorithm = IssuerSpec {
            algorithms: vec![],
            ..spec()
        };
        assert_eq!(
            IssuerRules::new(no_algorithm).err(),
            Some(IssuerRulesError::NoAlgorithm)
        );
        let no_audience = IssuerSpec {
            audiences: vec![],
            ..spec()
        };
        assert_eq!(
            IssuerRules::new(no_audience).err(),
            Some(IssuerRulesError::NoAudience)
        );
        let cognito = IssuerSpec {
            audiences: vec![],
            client_ids: vec!["app".into()],
            ..spec()
        };
        let rules = IssuerRules::new(cognito).unwrap();
        let validation = rules.validation(SigningAlgorithm::ES256).unwrap();
        assert!(validation.aud.is_none() && !validation.required_spec_claims.contains("aud"));
    }
}
