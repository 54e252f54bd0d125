//! `verify` against tokens signed by hand (`test_tokens`): the cases of the research's table
//! (`docs/oidc-research.md`, 1.1) and the time edges.

use std::time::{Duration, SystemTime};

use aws_lc_rs::hmac;
use aws_lc_rs::signature::KeyPair;
use serde_json::{Value, json};

use super::issuer::{IssuerRules, IssuerSpec, SigningAlgorithm, test_spec};
use super::jwt::{TokenError, Verified, verify};
use super::key_set::{KeyLookup, KeySet};
use super::test_tokens::{b64, keys};
use super::user_claim::{UserClaimError, UserPrefix};

const ISSUER: &str = "https://id.example/";
const AUDIENCE: &str = "https://uploads.test";
/// The tests' `now`, in seconds since the epoch.
const NOW: u64 = 1_800_000_000;

fn spec() -> IssuerSpec {
    test_spec(
        ISSUER,
        AUDIENCE,
        &[SigningAlgorithm::RS256, SigningAlgorithm::ES256],
    )
}

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

fn claims(sub: &str) -> Value {
    json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": NOW - 10, "exp": NOW + 300 })
}

fn header(alg: &str, kid: &str) -> Value {
    json!({ "alg": alg, "typ": "at+jwt", "kid": kid })
}

fn rs256(claims: &Value) -> String {
    keys().sign(&header("RS256", "rsa-1"), claims)
}

/// `verify` with one issuer of `spec`, its keys from the test JWKS, at `now`.
fn check_with(spec: IssuerSpec, token: &str, now: SystemTime) -> Result<Verified, TokenError> {
    let rules = [IssuerRules::new(spec).unwrap()];
    let (set, _) = KeySet::from_jwks(&keys().jwks(), &rules[0]).unwrap();
    verify(token, &rules, |_, kid| set.lookup(kid), now)
}

fn check(token: &str) -> Result<Verified, TokenError> {
    check_with(spec(), token, at(NOW))
}

fn user(result: Result<Verified, TokenError>) -> String {
    result.unwrap().user.as_str().to_owned()
}

#[test]
fn rs256_and_es256_tokens_name_their_users_folder() {
    let verified = check(&rs256(&claims("alice"))).unwrap();
    assert_eq!(verified.user.as_str(), "alice");
    assert_eq!(verified.issuer, 0);
    assert_eq!(verified.expires, at(NOW + 300));
    let es256 = keys().sign(&header("ES256", "ec-1"), &claims("auth0|64f"));
    assert_eq!(user(check(&es256)), "auth0_7c64f");
    let prefixed = IssuerSpec {
        user_prefix: UserPrefix::parse("a0"),
        ..spec()
    };
    assert_eq!(
        user(check_with(prefixed, &es256, at(NOW))),
        "a0.auth0_7c64f"
    );
    let mut two_audiences = claims("bob");
    two_audiences["aud"] = json!(["x", AUDIENCE]);
    assert_eq!(user(check(&rs256(&two_audiences))), "bob");
}

