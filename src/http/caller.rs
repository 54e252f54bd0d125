//! Who is calling: a bearer token's user (if any), and the client address the rate limit
//! counts everyone else — and every failed authentication — against.

use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderName, HeaderValue};

use super::problem::Problem;
use crate::access::{UserId, authenticate};
use crate::client_address::TrustedProxies;
use crate::rate_limit::{Client, RateLimiter};
use crate::service::Uploader;

/// An identified, not rate-limited caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user of the presented token, if any.
    pub user: Option<UserId>,
}

/// Authenticates the bearer token, if one is presented (an unknown token is refused rather
/// than treated as none), then counts the request against the client's rate limit: the
/// token's user, else the client's address. A token that fails counts against the address,
/// and an address over its limit has no token checked at all, so guessing runs into `429`.
pub fn identify(
    request: &HttpRequest,
    uploader: &Uploader,
    limiter: &RateLimiter,
) -> Result<Caller, Problem> {
    let now = SystemTime::now();
    let address = Client::Address(client_address(request, &uploader.config().trusted_proxies));
    let user = match request.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            limiter
                .peek(address, now)
                .map_err(Problem::too_many_requests)?;
            match bearer_user(value, uploader) {
                Ok(user) => Some(user),
                Err(refusal) => {
                    limiter
                        .check(address, now)
                        .map_err(Problem::too_many_requests)?;
                    return Err(refusal);
                }
            }
        }
    };
    let client = user.map_or(address, |user| Client::User(user.as_str()));
    limiter
        .check(client, now)
        .map_err(Problem::too_many_requests)?;
    Ok(Caller {
        user: user.cloned(),
    })
}

/// The user whose token `authorization` presents, or why not.
fn bearer_user<'a>(
    authorization: &HeaderValue,
    uploader: &'a Uploader,
) -> Result<&'a UserId, Problem> {
    let token = authorization
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| Problem::unauthorized("send the token as `Authorization: Bearer TOKEN`"))?;
    authenticate(&uploader.config().tokens, token)
        .ok_or_else(|| Problem::unauthorized("the bearer token is not valid"))
}

/// The client address of a request: its TCP peer, or the client a trusted proxy forwarded.
pub fn client_address(request: &HttpRequest, trusted: &TrustedProxies) -> IpAddr {
    let peer = request
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let lines = |name: HeaderName| -> Vec<&str> {
        request
            .headers()
            .get_all(name)
            .map(|v| v.to_str().unwrap_or_default())
            .collect()
    };
    trusted.client(
        peer,
        &lines(header::X_FORWARDED_FOR),
        &lines(header::FORWARDED),
    )
}
