//! Checking an identity provider's JWT access token — pure: keys come from a lookup the caller
//! answers from its cache, and the time is a parameter (jsonwebtoken's own time checks, which
//! read the system clock, are off; `exp` and `nbf` are judged here against `now`).

use std::time::{Duration, SystemTime};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, decode, decode_header};
use serde_json::{Map, Value};

use super::issuer::{IssuerRules, SigningAlgorithm};
use super::key_set::KeyLookup;
use super::user_claim::UserClaimError;
use crate::upload::access::UserId;

/// The longest token looked at, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The user its claim names, as a folder.
    pub user: UserId,
    /// Which issuer (its index in the rules given) signed it.
    pub issuer: usize,
    /// Its `exp`.
    pub expires: SystemTime,
    /// Its `nbf`, if it has one.
    pub not_before: Option<SystemTime>,
}

/// Why a token is refused: short, safe reasons (never the token, claims' values or keys).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts, or too long: not a JWT at all.
    #[error("the bearer token is not a JWT")]
    NotAJwt,
    /// The header or claims do not parse, or a claim has the wrong type.
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    /// No configured issuer has the token's `iss`.
    #[error("the token's issuer is not trusted here")]
    UntrustedIssuer,
    /// The header's `alg` is not pinned for the issuer (`HS256`, …), or not the key's.
    #[error("the token's signing algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// The header names no key.
    #[error("the token's header has no `kid`")]
    NoKid,
    /// The issuer's keys do not hold the `kid`: the caller may refresh them and try again.
    // The `kid` comes from the token as sent (any text): it is not repeated.
    #[error("the token's key (its `kid`) is not among the issuer's keys")]
    UnknownKey {
        /// The issuer's index.
        issuer: usize,
        /// The token's `kid`.
        kid: String,
    },
    /// The issuer's keys could not be had.
    #[error("the issuer's keys are not available")]
    NoKeys {
        /// The issuer's index.
        issuer: usize,
    },
    /// The signature does not verify: forged, tampered, or another key's.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// `aud` holds none of the configured audiences (or has one where none is configured).
    #[error("the token's audience is not this service")]
    WrongAudience,
    /// None of `azp`, `client_id` (Cognito) and `cid` (Okta) is a configured client.
    #[error("the token was issued to another client")]
    WrongClient,
    /// A claim that must be there is missing.
    #[error("the token has no `{0}` claim")]
    MissingClaim(String),
    /// A required claim has another value.
    #[error("the token's `{0}` claim is not the one required")]
    ClaimMismatch(String),
    /// `exp + leeway ≤ now`.
    #[error("the token expired {} s ago", .ago.as_secs())]
    Expired {
        /// How long ago (from `exp`, without the leeway).
        ago: Duration,
    },
    /// `nbf > now + leeway`.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// A required scope is missing.
    #[error("the token lacks the scope `{0}`")]
    InsufficientScope(String),
    /// The user claim cannot name a folder.
    #[error(transparent)]
    UserClaim(#[from] UserClaimError),
}

/// Checks a token against the configured issuers: its shape, issuer, header (`alg` pinned,
/// `kid`), key (from `key_lookup(issuer index, kid)`), signature, claims (`iss`, `aud`, client,
/// required claims and scopes, `exp`/`nbf` with the leeway against `now`), then the user claim
/// by the folder rule.
pub fn verify<'k>(
    token: &str,
    issuers: &[IssuerRules],
    key_lookup: impl Fn(usize, &str) -> KeyLookup<'k>,
    now: SystemTime,
) -> Result<Verified, TokenError> {
    check_shape(token)?;
    let issuer = pick_issuer(token, issuers)?;
    let rules = &issuers[issuer];
    let (alg, kid) = read_header(token, rules)?;
    let key = match key_lookup(issuer, &kid) {
        KeyLookup::Found(key) => key,
        KeyLookup::Unknown => return Err(TokenError::UnknownKey { issuer, kid }),
        KeyLookup::NoKeys => return Err(TokenError::NoKeys { issuer }),
    };
    if !key.allows(alg) {
        return Err(TokenError::AlgorithmNotAllowed);
    }
    let validation = rules
        .validation(alg)
        .ok_or(TokenError::AlgorithmNotAllowed)?;
    let claims = decode::<Map<String, Value>>(token, key.decoding_key(), validation)
        .map_err(|error| from_jwt_error(error.into_kind()))?
        .claims;
    let (expires, not_before) = check_times(&claims, rules, now)?;
    check_claims(&claims, rules)?;
    let user = user(&claims, rules)?;
    Ok(Verified {
        user,
        issuer,
        expires,
        not_before,
    })
}

/// Three base64url parts (the signature may be empty, so `alg: none` is judged by its header),
/// at most [`MAX_TOKEN_BYTES`].
fn check_shape(token: &str) -> Result<(), TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    let base64url = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let ok = token.len() <= MAX_TOKEN_BYTES
        && parts.len() == 3
        && !parts[0].is_empty()
        && !parts[1].is_empty()
        && parts.iter().all(|part| base64url(part));
    ok.then_some(()).ok_or(TokenError::NotAJwt)
}

/// The issuer whose rules apply: the only one, or (with several) the one the unverified `iss`
/// names — read only to choose the rules; the signature and `iss` are checked after.
fn pick_issuer(token: &str, issuers: &[IssuerRules]) -> Result<usize, TokenError> {
    if issuers.len() == 1 {
        return Ok(0);
    }
    let claims: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|_| TokenError::Malformed("the claims are not a JSON object"))?;
    let iss = claims.get("iss").and_then(Value::as_str);
    issuers
        .iter()
        .position(|rules| Some(rules.spec().issuer.as_str()) == iss)
        .ok_or(TokenError::UntrustedIssuer)
}

