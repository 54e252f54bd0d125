//! Who is calling: a bearer token's user (if any), and the client address the rate limit
//! counts everyone else — and every failed authentication — against.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap, HeaderName};

use super::operations::Operations;
use super::problem::{Problem, ProblemCode};
use super::rate_limit_headers::Counted;
use crate::app::client_address::TrustedProxies;
use crate::app::identity_provider::providers::{IdentityProviders, Refused};
use crate::app::rate_limit::{Budget, Budgets, Client};
use crate::upload::access::{Caller, Token, UserId, authenticate};
use crate::upload::identity::jwt::TokenError;

/// Authenticates the bearer token, if one is presented (an unknown token is refused rather
/// than treated as none), then counts the request against the client's rate limit: the
/// token's user, else the client's address. A bearer that is no static token is checked as an
/// identity provider's token (a JWT) when issuers are configured. A token that fails counts
/// against the address's failed authentications, and an address over that budget has no
/// token checked at all, so guessing runs into `429`. The budgets counted in are kept with the
/// request for the `RateLimit-*` headers of the answer.
pub async fn identify(request: &HttpRequest, operations: &Operations) -> Result<Caller, Problem> {
    identify_in(request, operations, Budget::Requests).await
}

/// As [`identify`], but counted against the part-signing budget (a multiple of the request
/// budget: one large file signs hundreds of parts) instead of the request budget; a failed
/// token still spends the address's requests and failed authentications.
pub async fn identify_signing_part(
    request: &HttpRequest,
    operations: &Operations,
) -> Result<Caller, Problem> {
    identify_in(request, operations, Budget::PartSigning).await
}

/// Whose a request is: a static token's user (one of a bounded set) or an identity
/// provider's user (counted in a table of their own).
enum Who<'a> {
    Token(&'a UserId),
    Provider(UserId),
}

async fn identify_in(
    request: &HttpRequest,
    operations: &Operations,
    budget: Budget,
) -> Result<Caller, Problem> {
    let budgets = &operations.budgets;
    let now = budgets.time(|| operations.now());
    let settings = &operations.settings;
    let address = Client::Address(client_address(request, &settings.trusted_proxies));
    let mut counted = Counted::default();
    let who = match bearer_token(request.headers()) {
        None => Ok(None),
        Some(presented) => who(presented, operations, address, now, &mut counted)
            .await
            .map(Some),
    };
    let caller = match who {
        Ok(who) => counted_as(who, address, budget, operations, now, &mut counted).await,
        Err(problem) => Err(problem),
    };
    counted.keep(request);
    caller
}

/// Counts a request of `who` (else of `address`) against `budget`: the caller, or `429`.
async fn counted_as(
    who: Option<Who<'_>>,
    address: Client<'_>,
    budget: Budget,
    operations: &Operations,
    now: SystemTime,
    counted: &mut Counted,
) -> Result<Caller, Problem> {
    let client = match &who {
        None => address,
        Some(Who::Token(user)) => Client::TokenUser(user.as_str()),
        Some(Who::Provider(user)) => Client::ProviderUser(user.as_str()),
    };
    counted
        .spend(&operations.budgets, budget, client, now)
        .await?;
    Ok(match who {
        None => Caller::Anonymous,
        Some(Who::Token(user)) => Caller::User(user.clone()),
        Some(Who::Provider(user)) => Caller::User(user),
    })
}

/// The user of `presented`: a static token's, else, when issuers are configured, the one an
/// identity provider's token names. Checked only while `address` has failed authentications
/// to spare; a refusal spends one (for a token that is not valid) and one of the address's
/// requests (always), noted in `counted`.
async fn who<'a>(
    presented: Result<&str, ()>,
    operations: &'a Operations,
    address: Client<'_>,
    now: SystemTime,
    counted: &mut Counted,
) -> Result<Who<'a>, Problem> {
    let budgets = &operations.budgets;
    let providers = &operations.identity_providers;
    if providers.is_empty() || presented.is_err() {
        return authenticated(
            presented,
            &operations.settings.tokens,
            address,
            budgets,
            now,
            counted,
        )
        .await
        .map(Who::Token);
    }
    counted.peek(budgets, Budget::FailedAuthentications, address, now)?;
    let token = presented.unwrap_or_default();
    if let Some(user) = authenticate(&operations.settings.tokens, token) {
        return Ok(Who::Token(user));
    }
    let refusal = match providers.verify(token, operations.now()).await {
        Ok(verified) => {
            let issuer = providers.issuers().get(verified.issuer);
            let name = issuer.map_or("none", |i| i.config().name.as_str());
            operations.metrics.token_verified(name, "accepted");
            return Ok(Who::Provider(verified.user));
        }
        Err(refused) => token_problem(refused, providers),
    };
    // A bearer that is no JWT (a mistyped static token) was not a provider's token to check.
    if refusal.problem.code() != ProblemCode::Unauthorized {
        let issuer = refusal.issuer.as_deref().unwrap_or("none");
        operations
            .metrics
            .token_verified(issuer, refusal.problem.code().code());
    }
    if refusal.failed_authentication {
        failed_attempt(budgets, address, now, counted).await?;
    } else {
        // Not a guess: a request of the address only. Past its requests such tokens are still
        // checked (then 429): spending its failed authentications instead would lock every
        // user behind that address out of their valid tokens.
        (counted.spend(budgets, Budget::Requests, address, now)).await?;
    }
    Err(refusal.problem)
}

