//! The `[[auth.oidc]]` entries checked into [`IssuerConfig`]s: each setting in turn, problems
//! named by the entry's index and the setting.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::app::identity_provider::IssuerConfig;
use crate::app::identity_provider::fetch::{secure_url, shown};
use crate::upload::identity::issuer::{
    IssuerRules, IssuerRulesError, IssuerSpec, SigningAlgorithm,
};
use crate::upload::identity::user_claim::UserPrefix;

use super::OidcSettings;

/// The longest `leeway`.
const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The shortest and longest `keys_max_age`.
const KEYS_MAX_AGE: (Duration, Duration) = (Duration::from_secs(300), Duration::from_secs(86_400));

/// Each entry as an issuer; with static `[[tokens]]` users or more than one entry, every entry
/// needs a `user_prefix`, all distinct, so no two sources can name the same folder.
pub(super) fn issuers(
    entries: &[OidcSettings],
    static_users: bool,
    problems: &mut Vec<String>,
) -> Vec<IssuerConfig> {
    let issuers: Vec<IssuerConfig> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, entry)| issuer(entry, &format!("auth.oidc[{i}]"), problems))
        .collect();
    check_names(entries, problems);
    check_prefixes(entries, static_users, problems);
    issuers
}

/// One entry, or its problems.
fn issuer(entry: &OidcSettings, at: &str, problems: &mut Vec<String>) -> Option<IssuerConfig> {
    let before = problems.len();
    let name = &entry.name;
    if !(1..=32).contains(&name.len())
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        problems.push(format!("{at}.name `{name}` must be 1-32 of a-z 0-9 -"));
    }
    check_url(&entry.issuer, &format!("{at}.issuer"), problems);
    check_issuer_parts(&entry.issuer, &format!("{at}.issuer"), problems);
    if let Some(uri) = &entry.jwks_uri {
        check_url(uri, &format!("{at}.jwks_uri"), problems);
    }
    let algorithms = algorithms(&entry.algorithms, at, problems);
    let user_prefix = user_prefix(entry.user_prefix.as_deref(), at, problems);
    check_times(entry, at, problems);
    if entry.user_claim.is_empty() {
        problems.push(format!("{at}.user_claim must name a claim (default `sub`)"));
    }
    let spec = IssuerSpec {
        issuer: entry.issuer.clone(),
        audiences: entry.audience.clone(),
        client_ids: entry.client_ids.clone(),
        algorithms,
        user_claim: entry.user_claim.clone(),
        user_prefix,
        leeway: entry.leeway,
        required_claims: entry.required_claims.clone().into_iter().collect(),
        required_scopes: entry.required_scopes.clone(),
    };
    let rules = IssuerRules::new(spec).map_err(|error| problems.push(match error {
        IssuerRulesError::NoAlgorithm => format!("{at}.algorithms must name at least one algorithm"),
        IssuerRulesError::NoAudience => format!(
            "{at}: set `audience` (or `client_ids`, e.g. for Cognito access tokens): else a token \
             the issuer made for any other API would pass"
        ),
    }));
    let rules = rules.ok().filter(|_| problems.len() == before)?;
    Some(IssuerConfig {
        name: name.clone(),
        rules,
        jwks_uri: entry.jwks_uri.clone(),
        keys_max_age: entry.keys_max_age,
        keys_refresh_min: entry.keys_refresh_min,
    })
}

/// An absolute `https` URL, or `http` to a loopback host (tests).
fn check_url(url: &str, setting: &str, problems: &mut Vec<String>) {
    if !secure_url(url) {
        problems.push(format!(
            "{setting} `{}` must be an https:// URL (http:// only to 127.0.0.1, [::1] or localhost)",
            shown(url)
        ));
    }
    if url::Url::parse(url).is_ok_and(|u| !u.username().is_empty() || u.password().is_some()) {
        problems.push(format!(
            "{setting} must not carry a user name or password (keys are public; it is shown in \
             logs and /readyz)"
        ));
    }
}

