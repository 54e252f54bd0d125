//! The `identity` checks, one per `[[auth.oidc]]` issuer: its keys are fetched the way the
//! service fetches them (discovery unless `jwks_uri` is set, then the JWKS), and what came back
//! is judged against the issuer's settings.

use crate::app::identity_provider::IssuerConfig;
use crate::app::identity_provider::fetch::{self, FetchError};
use crate::upload::identity::key_set::{KeySet, Skipped};

use super::report::Check;

const NAME: &str = "identity";

/// What fetching one issuer's keys gave: where they were (as [`fetch::shown`]) and what they
/// held.
pub(super) type Fetched = Result<(String, KeySet, Vec<Skipped>), FetchError>;

/// Fetches `issuer`'s keys as the service does at start.
pub(super) async fn fetch(http: &reqwest::Client, issuer: &IssuerConfig) -> Fetched {
    let (url, keys, skipped) = fetch::keys(http, &issuer.rules, issuer.jwks_uri.clone()).await?;
    Ok((fetch::shown(&url), keys, skipped))
}

/// Whether `issuer`'s tokens can be checked with what `fetched` gave.
pub(super) fn check(issuer: &IssuerConfig, fetched: Fetched) -> Check {
    let spec = issuer.rules.spec();
    let who = format!("{} ({})", issuer.name, spec.issuer);
    let algorithms: Vec<&str> = spec.algorithms.iter().map(|alg| alg.name()).collect();
    let algorithms = algorithms.join(", ");
    match fetched {
        Err(FetchError::IssuerMismatch { configured, found }) => {
            // The provider's text, escaped: it cannot forge lines of the report.
            let hint = trailing_slash_hint(&configured, &found);
            let found = found.escape_debug();
            Check::fail(
                NAME,
                format!(
                    "{who}: discovery says the issuer is `{found}`, not `{configured}`: every \
                     token would be refused as another issuer's{hint}"
                ),
                format!("set issuer = \"{found}\" if that is what the tokens' `iss` says"),
            )
        }
        Err(error) => Check::fail(
            NAME,
            format!(
                "{who}: keys could not be fetched: {error}; until they are, its tokens are \
                 answered 503 identity-provider-unavailable"
            ),
            "check issuer (or jwks_uri) and that this host can reach it",
        ),
        Ok((url, keys, skipped)) if keys.is_empty() => Check::fail(
            NAME,
            format!(
                "{who}: no key at {url} fits algorithms [{algorithms}]{}",
                skipped_list(&skipped)
            ),
            "set algorithms to what the issuer signs with (its keys' `alg`), e.g. RS256",
        ),
        Ok((url, keys, skipped)) => Check::pass(
            NAME,
            format!(
                "{who}: {} key(s) at {url} for [{algorithms}]{}",
                keys.len(),
                skipped_list(&skipped)
            ),
        ),
    }
}

/// A note when two issuers differ only by a trailing `/` (Auth0's issuers end in one).
fn trailing_slash_hint(configured: &str, found: &str) -> &'static str {
    match configured.trim_end_matches('/') == found.trim_end_matches('/') {
        true => " (they differ only by the trailing `/`)",
        false => "",
    }
}