/// A refused identity provider's token as a problem, and whether it was a failed
/// authentication (the token is not valid) or not (its user is unusable, or the keys cannot
/// be had now).
struct TokenRefusal {
    problem: Problem,
    failed_authentication: bool,
    /// The issuer's name, when the refusal names one.
    issuer: Option<String>,
}

fn token_problem(refused: Refused, providers: &IdentityProviders) -> TokenRefusal {
    let (problem, failed_authentication, issuer) = match refused {
        Refused::Unavailable { name, retry_after } => {
            let seconds = retry_after.as_secs().max(1);
            // The issuer warns once when its fetches start failing; each token is a detail.
            tracing::debug!(issuer = %name, retry_after_s = seconds,
                "a token was not checked: the identity provider's keys cannot be had");
            let problem = Problem::new(
                ProblemCode::IdentityProviderUnavailable,
                format!(
                    "the identity provider `{name}`'s keys cannot be had now; \
                     try again in {seconds} s"
                ),
            )
            .with_retry_after(seconds);
            (problem, false, Some(name))
        }
        Refused::Token(TokenError::NotAJwt) => (
            Problem::unauthorized("the bearer token is not valid"),
            true,
            None,
        ),
        Refused::Token(error) => {
            let code = match &error {
                TokenError::Expired { .. } => ProblemCode::TokenExpired,
                TokenError::InsufficientScope(_) => ProblemCode::InsufficientScope,
                TokenError::UserClaim(_) => ProblemCode::UserClaimUnusable,
                _ => ProblemCode::InvalidToken,
            };
            let issuer = match &error {
                TokenError::UnknownKey { issuer, .. } | TokenError::NoKeys { issuer } => providers
                    .issuers()
                    .get(*issuer)
                    .map(|i| i.config().name.clone()),
                _ => None,
            };
            tracing::info!(code = code.code(), issuer = ?issuer, "a token was refused: {error}");
            // An expired token is signed by its issuer, and a key the cached ones lack may be one
            // the issuer just rotated in (no key: nothing was checked): no guess either way, so
            // they cost the address only a request — users behind one address renewing late or
            // during a rotation must not lock each other out.
            let unknown_key = matches!(error, TokenError::UnknownKey { .. });
            let failed = code == ProblemCode::InvalidToken && !unknown_key;
            (Problem::new(code, error.to_string()), failed, issuer)
        }
    };
    TokenRefusal {
        problem,
        failed_authentication,
        issuer,
    }
}

/// What an `Authorization` header presents: `Some(Ok(token))` for `Bearer TOKEN`,
/// `Some(Err(()))` for anything else, `None` without the header.
pub fn bearer_token(headers: &HeaderMap) -> Option<Result<&str, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(()),
    )
}

/// The user of `presented` among `tokens`, checked only while `address` has failed
/// authentications to spare; a failure spends one, and one of the address's requests (both
/// noted in `counted`).
pub async fn authenticated<'a>(
    presented: Result<&str, ()>,
    tokens: &'a [Token],
    address: Client<'_>,
    budgets: &Budgets,
    now: SystemTime,
    counted: &mut Counted,
) -> Result<&'a UserId, Problem> {
    counted.peek(budgets, Budget::FailedAuthentications, address, now)?;
    let user = match presented {
        Ok(token) => authenticate(tokens, token)
            .ok_or_else(|| Problem::unauthorized("the bearer token is not valid")),
        Err(()) => Err(Problem::unauthorized(
            "send the token as `Authorization: Bearer TOKEN`",
        )),
    };
    if user.is_err() {
        failed_attempt(budgets, address, now, counted).await?;
    }
    user
}

/// Counts a failed authentication from `address`, which is also one of its requests.
async fn failed_attempt(
    budgets: &Budgets,
    address: Client<'_>,
    now: SystemTime,
    counted: &mut Counted,
) -> Result<(), Problem> {
    let failed = (counted.spend(budgets, Budget::FailedAuthentications, address, now)).await;
    let request = (counted.spend(budgets, Budget::Requests, address, now)).await;
    failed.and(request)
}

/// The client address of a request: its TCP peer, or the client a trusted proxy forwarded.
pub fn client_address(request: &HttpRequest, trusted: &TrustedProxies) -> IpAddr {
    let peer = request
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let lines = |name: HeaderName| -> Vec<Cow<'_, str>> {
        request
            .headers()
            .get_all(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .collect()
    };
    let forwarded_for = lines(header::X_FORWARDED_FOR);
    let forwarded = lines(header::FORWARDED);
    trusted.client(peer, &as_strs(&forwarded_for), &as_strs(&forwarded))
}

fn as_strs<'a>(lines: &'a [Cow<'_, str>]) -> Vec<&'a str> {
    lines.iter().map(AsRef::as_ref).collect()
}
