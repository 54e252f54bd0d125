//! The `[[auth.oidc]]` checks: each refusal names its setting.

use figment::Figment;
use figment::providers::{Format, Toml};
use std::time::Duration;

use super::{AwsDefaults, Config, ConfigError, Settings};

const STORE: &str = "[store]\nbucket = \"b12\"\nregion = \"us-east-1\"\n";
const TOKEN: &str = "[[tokens]]\nuser = \"alice\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n";

fn validate(toml: &str) -> Result<Config, ConfigError> {
    let toml = format!("{STORE}{toml}");
    Settings::from_figment(Figment::from(Toml::string(&toml)))?.validate(&AwsDefaults::default())
}

fn entry(extra: &str) -> String {
    format!(
        "[[auth.oidc]]\nname = \"a0\"\nissuer = \"https://id.example/\"\n\
         audience = [\"https://uploads.test\"]\n{extra}\n"
    )
}

/// The problems of settings that must be refused.
fn problems(toml: &str) -> String {
    match validate(toml) {
        Err(ConfigError::Invalid(problems)) => problems.join("\n"),
        other => panic!("expected invalid settings, got {other:?}"),
    }
}

#[test]
fn an_entry_with_defaults_is_read() {
    let config = validate(&entry("")).unwrap();
    let [issuer] = &config.edge.identity_providers[..] else {
        panic!("one issuer");
    };
    let spec = issuer.rules.spec();
    assert_eq!(issuer.name, "a0");
    assert_eq!(spec.issuer, "https://id.example/");
    assert_eq!(
        spec.algorithms.iter().map(|a| a.name()).collect::<Vec<_>>(),
        ["RS256"]
    );
    assert_eq!(spec.user_claim, "sub");
    assert_eq!(spec.leeway, Duration::from_secs(60));
    assert_eq!(issuer.keys_max_age, Duration::from_secs(3600));
    assert_eq!(issuer.keys_refresh_min, Duration::from_secs(60));
    assert!(issuer.jwks_uri.is_none() && spec.user_prefix.is_none());
}

#[test]
fn cognito_takes_client_ids_and_required_claims() {
    let toml = "[[auth.oidc]]\nname = \"cognito\"\n\
        issuer = \"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC\"\n\
        client_ids = [\"app\"]\nrequired_claims = { token_use = \"access\" }\n\
        algorithms = [\"RS256\", \"ES256\", \"EdDSA\"]\nleeway = \"30s\"\n";
    let config = validate(toml).unwrap();
    let spec = config.edge.identity_providers[0].rules.spec();
    assert_eq!(
        spec.required_claims,
        [("token_use".into(), "access".into())]
    );
    assert_eq!(spec.algorithms.len(), 3);
    assert_eq!(spec.leeway, Duration::from_secs(30));
}

#[test]
fn hmac_and_none_are_refused_with_the_reason() {
    let all = problems(&entry("algorithms = [\"HS256\", \"none\", \"XY1\"]"));
    assert!(
        all.contains("auth.oidc[0].algorithms: `HS256` is refused"),
        "{all}"
    );
    assert!(all.contains("classic forgery"), "{all}");
    assert!(all.contains("`none` is refused"), "{all}");
    assert!(all.contains("`XY1` is not one of"), "{all}");
    let all = problems(&entry("algorithms = []"));
    assert!(all.contains("auth.oidc[0].algorithms must name"), "{all}");
}

#[test]
fn an_audience_or_client_id_is_needed() {
    let toml = "[[auth.oidc]]\nname = \"a0\"\nissuer = \"https://id.example/\"\n";
    assert!(problems(toml).contains("auth.oidc[0]: set `audience`"));
}

#[test]
fn urls_are_https_unless_loopback() {
    let all = problems(&entry("jwks_uri = \"http://keys.example/jwks\""));
    assert!(all.contains("auth.oidc[0].jwks_uri"), "{all}");
    let plain = entry("").replace("https://id.example/", "http://id.example/");
    assert!(problems(&plain).contains("auth.oidc[0].issuer"));
    assert!(problems(&entry("").replace("https://id.example/", "id.example")).contains(".issuer"));
    for loopback in [
        "http://127.0.0.1:9/",
        "http://[::1]:9",
        "http://localhost:9",
    ] {
        let toml = entry("").replace("https://id.example/", loopback);
        assert!(validate(&toml).is_ok(), "{loopback}");
    }
}