#[test]
fn exp_and_nbf_are_judged_at_now_with_the_leeway() {
    let token = rs256(&claims("alice"));
    let exp = NOW + 300;
    assert!(check_with(spec(), &token, at(exp + 59)).is_ok());
    assert_eq!(
        check_with(spec(), &token, at(exp + 60)),
        Err(TokenError::Expired {
            ago: Duration::from_secs(60)
        })
    );
    assert!(matches!(
        check_with(spec(), &token, at(exp + 3600)),
        Err(TokenError::Expired { .. })
    ));
    let mut later = claims("alice");
    later["nbf"] = json!(NOW + 100);
    let token = rs256(&later);
    let verified = check_with(spec(), &token, at(NOW + 40)).expect("nbf − leeway");
    assert_eq!(verified.not_before, Some(at(NOW + 100)));
    assert_eq!(
        check_with(spec(), &token, at(NOW + 39)),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn an_exp_beyond_what_the_clock_holds_is_refused_not_a_panic() {
    for exp in [json!(1e19), json!(u64::MAX - 1)] {
        let mut far = claims("alice");
        far["exp"] = exp.clone();
        assert_eq!(
            check(&rs256(&far)),
            Err(TokenError::Malformed("a time claim is out of range")),
            "{exp}"
        );
    }
}

#[test]
fn wrong_issuer_audience_and_missing_audience_are_refused() {
    let mut wrong = claims("alice");
    wrong["iss"] = json!("https://id.example");
    assert_eq!(check(&rs256(&wrong)), Err(TokenError::UntrustedIssuer));
    let mut wrong = claims("alice");
    wrong["aud"] = json!("https://other.test");
    assert_eq!(check(&rs256(&wrong)), Err(TokenError::WrongAudience));
    let mut missing = claims("alice");
    missing.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        check(&rs256(&missing)),
        Err(TokenError::MissingClaim("aud".into()))
    );
}

#[test]
fn claims_of_the_wrong_type_are_refused() {
    for (name, value) in [
        ("iss", json!(42)),
        ("iss", json!([ISSUER, "x"])),
        ("exp", json!("1800000300")),
        ("nbf", json!("0")),
        ("exp", json!(null)),
        ("iat", json!(true)),
    ] {
        let mut odd = claims("alice");
        odd[name] = value.clone();
        let refused = check(&rs256(&odd));
        assert!(
            matches!(
                refused,
                Err(TokenError::Malformed(_) | TokenError::MissingClaim(_))
            ),
            "{name}: {value} gave {refused:?}"
        );
    }
    let mut numeric_sub = claims("alice");
    numeric_sub["sub"] = json!(7);
    assert_eq!(
        check(&rs256(&numeric_sub)),
        Err(UserClaimError::NotAString("sub".into()).into())
    );
    let mut no_exp = claims("alice");
    no_exp.as_object_mut().unwrap().remove("exp");
    assert!(check(&rs256(&no_exp)).is_err());
}

#[test]
fn alg_none_and_hmac_with_the_public_key_are_refused() {
    for alg in ["none", "NONE"] {
        let token = keys().sign(&header(alg, "rsa-1"), &claims("alice"));
        assert!(
            matches!(check(&token), Err(TokenError::Malformed(_))),
            "{alg}"
        );
    }
    // HS256 "signed" with the RSA public key, as DER and as its JWK's JSON.
    let rsa = keys().rsa.public_key();
    let jwk = keys().rsa_jwk().to_string();
    for secret in [rsa.as_ref(), jwk.as_bytes()] {
        let input = format!(
            "{}.{}",
            b64(header("HS256", "rsa-1").to_string().as_bytes()),
            b64(claims("alice").to_string().as_bytes())
        );
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
        let token = format!("{input}.{}", b64(tag.as_ref()));
        assert_eq!(check(&token), Err(TokenError::AlgorithmNotAllowed));
    }
    // EdDSA is a key of the JWKS, but not pinned.
    let eddsa = keys().sign(&header("EdDSA", "ed-1"), &claims("alice"));
    assert_eq!(check(&eddsa), Err(TokenError::AlgorithmNotAllowed));
}

#[test]
fn a_signature_under_another_keys_kid_is_refused() {
    let token = keys().sign(&header("RS256", "ec-1"), &claims("alice"));
    assert_eq!(check(&token), Err(TokenError::AlgorithmNotAllowed));
    let token = keys().sign(&header("ES256", "rsa-1"), &claims("alice"));
    assert_eq!(check(&token), Err(TokenError::AlgorithmNotAllowed));
}

#[test]
fn unknown_and_missing_kids_go_back_to_the_caller() {
    let token = keys().sign(&header("RS256", "rsa-2"), &claims("alice"));
    assert_eq!(
        check(&token),
        Err(TokenError::UnknownKey {
            issuer: 0,
            kid: "rsa-2".into()
        })
    );
    let rules = [IssuerRules::new(spec()).unwrap()];
    let none = verify(&token, &rules, |_, _| KeyLookup::NoKeys, at(NOW));
    assert_eq!(none, Err(TokenError::NoKeys { issuer: 0 }));
    let no_kid = keys().sign(&json!({ "alg": "RS256" }), &claims("alice"));
    assert_eq!(check(&no_kid), Err(TokenError::NoKid));
}

#[test]
fn a_tampered_payload_is_refused() {
    let token = rs256(&claims("alice"));
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(claims("bob").to_string().as_bytes());
    let tampered = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_eq!(check(&tampered), Err(TokenError::BadSignature));
    let resigned = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        &parts[2][..parts[2].len() - 4]
    );
    assert!(check(&resigned).is_err());
}

#[test]
fn a_claim_naming_another_users_folder_is_refused() {
    for sub in ["../bob", "bob/x", "", "a\u{0}b", "$x"] {
        let refused = check(&rs256(&claims(sub)));
        assert!(
            matches!(refused, Err(TokenError::UserClaim(_))),
            "{sub:?}: {refused:?}"
        );
    }
    let mut no_sub = claims("alice");
    no_sub.as_object_mut().unwrap().remove("sub");
    assert_eq!(
        check(&rs256(&no_sub)),
        Err(UserClaimError::Missing("sub".into()).into())
    );
}