/// The header's algorithm, if the issuer pins it, and its `kid`.
fn read_header(token: &str, rules: &IssuerRules) -> Result<(SigningAlgorithm, String), TokenError> {
    let header: Header = decode_header(token)
        .map_err(|_| TokenError::Malformed("the header is not a JWS header of a known `alg`"))?;
    let alg = SigningAlgorithm::from_jwt(header.alg)
        .filter(|alg| rules.allows(*alg))
        .ok_or(TokenError::AlgorithmNotAllowed)?;
    let kid = header.kid.ok_or(TokenError::NoKid)?;
    Ok((alg, kid))
}

/// What jsonwebtoken's refusal means here.
fn from_jwt_error(kind: ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidIssuer => TokenError::UntrustedIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidAlgorithm => TokenError::AlgorithmNotAllowed,
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim),
        ErrorKind::InvalidClaimFormat(_) => TokenError::Malformed("a claim has the wrong type"),
        ErrorKind::Json(_) | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            TokenError::Malformed("a part does not decode")
        }
        ErrorKind::InvalidToken => TokenError::Malformed("the header is not acceptable"),
        _ => TokenError::BadSignature,
    }
}

/// `exp` (required), `nbf` and `iat` as JSON numbers; the token's life against `now`, with the
/// issuer's leeway. Gives `exp` and `nbf` as times.
fn check_times(
    claims: &Map<String, Value>,
    rules: &IssuerRules,
    now: SystemTime,
) -> Result<(SystemTime, Option<SystemTime>), TokenError> {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let leeway = rules.spec().leeway.as_secs();
    let exp = numeric(claims, "exp")?.ok_or(TokenError::MissingClaim("exp".into()))?;
    let nbf = numeric(claims, "nbf")?;
    numeric(claims, "iat")?;
    if exp.saturating_add(leeway) <= now {
        let ago = Duration::from_secs(now - exp);
        return Err(TokenError::Expired { ago });
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(TokenError::NotYetValid);
    }
    // Far beyond what `SystemTime` holds (`+` would panic): no issuer means that.
    let time = |seconds: u64| {
        SystemTime::UNIX_EPOCH
            .checked_add(Duration::from_secs(seconds))
            .ok_or(TokenError::Malformed("a time claim is out of range"))
    };
    Ok((time(exp)?, nbf.map(time).transpose()?))
}

/// A NumericDate: an integer, or a finite non-negative number (floored); anything else refused.
fn numeric(claims: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, TokenError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let seconds = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < u64::MAX as f64)
            .map(|s| s.floor() as u64)
    });
    match seconds {
        Some(seconds) => Ok(Some(seconds)),
        None => Err(TokenError::Malformed(
            "a time claim is not a number of seconds",
        )),
    }
}

/// `iss` a string (jsonwebtoken also passes an array holding ours), the client, required claims
/// and scopes.
fn check_claims(claims: &Map<String, Value>, rules: &IssuerRules) -> Result<(), TokenError> {
    let spec = rules.spec();
    match claims.get("iss") {
        Some(Value::String(iss)) if *iss == spec.issuer => {}
        Some(Value::String(_)) => return Err(TokenError::UntrustedIssuer),
        Some(_) => return Err(TokenError::Malformed("`iss` is not a string")),
        None => return Err(TokenError::MissingClaim("iss".into())),
    }
    if !spec.client_ids.is_empty() {
        let client = ["azp", "client_id", "cid"]
            .iter()
            .filter_map(|name| claims.get(*name).and_then(Value::as_str))
            .any(|client| spec.client_ids.iter().any(|id| id == client));
        if !client {
            return Err(TokenError::WrongClient);
        }
    }
    for (name, required) in &spec.required_claims {
        let holds = match claims.get(name) {
            None => return Err(TokenError::MissingClaim(name.clone())),
            Some(Value::String(value)) => value == required,
            Some(Value::Array(values)) => values.iter().any(|v| v.as_str() == Some(required)),
            Some(_) => false,
        };
        if !holds {
            return Err(TokenError::ClaimMismatch(name.clone()));
        }
    }
    let granted = scopes(claims);
    match spec
        .required_scopes
        .iter()
        .find(|s| !granted.contains(&s.as_str()))
    {
        Some(missing) => Err(TokenError::InsufficientScope(missing.clone())),
        None => Ok(()),
    }
}

/// The scopes granted: the space-separated `scope`, and `scp` (a string or an array of them).
fn scopes(claims: &Map<String, Value>) -> Vec<&str> {
    let mut granted = Vec::new();
    for name in ["scope", "scp"] {
        match claims.get(name) {
            Some(Value::String(scope)) => granted.extend(scope.split_whitespace()),
            Some(Value::Array(scopes)) => granted.extend(scopes.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
    granted
}

/// The user claim, by the folder rule.
fn user(claims: &Map<String, Value>, rules: &IssuerRules) -> Result<UserId, TokenError> {
    let spec = rules.spec();
    let name = &spec.user_claim;
    let claim = match claims.get(name) {
        None => return Err(UserClaimError::Missing(name.clone()).into()),
        Some(Value::String(claim)) => claim,
        Some(_) => return Err(UserClaimError::NotAString(name.clone()).into()),
    };
    Ok(UserId::from_claim(spec.user_prefix.as_ref(), claim)?)
}
