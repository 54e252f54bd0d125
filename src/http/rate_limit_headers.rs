//! `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-11) on the answers
//! of counted routes: for each budget a request was counted in, its quota and window, and what
//! is left of it and for how long — `"requests";q=120;w=60` and `"requests";r=17;t=43`. No
//! partition key is sent. Nothing is sent without a limit.

use std::time::SystemTime;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest};

use super::problem::Problem;
use crate::app::rate_limit::{Budget, Budgets, Client, Verdict, WINDOW_S};

/// `RateLimit-Policy`: each budget's quota and window.
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// `RateLimit`: what is left of each budget, and the seconds until its window ends.
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// The budgets a request was counted in (or refused by), in order, each with its last verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counted(Vec<(Budget, Verdict)>);

impl Counted {
    /// Counts a request from `client` against `budget`; `429` if it has none left.
    pub async fn spend(
        &mut self,
        budgets: &Budgets,
        budget: Budget,
        client: Client<'_>,
        now: SystemTime,
    ) -> Result<(), Problem> {
        let verdict = budgets.spend(budget, client, now).await;
        self.note(budget, verdict)
    }

    /// `429` if `client` has no `budget` left, counting nothing. Only a refusal is noted: a
    /// request that then spends nothing of `budget` was not counted in it.
    pub fn peek(
        &mut self,
        budgets: &Budgets,
        budget: Budget,
        client: Client<'_>,
        now: SystemTime,
    ) -> Result<(), Problem> {
        let verdict = budgets.peek(budget, client, now);
        match verdict.allowed {
            true => Ok(()),
            false => self.note(budget, verdict),
        }
    }

    /// Keeps `verdict` as `budget`'s (replacing an earlier one), and turns a refusal into `429`.
    fn note(&mut self, budget: Budget, verdict: Verdict) -> Result<(), Problem> {
        if verdict.is_limited() {
            match self.0.iter_mut().find(|(kept, _)| *kept == budget) {
                Some(kept) => kept.1 = verdict,
                None => self.0.push((budget, verdict)),
            }
        }
        verdict
            .admitted()
            .map(drop)
            .map_err(Problem::too_many_requests)
    }

    /// Leaves these counts with `request`, for [`send`] to put in its answer's headers.
    pub fn keep(self, request: &HttpRequest) {
        if !self.0.is_empty() {
            request.extensions_mut().insert(self);
        }
    }

    /// `RateLimit-Policy`'s value: `"requests";q=120;w=60`, one item per budget.
    fn policy(&self) -> String {
        self.items(|verdict| format!("q={};w={WINDOW_S}", verdict.limit))
    }

    /// `RateLimit`'s value: `"requests";r=17;t=43`, one item per budget.
    fn state(&self) -> String {
        self.items(|verdict| format!("r={};t={}", verdict.remaining, verdict.reset_s))
    }

    fn items(&self, parameters: impl Fn(&Verdict) -> String) -> String {
        let items: Vec<String> = (self.0.iter())
            .map(|(budget, verdict)| format!("\"{}\";{}", budget.name(), parameters(verdict)))
            .collect();
        items.join(", ")
    }
}

/// Puts the counts a handler (or the pages' limit) kept with the request into its answer —
/// success or refusal alike.
pub async fn send(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(request).await?;
    let counted = response.request().extensions_mut().remove::<Counted>();
    if let Some(counted) = counted {
        let headers = response.headers_mut();
        for (name, value) in [
            (RATELIMIT_POLICY, counted.policy()),
            (RATELIMIT, counted.state()),
        ] {
            let value = HeaderValue::try_from(value).expect("budget names and numbers are ASCII");
            headers.insert(name, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(limit: u32, remaining: u32, reset_s: u64) -> Verdict {
        Verdict {
            allowed: remaining > 0,
            limit,
            remaining,
            reset_s,
        }
    }

    #[test]
    fn one_budget_is_one_item() {
        let mut counted = Counted::default();
        assert!(counted.note(Budget::Requests, verdict(120, 17, 43)).is_ok());
        assert_eq!(counted.policy(), r#""requests";q=120;w=60"#);
        assert_eq!(counted.state(), r#""requests";r=17;t=43"#);
    }

    #[test]
    fn every_budget_counted_in_is_an_item_and_the_last_verdict_stands() {
        let mut counted = Counted::default();
        let _ = counted.note(Budget::FailedAuthentications, verdict(120, 3, 10));
        let _ = counted.note(Budget::Requests, verdict(120, 5, 10));
        let refused = Verdict {
            allowed: false,
            ..verdict(120, 0, 9)
        };
        let problem = counted.note(Budget::FailedAuthentications, refused);
        assert!(problem.is_err(), "a refusal is a 429");
        assert_eq!(
            counted.policy(),
            r#""auth-failures";q=120;w=60, "requests";q=120;w=60"#
        );
        assert_eq!(
            counted.state(),
            r#""auth-failures";r=0;t=9, "requests";r=5;t=10"#
        );
        let mut parts = Counted::default();
        let _ = parts.note(Budget::PartSigning, verdict(3000, 2999, 60));
        assert_eq!(parts.policy(), r#""part-urls";q=3000;w=60"#);
    }

    #[test]
    fn no_limit_is_no_item() {
        let mut counted = Counted::default();
        assert!(counted.note(Budget::Requests, Verdict::UNLIMITED).is_ok());
        assert_eq!(counted, Counted::default());
    }
}
