//! Sign-in tokens from an identity provider through the API: the app configured with
//! `[[auth.oidc]]` pointing at the real test provider on loopback (`oidc_provider.rs`). A user's
//! token gets a policy under their own folder and nobody else's; forged and refused tokens get
//! no policy, only their problem (`invalid-token`, `token-expired`, `user-claim-unusable`) with
//! `WWW-Authenticate`; a provider whose keys cannot be had answers 503 with `Retry-After`, never
//! 401, until it comes up; static tokens work beside the provider's.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{AppOptions, PROFILES, TestApp, spawn_offline_app_with};
use crate::oidc_provider::{AUDIENCE, OidcProvider};
use crate::spa::ALICE;
use presigned_post::upload::access::hash_token;

/// The app's settings: the private profile (`users/{user}/`), the provider at `issuer`, and the
/// static token of `alice` when `with_static` (then the provider's users are `idp.`-prefixed).
fn options(issuer: &str, with_static: bool) -> AppOptions {
    options_with(issuer, with_static, "")
}

/// As [`options`], with more settings of the `[[auth.oidc]]` entry.
fn options_with(issuer: &str, with_static: bool, extra: &str) -> AppOptions {
    let (tokens, prefix) = match with_static {
        true => (
            format!(
                "[[tokens]]\nuser = \"alice\"\nsha256 = \"{}\"\n",
                hash_token(ALICE)
            ),
            "user_prefix = \"idp\"\n",
        ),
        false => (String::new(), ""),
    };
    AppOptions {
        profiles: format!(
            "{PROFILES}\n[profiles.private]\naccess = \"token\"\nkey_prefix = \"users/{{user}}/\"\n\
             max_size = \"1 KiB\"\ndownloads = true\n{tokens}\
             [[auth.oidc]]\nname = \"test\"\nissuer = \"{issuer}\"\naudience = [\"{AUDIENCE}\"]\n\
             algorithms = [\"RS256\", \"ES256\"]\nkeys_refresh_min = \"1s\"\n{prefix}{extra}"
        ),
        ..AppOptions::default()
    }
}

async fn presign(app: &TestApp, token: &str) -> Response {
    app.http
        .post(format!("{}/api/uploads", app.address))
        .bearer_auth(token)
        .json(&json!({"profile": "private", "filename": "diary.txt"}))
        .send()
        .await
        .unwrap()
}

