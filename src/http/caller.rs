//! Who is calling the API: a bearer token's user (if any) and the client the rate limit counts.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::HttpRequest;
use actix_web::http::header;

use super::problem::Problem;
use crate::access::{UserId, authenticate};
use crate::rate_limit::{Client, RateLimiter};
use crate::service::Uploader;

/// An identified, not rate-limited caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user of the presented token, if any.
    pub user: Option<UserId>,
}

/// Authenticates the bearer token, if one is presented (an unknown token is refused rather
/// than treated as none), then counts the request against the client's rate limit.
pub fn identify(
    request: &HttpRequest,
    uploader: &Uploader,
    limiter: &RateLimiter,
) -> Result<Caller, Problem> {
    let user = match request.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(|| {
                    Problem::unauthorized("send the token as `Authorization: Bearer TOKEN`")
                })?;
            let user = authenticate(&uploader.config().tokens, token)
                .ok_or_else(|| Problem::unauthorized("the bearer token is not valid"))?;
            Some(user.clone())
        }
    };
    let client = match &user {
        Some(user) => Client::User(user.as_str()),
        None => Client::Address(
            request
                .peer_addr()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip()),
        ),
    };
    limiter
        .check(client, std::time::SystemTime::now())
        .map_err(Problem::too_many_requests)?;
    Ok(Caller { user })
}