/// `; skipped: kid (why), …` for keys of the JWKS that are not used, or nothing.
fn skipped_list(skipped: &[Skipped]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let each: Vec<String> = skipped
        .iter()
        .map(|key| match &key.kid {
            Some(kid) => format!("{} ({})", kid.escape_debug(), key.reason),
            None => format!("a key without kid ({})", key.reason),
        })
        .collect();
    format!("; not used: {}", each.join(", "))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::app::identity_provider::fetch::FetchError;
    use crate::cli::doctor::Outcome;
    use crate::upload::identity::issuer::{IssuerRules, SigningAlgorithm, test_spec};

    const ISSUER: &str = "https://tenant.example.auth0.com/";

    fn issuer(algorithms: Vec<SigningAlgorithm>) -> IssuerConfig {
        let spec = test_spec(ISSUER, "https://uploads.example.com", &algorithms);
        IssuerConfig {
            name: "auth0".into(),
            rules: IssuerRules::new(spec).unwrap(),
            jwks_uri: None,
            keys_max_age: Duration::from_secs(3600),
            keys_refresh_min: Duration::from_secs(60),
        }
    }

    /// A JWKS with one P-256 key, `ec-1`, and one `oct` key.
    const JWKS: &[u8] = br#"{"keys":[
        {"kty":"EC","crv":"P-256","kid":"ec-1","use":"sig",
         "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRKEU",
         "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
        {"kty":"oct","kid":"hmac","k":"c2VjcmV0"}]}"#;

    fn fetched(rules: &IssuerConfig) -> Fetched {
        let (keys, skipped) = KeySet::from_jwks(JWKS, &rules.rules).unwrap();
        Ok((
            "https://tenant.example.auth0.com/.well-known/jwks.json".into(),
            keys,
            skipped,
        ))
    }

    #[test]
    fn usable_keys_pass_and_say_which_were_not_used() {
        let config = issuer(vec![SigningAlgorithm::ES256]);
        let check = check(&config, fetched(&config));
        assert_eq!(check.outcome, Outcome::Pass, "{check:?}");
        assert!(check.detail.contains("1 key(s)"), "{}", check.detail);
        assert!(
            check.detail.contains("not used: hmac ("),
            "{}",
            check.detail
        );
    }

    #[test]
    fn keys_of_other_algorithms_fail_naming_the_pinned_ones() {
        let config = issuer(vec![SigningAlgorithm::RS256]);
        let check = check(&config, fetched(&config));
        assert_eq!(check.outcome, Outcome::Fail, "{check:?}");
        assert!(
            check.detail.contains("fits algorithms [RS256]"),
            "{}",
            check.detail
        );
        assert!(check.detail.contains("ec-1 ("), "{}", check.detail);
    }

    #[test]
    fn an_issuer_differing_by_its_trailing_slash_fails_naming_both() {
        let config = issuer(vec![SigningAlgorithm::RS256]);
        let found = ISSUER.trim_end_matches('/').to_owned();
        let mismatch = FetchError::IssuerMismatch {
            configured: ISSUER.into(),
            found: found.clone(),
        };
        let check = check(&config, Err(mismatch));
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(
            check.detail.contains(&format!("`{found}`, not `{ISSUER}`")),
            "{}",
            check.detail
        );
        assert!(
            check.detail.contains("only by the trailing `/`"),
            "{}",
            check.detail
        );
        assert_eq!(
            check.fix.unwrap(),
            format!("set issuer = \"{found}\" if that is what the tokens' `iss` says")
        );
    }

    #[test]
    fn a_providers_text_cannot_forge_lines() {
        let config = issuer(vec![SigningAlgorithm::RS256]);
        let forged = "x\nPASS  upload       forged".to_owned();
        let mismatch = FetchError::IssuerMismatch {
            configured: ISSUER.into(),
            found: forged.clone(),
        };
        assert!(!mismatch.to_string().contains('\n'), "{mismatch}");
        let check = check(&config, Err(mismatch));
        assert!(!check.detail.contains('\n'), "{}", check.detail);
        assert!(!check.fix.unwrap().contains('\n'));
        let skipped = [Skipped {
            kid: Some(forged),
            reason: "`use` is not `sig`",
        }];
        assert!(!skipped_list(&skipped).contains('\n'));
    }

    #[test]
    fn an_unreachable_issuer_fails_with_what_its_tokens_will_get() {
        let config = issuer(vec![SigningAlgorithm::RS256]);
        let status = FetchError::Status {
            url: "https://tenant.example.auth0.com/.well-known/openid-configuration".into(),
            status: 404,
        };
        let check = check(&config, Err(status));
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(check.detail.contains("answered 404"), "{}", check.detail);
        assert!(
            check.detail.contains("503 identity-provider-unavailable"),
            "{}",
            check.detail
        );
    }
}
