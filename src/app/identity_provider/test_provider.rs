//! A small identity provider on 127.0.0.1 for the tests: discovery and a JWKS that rotates,
//! answers errors and goes down; and a clock the tests move.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::IssuerConfig;
use super::providers::IdentityProviders;
use crate::clock::Clock;
use crate::upload::identity::issuer::{IssuerRules, SigningAlgorithm, test_spec};
use crate::upload::identity::test_tokens::keys;

pub(super) const AUDIENCE: &str = "https://uploads.test";
/// The tests' start, in seconds since the epoch.
pub(super) const NOW: u64 = 1_800_000_000;

/// What the test provider serves, and what it was asked.
#[derive(Debug, Default)]
pub(super) struct Provider {
    pub(super) up: bool,
    /// Answered for the JWKS instead of 200 when set.
    pub(super) jwks_status: Option<u16>,
    pub(super) discovery_issuer: String,
    pub(super) jwks_uri: Option<String>,
    pub(super) jwks: Vec<u8>,
    pub(super) discovery_hits: usize,
    pub(super) jwks_hits: usize,
    /// How long each answer takes.
    pub(super) delay: Duration,
}

/// A provider on 127.0.0.1 answering each connection once; down, it closes them unanswered.
pub(super) fn serve() -> (String, Arc<Mutex<Provider>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let provider = Arc::new(Mutex::new(Provider {
        up: true,
        discovery_issuer: issuer.clone(),
        jwks: jwks(&["rsa-1"]),
        ..Provider::default()
    }));
    let state = provider.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let request = String::from_utf8_lossy(&request).into_owned();
            std::thread::sleep(state.lock().unwrap().delay);
            let Some((status, body)) = answer(&state, &request) else {
                continue;
            };
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (issuer, provider)
}

/// The body for a request, or `None` (the connection is closed) when the provider is down.
fn answer(state: &Mutex<Provider>, request: &str) -> Option<(u16, Vec<u8>)> {
    let mut state = state.lock().unwrap();
    if !state.up {
        return None;
    }
    if request.starts_with("GET /.well-known/openid-configuration ") {
        state.discovery_hits += 1;
        let issuer = &state.discovery_issuer;
        let jwks_uri = state
            .jwks_uri
            .clone()
            .unwrap_or_else(|| format!("{}/jwks", issuer.trim_end_matches('/')));
        let body = json!({ "issuer": issuer, "jwks_uri": jwks_uri });
        return Some((200, body.to_string().into_bytes()));
    }
    state.jwks_hits += 1;
    Some((state.jwks_status.unwrap_or(200), state.jwks.clone()))
}

/// A JWKS of the test RSA key under each `kid`.
pub(super) fn jwks(kids: &[&str]) -> Vec<u8> {
    let keys: Vec<Value> = kids
        .iter()
        .map(|kid| {
            let mut jwk = keys().rsa_jwk();
            jwk["kid"] = json!(kid);
            jwk
        })
        .collect();
    json!({ "keys": keys }).to_string().into_bytes()
}

/// The settings of the issuer `issuer`: RS256 for the test audience, a leeway of 60 s, keys
/// fetched again after an hour and for an unknown `kid` at most once a minute.
pub(super) fn config_for(issuer: &str, jwks_uri: Option<String>) -> IssuerConfig {
    let spec = test_spec(issuer, AUDIENCE, &[SigningAlgorithm::RS256]);
    IssuerConfig {
        name: "test".into(),
        rules: IssuerRules::new(spec).unwrap(),
        jwks_uri,
        keys_max_age: Duration::from_secs(3600),
        keys_refresh_min: Duration::from_secs(60),
    }
}

/// A clock at [`NOW`].
pub(super) fn test_clock() -> Arc<TestClock> {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
    Arc::new(TestClock(Mutex::new(start)))
}

/// Every issuer of the settings [`config_for`] the provider at `url`, on a clock at [`NOW`].
pub(super) fn providers(url: &str) -> (IdentityProviders, Arc<TestClock>) {
    let clock = test_clock();
    let providers = IdentityProviders::new(vec![config_for(url, None)], clock.clone());
    (providers, clock)
}

/// A token for alice from the test provider at `issuer`, signed with the RSA key as `kid`,
/// expiring at [`NOW`] + 300 s.
pub(super) fn token(issuer: &str, kid: &str) -> String {
    token_with(issuer, kid, json!({}))
}

/// As [`token`], with the claims of `more` added or replaced.
pub(super) fn token_with(issuer: &str, kid: &str, more: Value) -> String {
    let header = json!({ "alg": "RS256", "typ": "at+jwt", "kid": kid });
    let mut claims = json!({ "iss": issuer, "aud": AUDIENCE, "sub": "alice", "exp": NOW + 300 });
    for (name, value) in more.as_object().into_iter().flatten() {
        claims[name] = value.clone();
    }
    keys().sign(&header, &claims)
}

/// A clock the test moves.
#[derive(Debug)]
pub(super) struct TestClock(pub(super) Mutex<SystemTime>);

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    pub(super) fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}
