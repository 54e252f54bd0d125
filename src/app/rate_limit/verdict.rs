//! What a rate limiter answers for one request: admitted or not, and what is left of the
//! budget in this window — enough for `RateLimit-Policy` and `RateLimit` headers.

/// The length of every window, in seconds: budgets are per minute.
pub const WINDOW_S: u64 = 60;

/// A budget's answer to one request (counted or peeked) from one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the request is within the budget.
    pub allowed: bool,
    /// Requests per window the budget allows the client (0: no limit, nothing counted).
    pub limit: u32,
    /// Requests the client has left in this window (0 when refused).
    pub remaining: u32,
    /// Seconds until the window ends and the budget is whole again (1-60; 0 without a limit).
    pub reset_s: u64,
}

impl Verdict {
    /// The answer of a budget without a limit: allowed, and nothing to tell the client.
    pub const UNLIMITED: Verdict = Verdict {
        allowed: true,
        limit: 0,
        remaining: 0,
        reset_s: 0,
    };

    /// Whether a limit applies (so there is something to tell the client).
    pub fn is_limited(&self) -> bool {
        self.limit > 0
    }

    /// `Ok(self)` if the request is allowed, else `Err(seconds)` until it may be retried.
    pub fn admitted(self) -> Result<Self, u64> {
        if self.allowed {
            Ok(self)
        } else {
            Err(self.reset_s)
        }
    }
}