/// An issuer is a URL with no query or fragment (OpenID Connect Discovery 1.0, section 2): its
/// tokens' `iss` never has one, and discovery is found under its path.
fn check_issuer_parts(issuer: &str, setting: &str, problems: &mut Vec<String>) {
    if url::Url::parse(issuer).is_ok_and(|u| u.query().is_some() || u.fragment().is_some()) {
        problems.push(format!(
            "{setting} must have no query (`?…`) or fragment (`#…`)"
        ));
    }
}

/// The pinned algorithms; HMAC and `none` are refused with the reason.
fn algorithms(names: &[String], at: &str, problems: &mut Vec<String>) -> Vec<SigningAlgorithm> {
    let mut algorithms = Vec::new();
    for name in names {
        match SigningAlgorithm::parse(name) {
            Some(alg) if !algorithms.contains(&alg) => algorithms.push(alg),
            Some(_) => {}
            None if name.to_ascii_uppercase().starts_with("HS") => problems.push(format!(
                "{at}.algorithms: `{name}` is refused: a public identity provider's tokens are \
                 never HMAC-signed; HMAC with a public key is the classic forgery"
            )),
            None if name.eq_ignore_ascii_case("none") => problems.push(format!(
                "{at}.algorithms: `{name}` is refused: unsigned tokens prove nothing"
            )),
            None => problems.push(format!(
                "{at}.algorithms: `{name}` is not one of RS256 RS384 RS512 PS256 PS384 PS512 \
                 ES256 ES384 EdDSA"
            )),
        }
    }
    algorithms
}

fn user_prefix(prefix: Option<&str>, at: &str, problems: &mut Vec<String>) -> Option<UserPrefix> {
    let prefix = prefix?;
    let parsed = UserPrefix::parse(prefix);
    if parsed.is_none() {
        problems.push(format!(
            "{at}.user_prefix `{prefix}` must be 1-16 of a-z 0-9"
        ));
    }
    parsed
}

/// `leeway` at most 5 minutes; `keys_max_age` 5 minutes to 24 hours; `keys_refresh_min` at
/// least 1 s and at most `keys_max_age`.
fn check_times(entry: &OidcSettings, at: &str, problems: &mut Vec<String>) {
    if entry.leeway > MAX_LEEWAY {
        problems.push(format!("{at}.leeway must be at most 5 minutes"));
    }
    if !(KEYS_MAX_AGE.0..=KEYS_MAX_AGE.1).contains(&entry.keys_max_age) {
        problems.push(format!("{at}.keys_max_age must be 5 minutes to 24 hours"));
    }
    let refresh = entry.keys_refresh_min;
    if refresh < Duration::from_secs(1) || refresh > entry.keys_max_age {
        problems.push(format!(
            "{at}.keys_refresh_min must be at least 1 s and at most keys_max_age"
        ));
    }
}

fn check_names(entries: &[OidcSettings], problems: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    for entry in entries {
        if !seen.insert(entry.name.as_str()) {
            problems.push(format!(
                "auth.oidc: the name `{}` is used twice",
                entry.name
            ));
        }
    }
}

/// With users from more than one source, each issuer's folders must be told apart by prefix.
fn check_prefixes(entries: &[OidcSettings], static_users: bool, problems: &mut Vec<String>) {
    if !static_users && entries.len() < 2 {
        return;
    }
    let why = match static_users {
        true => "[[tokens]] users are configured too",
        false => "more than one issuer is configured",
    };
    let mut seen = BTreeSet::new();
    for (i, entry) in entries.iter().enumerate() {
        match entry.user_prefix.as_deref() {
            None => problems.push(format!(
                "auth.oidc[{i}].user_prefix is needed because {why}: without it a token's user \
                 could have the same folder as another source's user"
            )),
            Some(prefix) if !seen.insert(prefix) => problems.push(format!(
                "auth.oidc[{i}].user_prefix `{prefix}` is used twice: each issuer needs its own"
            )),
            Some(_) => {}
        }
    }
}
