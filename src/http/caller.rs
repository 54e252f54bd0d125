//! Who is calling: a bearer token's user (if any), and the client address the rate limit
//! counts everyone else — and every failed authentication — against.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderMap, HeaderName};

use super::operations::Operations;
use super::problem::Problem;
use super::rate_limit_headers::Counted;
use crate::app::client_address::TrustedProxies;
use crate::app::rate_limit::{Budget, Budgets, Client};
use crate::upload::access::{Caller, Token, UserId, authenticate};

/// Authenticates the bearer token, if one is presented (an unknown token is refused rather
/// than treated as none), then counts the request against the client's rate limit: the
/// token's user, else the client's address. A token that fails counts against the address's
/// failed authentications, and an address over that budget has no token checked at all, so
/// guessing runs into `429`. The budgets counted in are kept with the request for the
/// `RateLimit-*` headers of the answer.
pub fn identify(request: &HttpRequest, operations: &Operations) -> Result<Caller, Problem> {
    identify_in(request, operations, Budget::Requests)
}

/// As [`identify`], but counted against the part-signing budget (a multiple of the request
/// budget: one large file signs hundreds of parts) instead of the request budget; a failed
/// token still spends the address's requests and failed authentications.
pub fn identify_signing_part(
    request: &HttpRequest,
    operations: &Operations,
) -> Result<Caller, Problem> {
    identify_in(request, operations, Budget::PartSigning)
}

fn identify_in(
    request: &HttpRequest,
    operations: &Operations,
    budget: Budget,
) -> Result<Caller, Problem> {
    let budgets = &operations.budgets;
    let now = budgets.time(|| operations.now());
    let settings = &operations.settings;
    let address = Client::Address(client_address(request, &settings.trusted_proxies));
    let mut counted = Counted::default();
    let user = match bearer_token(request.headers()) {
        None => Ok(None),
        Some(presented) => authenticated(
            presented,
            &settings.tokens,
            address,
            budgets,
            now,
            &mut counted,
        )
        .map(Some),
    };
    let caller = user.and_then(|user| {
        let client = user.map_or(address, |user| Client::TokenUser(user.as_str()));
        counted.spend(budgets, budget, client, now)?;
        Ok(user.cloned().map_or(Caller::Anonymous, Caller::User))
    });
    counted.keep(request);
    caller
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
pub fn authenticated<'a>(
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
        // A failed attempt is also a request of the address.
        let failed = counted.spend(budgets, Budget::FailedAuthentications, address, now);
        let request = counted.spend(budgets, Budget::Requests, address, now);
        failed.and(request)?;
    }
    user
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