/// The answer's status, problem code and `WWW-Authenticate`, and its body.
async fn refusal(response: Response) -> (u16, String, String, Value) {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: Value = response.json().await.unwrap();
    let code = body["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("urn:presigned-post:problem:")
        .to_owned();
    (status, code, challenge, body)
}

/// `/readyz`'s `identity_providers` (the test asks from this machine, so it sees the detail).
async fn providers_ready(app: &TestApp) -> Value {
    let ready: Value = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    ready["identity_providers"].clone()
}

async fn key_of(response: Response) -> String {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["key"].as_str().expect("a key").to_owned()
}

#[tokio::test]
async fn a_providers_user_gets_policies_in_their_own_folder_only() {
    let provider = OidcProvider::start("oidc-api-folders");
    let app = spawn_offline_app_with(options(&provider.issuer, false)).await;
    let alice = provider.token("alice").await;
    let bob = provider.token("bob").await;

    let alice_key = key_of(presign(&app, &alice).await).await;
    assert!(alice_key.starts_with("users/alice/"), "{alice_key}");
    let bob_key = key_of(presign(&app, &bob).await).await;
    assert!(bob_key.starts_with("users/bob/"), "{bob_key}");
    let odd = provider
        .sign(json!({ "alg": "ES256", "claims": { "sub": "auth0|x" } }))
        .await;
    let odd_key = key_of(presign(&app, &odd).await).await;
    assert!(odd_key.starts_with("users/auth0_7cx/"), "{odd_key}");
    let accepted = "presigned_post_token_verifications_total{issuer=\"test\",result=\"accepted\"}";
    assert_eq!(app.metric(accepted).await, Some(3.0));
    let ready = providers_ready(&app).await;
    assert_eq!(ready[0]["name"], "test", "{ready}");
    assert_eq!(ready[0]["issuer"], provider.issuer.as_str(), "{ready}");
    assert!(ready[0]["keys"].as_u64() >= Some(2), "{ready}");
    assert!(ready[0]["error"].is_null(), "{ready}");
    let keys = app
        .metric("presigned_post_jwks_keys{issuer=\"test\"}")
        .await;
    assert!(keys >= Some(2.0), "{keys:?}");
    let age = "presigned_post_jwks_age_seconds{issuer=\"test\"}";
    assert!(app.metric(age).await.is_some());

    // Alice's token reaches nothing under Bob's folder: download, part URL, completion.
    let http = &app.http;
    let base = &app.address;
    let attempts = [
        http.get(format!("{base}/api/downloads"))
            .query(&[("key", bob_key.as_str())]),
        http.get(format!("{base}/s3/multipart/id-1/1"))
            .query(&[("key", bob_key.as_str())]),
        http.post(format!("{base}/s3/multipart/id-1/complete"))
            .query(&[("key", bob_key.as_str())])
            .json(&json!({"parts": [{"PartNumber": 1, "ETag": "\"e\""}]})),
    ];
    for attempt in attempts {
        let request = attempt.bearer_auth(&alice).build().unwrap();
        let described = format!("{} {}", request.method(), request.url());
        let (status, code, _, body) = refusal(http.execute(request).await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (403, "not-your-key"),
            "{described}: {body}"
        );
    }
}

#[tokio::test]
async fn forged_and_refused_tokens_never_get_a_policy() {
    let provider = OidcProvider::start("oidc-api-forged");
    let app = spawn_offline_app_with(options(&provider.issuer, false)).await;
    let now = epoch_seconds();
    let cases = [
        (
            json!({ "claims": { "exp": now - 3600 } }),
            401,
            "token-expired",
        ),
        (
            json!({ "claims": { "nbf": now + 3600 } }),
            401,
            "invalid-token",
        ),
        (
            json!({ "claims": { "iss": "http://127.0.0.1:1" } }),
            401,
            "invalid-token",
        ),
        (
            json!({ "claims": { "aud": "https://other.test" } }),
            401,
            "invalid-token",
        ),
        (json!({ "forge": "alg-none" }), 401, "invalid-token"),
        (json!({ "forge": "hs256-public-key" }), 401, "invalid-token"),
        (json!({ "forge": "tamper" }), 401, "invalid-token"),
        (json!({ "kid": null }), 401, "invalid-token"),
        (
            json!({ "forge": "unknown-kid", "alg": "ES256" }),
            401,
            "invalid-token",
        ),
        (
            json!({ "claims": { "sub": "../bob" } }),
            403,
            "user-claim-unusable",
        ),
        (
            json!({ "claims": { "sub": "x".repeat(129) } }),
            403,
            "user-claim-unusable",
        ),
    ];
    let mut wrong = Vec::new();
    for (request, status, code) in cases {
        let token = provider.sign(request.clone()).await;
        let (got_status, got_code, challenge, body) = refusal(presign(&app, &token).await).await;
        let challenge_ok = match status {
            401 => challenge.contains("error=\"invalid_token\""),
            _ => true,
        };
        if (got_status, got_code.as_str()) != (status, code)
            || !challenge_ok
            || body.get("fields").is_some()
            || body.get("policy").is_some()
            || body.get("key").is_some()
        {
            wrong.push(format!(
                "{request}: {got_status} {got_code} [{challenge}] {body}"
            ));
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
    // A bearer that is no JWT at all is a wrong token, as without identity providers.
    let (status, code, challenge, _) = refusal(presign(&app, "not-a-jwt").await).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    assert!(challenge.starts_with("Bearer"), "{challenge}");
}

#[tokio::test]
async fn a_provider_whose_keys_cannot_be_had_is_503_until_it_comes_up_and_static_tokens_still_work()
{
    let provider = OidcProvider::start("oidc-api-down");
    let (issuer, port) = (provider.issuer.clone(), provider.port);
    let token = provider.token("bob").await;
    drop(provider);
    let app = spawn_offline_app_with(options(&issuer, true)).await;

    let response = presign(&app, &token).await;
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, code, challenge, body) = refusal(response).await;
    assert_eq!(
        (status, code.as_str()),
        (503, "identity-provider-unavailable"),
        "{body}"
    );
    assert!(retry_after >= 1);
    let unavailable = "presigned_post_token_verifications_total\
        {issuer=\"test\",result=\"identity-provider-unavailable\"}";
    assert_eq!(app.metric(unavailable).await, Some(1.0));
    let ready = providers_ready(&app).await;
    assert_eq!(ready[0]["keys"], 0, "{ready}");
    let keys = app
        .metric("presigned_post_jwks_keys{issuer=\"test\"}")
        .await;
    assert_eq!(keys, Some(0.0));
    assert!(
        ready[0]["error"].is_string(),
        "the service is ready, and says why: {ready}"
    );
    assert!(challenge.is_empty(), "{challenge}");

    let static_key = key_of(presign(&app, ALICE).await).await;
    assert!(static_key.starts_with("users/alice/"), "{static_key}");

    // The provider comes up (where it was, with new keys): a client that waits as Retry-After
    // says gets its policy, and until then only 503s — never a 401 that would make it drop a
    // good token.
    let provider = OidcProvider::start_on("oidc-api-down-back", None, port);
    let token = provider.token("bob").await;
    let started = std::time::Instant::now();
    let mut answers = Vec::new();
    let key = loop {
        let response = presign(&app, &token).await;
        let status = response.status().as_u16();
        answers.push(status);
        if status != 503 {
            break key_of(response).await;
        }
        let wait: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            started.elapsed().as_secs() < 30,
            "still 503 after 30 s: {answers:?}"
        );
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    };
    assert!(key.starts_with("users/idp.bob/"), "{key} after {answers:?}");
    assert_eq!(providers_ready(&app).await[0]["keys"], 2);
}

#[tokio::test]
async fn static_tokens_and_the_providers_users_live_side_by_side() {
    let provider = OidcProvider::start("oidc-api-beside");
    let app = spawn_offline_app_with(options(&provider.issuer, true)).await;
    let static_key = key_of(presign(&app, ALICE).await).await;
    assert!(static_key.starts_with("users/alice/"), "{static_key}");
    let provider_key = key_of(presign(&app, &provider.token("alice").await).await).await;
    assert!(
        provider_key.starts_with("users/idp.alice/"),
        "{provider_key}"
    );
    let (status, code, _, _) = refusal(presign(&app, "wrong-static-token").await).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
}

#[tokio::test]
async fn forged_tokens_spend_the_addresss_failed_authentications_and_users_count_apart() {
    let provider = OidcProvider::start("oidc-api-budgets");
    let mut options = options(&provider.issuer, false);
    options.top_level = "rate_limit_per_minute = 3\n".into();
    let app = spawn_offline_app_with(options).await;
    let alice = provider.token("alice").await;
    let forged = provider.sign(json!({ "forge": "tamper" })).await;

    for _ in 0..2 {
        let response = presign(&app, &alice).await;
        assert_eq!(
            response.status(),
            200,
            "a user's requests are the user's, not the address's"
        );
    }
    for _ in 0..3 {
        let (status, code, _, _) = refusal(presign(&app, &forged).await).await;
        assert_eq!((status, code.as_str()), (401, "invalid-token"));
    }
    let (status, code, _, _) = refusal(presign(&app, &forged).await).await;
    assert_eq!(
        (status, code.as_str()),
        (429, "rate-limited"),
        "forged tokens run into the failed-authentication budget like wrong static tokens"
    );
    assert_eq!(
        presign(&app, &alice).await.status(),
        429,
        "from an address over its limit, no token is checked"
    );
}

/// Expired tokens are signed by the provider: they cost the address a request each, not a
/// failed authentication, so users behind one address who renew late do not lock out the
/// others' valid tokens.
#[tokio::test]
async fn expired_tokens_do_not_spend_the_addresss_failed_authentications() {
    let provider = OidcProvider::start("oidc-api-expired-budget");
    let mut options = options(&provider.issuer, false);
    options.top_level = "rate_limit_per_minute = 3\n".into();
    let app = spawn_offline_app_with(options).await;
    let expired = provider
        .sign(json!({ "claims": { "exp": epoch_seconds() - 600 } }))
        .await;
    for _ in 0..3 {
        let (status, code, _, _) = refusal(presign(&app, &expired).await).await;
        assert_eq!((status, code.as_str()), (401, "token-expired"));
    }
    let response = presign(&app, &provider.token("bob").await).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    // Past the address's requests they are 429, and still lock no one else out.
    for _ in 0..10 {
        let (status, _, _, _) = refusal(presign(&app, &expired).await).await;
        assert_eq!(status, 429);
    }
    let response = presign(&app, &provider.token("carol").await).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

#[tokio::test]
async fn rotated_keys_are_fetched_once_and_cached_keys_outlive_the_provider() {
    let provider = OidcProvider::start("oidc-api-rotation");
    let app = spawn_offline_app_with(options(&provider.issuer, false)).await;
    let before = provider.token("alice").await;
    key_of(presign(&app, &before).await).await;
    let (_, fetched) = provider.state().await;

    // After keys_refresh_min, a token of a new key costs exactly one more fetch.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    provider.rotate(true).await;
    let after = provider.token("bob").await;
    let bob_key = key_of(presign(&app, &after).await).await;
    assert!(bob_key.starts_with("users/bob/"), "{bob_key}");
    assert_eq!(provider.state().await.1, fetched + 1);

    // Unknown kids right after: refused, and at most one more fetch between them.
    let unknown = provider
        .sign(json!({ "forge": "unknown-kid", "alg": "ES256" }))
        .await;
    for _ in 0..2 {
        let (status, code, _, _) = refusal(presign(&app, &unknown).await).await;
        assert_eq!((status, code.as_str()), (401, "invalid-token"));
    }
    assert!(provider.state().await.1 <= fetched + 2);

    // The provider gone, the keys it published still check its tokens.
    drop(provider);
    key_of(presign(&app, &before).await).await;
    key_of(presign(&app, &after).await).await;
}

#[tokio::test]
async fn a_token_without_a_required_scope_is_403() {
    let provider = OidcProvider::start("oidc-api-scope");
    let options = options_with(&provider.issuer, false, "required_scopes = [\"upload\"]\n");
    let app = spawn_offline_app_with(options).await;
    key_of(presign(&app, &provider.token("alice").await).await).await;
    let unscoped = provider.token_with_scope("alice", None).await;
    let (status, code, challenge, body) = refusal(presign(&app, &unscoped).await).await;
    assert_eq!(
        (status, code.as_str()),
        (403, "insufficient-scope"),
        "{body}"
    );
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
}

/// A single-page app on another origin uploads a 10 MiB file in parts with `presigned-post.js`
/// and `token` a function: it is asked for a token before every call (create, each part's URL,
/// complete), and the call answered `token-expired` (its first token is) is made again with the
/// next one. The file lands in the token's user's folder.
#[tokio::test]
async fn a_page_asks_its_token_function_before_every_call_and_once_more_after_token_expired() {
    let provider = OidcProvider::start("oidc-spa-token-function");
    let store = crate::servers::ministack();
    let bucket = store.new_bucket().await;
    let expired = provider
        .sign(json!({ "claims": { "exp": epoch_seconds() - 3600 } }))
        .await;
    let fresh = provider.token("alice").await;
    // Over 100 MiB, so the profile takes uploads in parts.
    let options = AppOptions {
        profiles: format!(
            "[profiles.big]\naccess = \"token\"\nkey_prefix = \"users/{{user}}/\"\n\
             max_size = \"200 MiB\"\n\
             [[auth.oidc]]\nname = \"test\"\nissuer = \"{}\"\naudience = [\"{AUDIENCE}\"]\n",
            provider.issuer
        ),
        ..AppOptions::default()
    };
    let script = format!(
        r#"const {{ uploadFile }} = await import(`${{app}}/static/presigned-post.js`);
window.tokenCalls = 0;
window.start = async () => {{
  const bytes = new Uint8Array(10 * 2 ** 20).map((_, i) => i % 251);
  const file = new File([bytes], 'big.bin', {{ type: 'application/octet-stream' }});
  try {{
    window.result = await uploadFile(file, {{
      profile: 'big', endpoint: app, multipartThreshold: 2 ** 20,
      token: async () => (window.tokenCalls++ === 0 ? {expired:?} : {fresh:?}),
    }});
  }} catch (error) {{
    window.result = {{ error: `${{error.code}}: ${{error.message}}` }};
  }}
}};
window.ready = true;
"#
    );
    let (page_origin, app, browser) = crate::browser::page_on_another_origin(
        store,
        &bucket,
        "oidc-spa-token-function",
        &script,
        options,
    )
    .await;
    store.allow_cors(&bucket, &page_origin).await;
    browser.run("window.start(); return null;").await;
    browser
        .wait_until("the upload", "window.result !== undefined")
        .await;
    let result = browser.run("return window.result;").await;
    let key = result["key"]
        .as_str()
        .unwrap_or_else(|| panic!("upload failed: {result}"));
    assert!(key.starts_with("users/alice/"), "{result}");
    assert_eq!(result["size"], json!(10 * 1024 * 1024), "{result}");
    // create twice (the expired token, then a fresh one), two parts of 8 MiB and 2 MiB, complete.
    let calls = browser.run("return window.tokenCalls;").await;
    assert_eq!(calls, json!(5), "{result}");
    assert_eq!(store.keys(&app.bucket).await, [key.to_owned()]);
}

/// The seconds since the epoch by this machine's clock.
fn epoch_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_token_used_again_comes_from_the_cache_until_it_expires_or_its_key_goes() {
    let provider = OidcProvider::start("oidc-api-cache");
    let app = spawn_offline_app_with(options_with(&provider.issuer, false, "leeway = 0\n")).await;
    let hits = "presigned_post_token_cache_hits_total{issuer=\"test\"}";
    let exp = epoch_seconds() + 4;
    let short = provider.sign(json!({ "claims": { "exp": exp } })).await;
    for _ in 0..2 {
        key_of(presign(&app, &short).await).await;
    }
    assert_eq!(
        app.metric(hits).await,
        Some(1.0),
        "checked once, then found"
    );

    // Past `exp` (no leeway here) it is refused, though it is remembered.
    let wait = (exp + 2).saturating_sub(epoch_seconds());
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    let (status, code, _, body) = refusal(presign(&app, &short).await).await;
    assert_eq!((status, code.as_str()), (401, "token-expired"), "{body}");
    assert_eq!(app.metric(hits).await, Some(1.0));

    // A key the provider no longer publishes stops vouching once the keys are fetched again.
    let alice = provider.token("alice").await;
    for _ in 0..2 {
        key_of(presign(&app, &alice).await).await;
    }
    assert_eq!(app.metric(hits).await, Some(2.0));
    provider.rotate(false).await;
    key_of(presign(&app, &provider.token("bob").await).await).await;
    let (status, code, _, body) = refusal(presign(&app, &alice).await).await;
    assert_eq!((status, code.as_str()), (401, "invalid-token"), "{body}");
    assert_eq!(app.metric(hits).await, Some(2.0));
}