#[test]
fn what_is_not_a_jwt_is_said_so() {
    for odd in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        ".b.c",
        "a..c",
        "a b.c.d",
        &"a.b.".repeat(3000),
    ] {
        assert_eq!(check(odd), Err(TokenError::NotAJwt), "{odd:.20}");
    }
}

#[test]
fn clients_required_claims_and_scopes_are_checked() {
    // Cognito's access tokens: no `aud`, `client_id`, `token_use`.
    let cognito = IssuerSpec {
        audiences: vec![],
        client_ids: vec!["app".into()],
        required_claims: vec![("token_use".into(), "access".into())],
        required_scopes: vec!["upload".into()],
        ..spec()
    };
    let token = |edit: &dyn Fn(&mut Value)| {
        let mut c = claims("alice");
        c.as_object_mut().unwrap().remove("aud");
        c["client_id"] = json!("app");
        c["token_use"] = json!("access");
        c["scope"] = json!("openid upload");
        edit(&mut c);
        check_with(cognito.clone(), &rs256(&c), at(NOW))
    };
    assert_eq!(user(token(&|_| {})), "alice");
    assert_eq!(user(token(&|c| c["scp"] = json!(["upload"]))), "alice");
    assert_eq!(
        token(&|c| c["aud"] = json!("app")),
        Err(TokenError::WrongAudience),
        "an ID token"
    );
    assert_eq!(
        token(&|c| c["client_id"] = json!("other")),
        Err(TokenError::WrongClient)
    );
    assert_eq!(user(token(&|c| c["azp"] = json!("app"))), "alice");
    let okta = |c: &mut Value| {
        c.as_object_mut().unwrap().remove("client_id");
        c["cid"] = json!("app");
    };
    assert_eq!(user(token(&okta)), "alice", "Okta names the client `cid`");
    assert_eq!(
        token(&|c| c["token_use"] = json!("id")),
        Err(TokenError::ClaimMismatch("token_use".into()))
    );
    assert_eq!(
        user(token(&|c| c["token_use"] = json!(["x", "access"]))),
        "alice"
    );
    assert_eq!(
        token(&|c| {
            c.as_object_mut().unwrap().remove("token_use");
        }),
        Err(TokenError::MissingClaim("token_use".into()))
    );
    assert_eq!(
        token(&|c| c["scope"] = json!("openid uploads")),
        Err(TokenError::InsufficientScope("upload".into()))
    );
}

#[test]
fn with_several_issuers_the_tokens_iss_picks_the_rules() {
    let other = IssuerSpec {
        issuer: "https://other.example".into(),
        user_prefix: UserPrefix::parse("o"),
        algorithms: vec![SigningAlgorithm::EdDSA],
        ..spec()
    };
    let rules = [
        IssuerRules::new(spec()).unwrap(),
        IssuerRules::new(other).unwrap(),
    ];
    let (set, _) = KeySet::from_jwks(&keys().jwks(), &rules[1]).unwrap();
    let lookup = |issuer: usize, kid: &str| match issuer {
        1 => set.lookup(kid),
        _ => KeyLookup::NoKeys,
    };
    let mut theirs = claims("alice");
    theirs["iss"] = json!("https://other.example");
    let token = keys().sign(&header("EdDSA", "ed-1"), &theirs);
    let verified = verify(&token, &rules, lookup, at(NOW)).unwrap();
    assert_eq!((verified.issuer, verified.user.as_str()), (1, "o.alice"));
    let ours = keys().sign(&header("EdDSA", "ed-1"), &claims("alice"));
    assert_eq!(
        verify(&ours, &rules, lookup, at(NOW)),
        Err(TokenError::AlgorithmNotAllowed),
        "the first issuer pins RS256 and ES256"
    );
    theirs["iss"] = json!("https://nobody.example");
    let stranger = keys().sign(&header("EdDSA", "ed-1"), &theirs);
    assert_eq!(
        verify(&stranger, &rules, lookup, at(NOW)),
        Err(TokenError::UntrustedIssuer)
    );
}

#[test]
fn unknown_critical_header_extensions_are_refused() {
    let mut critical = header("RS256", "rsa-1");
    critical["crit"] = json!(["exp-ext"]);
    critical["exp-ext"] = json!(1);
    let token = keys().sign(&critical, &claims("alice"));
    assert_eq!(
        check(&token),
        Err(TokenError::Malformed("the header is not acceptable"))
    );
}