#[test]
fn urls_carry_no_credentials_and_issuers_no_query_and_errors_never_show_secrets() {
    let with_password = entry("").replace("https://id.example/", "https://u:Secret1@id.example/");
    let all = problems(&with_password);
    assert!(
        all.contains("issuer must not carry a user name or password"),
        "{all}"
    );
    let keys = entry("jwks_uri = \"http://u:Secret2@keys.example/jwks?api_key=Secret3\"");
    let all = problems(&keys);
    assert!(all.contains("jwks_uri must not carry"), "{all}");
    assert!(!all.contains("Secret"), "{all}");
    let query = entry("").replace("https://id.example/", "https://id.example/?tenant=x");
    assert!(problems(&query).contains("issuer must have no query"));
    let api_key = entry("jwks_uri = \"https://keys.example/jwks?api_key=k\"");
    assert!(
        validate(&api_key).is_ok(),
        "a key set's URL may have a query"
    );
}

#[test]
fn names_prefixes_claims_and_times_are_checked() {
    let all = problems(
        &entry("user_prefix = \"A.0\"\nuser_claim = \"\"\nleeway = \"6m\"\nkeys_max_age = \"1m\"")
            .replace("name = \"a0\"", "name = \"Auth 0\""),
    );
    for setting in [
        ".name",
        ".user_prefix",
        ".user_claim",
        ".leeway",
        ".keys_max_age",
    ] {
        assert!(
            all.contains(&format!("auth.oidc[0]{setting}")),
            "{setting} in {all}"
        );
    }
    let all = problems(&entry("keys_refresh_min = \"0s\""));
    assert!(all.contains("auth.oidc[0].keys_refresh_min"), "{all}");
}

#[test]
fn static_users_need_a_prefixed_issuer() {
    let all = problems(&format!("{TOKEN}{}", entry("")));
    assert!(
        all.contains("auth.oidc[0].user_prefix is needed because [[tokens]]"),
        "{all}"
    );
    assert!(validate(&format!("{TOKEN}{}", entry("user_prefix = \"a0\""))).is_ok());
}

#[test]
fn two_issuers_need_distinct_prefixes_and_names() {
    let two = format!("{}{}", entry(""), entry(""));
    let all = problems(&two);
    assert!(
        all.contains("auth.oidc[0].user_prefix is needed because more than one"),
        "{all}"
    );
    assert!(all.contains("the name `a0` is used twice"), "{all}");
    let same = format!(
        "{}{}",
        entry("user_prefix = \"x\""),
        entry("user_prefix = \"x\"").replace("\"a0\"", "\"b1\"")
    );
    assert!(problems(&same).contains("auth.oidc[1].user_prefix `x` is used twice"));
    let distinct = format!(
        "{}{}",
        entry("user_prefix = \"x\""),
        entry("user_prefix = \"y\"").replace("\"a0\"", "\"b1\"")
    );
    assert_eq!(
        validate(&distinct).unwrap().edge.identity_providers.len(),
        2
    );
}

#[test]
fn the_environment_form_is_one_inline_array() {
    // What `Env` does with `PRESIGNED_POST__AUTH__OIDC='[{…}]'`: the value parsed, at `auth.oidc`.
    let value: figment::value::Value = "[{name=a0, issuer=\"https://id.example/\", \
         audience=[\"https://uploads.test\"], leeway=\"30s\"}]"
        .parse()
        .unwrap();
    let figment = Figment::from(Toml::string(STORE)).merge(("auth.oidc", value));
    let config = Settings::from_figment(figment)
        .unwrap()
        .validate(&AwsDefaults::default())
        .unwrap();
    assert_eq!(
        config.edge.identity_providers[0].rules.spec().leeway,
        Duration::from_secs(30)
    );
}
