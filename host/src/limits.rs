//! Rate limits on the calls that test a credential: activation per client address, sign-in
//! per client address and per terminal key; and on the one call that makes a terminal without
//! a credential, a checkout lane (R23), per client address at the activation limit. Over a limit the host answers `429` with code
//! `BUSY` and `Retry-After`, which a terminal takes as no answer (docs/host-limits.md).

use crate::conn::ClientAddr;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use softpos::ErrorCode;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Requests per minute a client may make, each also the burst it may make at once; `0`
/// turns that limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Activations per client address.
    pub activate_per_address: u32,
    /// Sign-ins per client address.
    pub sign_in_per_address: u32,
    /// Sign-ins per terminal key.
    pub sign_in_per_key: u32,
}

/// The defaults. A shop signs in a few times a day per counter and activates a terminal
/// once; these leave room for a shop of dozens of counters behind one address and slow a
/// guesser down to a trickle (R16's lockout stops wrong passwords besides).
pub const DEFAULT_LIMITS: RateLimits = RateLimits {
    activate_per_address: 10,
    sign_in_per_address: 60,
    sign_in_per_key: 10,
};

impl Default for RateLimits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

type Keyed<K> = Option<Arc<DefaultKeyedRateLimiter<K>>>;

fn keyed<K: Hash + Eq + Clone>(per_minute: u32) -> Keyed<K> {
    NonZeroU32::new(per_minute).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))))
}

/// The limiters, shared by every connection.
#[derive(Clone)]
pub struct Limiter {
    activate_per_address: Keyed<IpAddr>,
    /// Lanes made, per client address: its own allowance at the activation limit, since
    /// each lane is followed by its activation.
    lanes_per_address: Keyed<IpAddr>,
    sign_in_per_address: Keyed<IpAddr>,
    /// Keyed by the SHA-256 of the bearer credential, so no key is kept in memory.
    sign_in_per_key: Keyed<String>,
}

impl Limiter {
    /// Limiters for these limits.
    pub fn new(limits: RateLimits) -> Self {
        Limiter {
            activate_per_address: keyed(limits.activate_per_address),
            lanes_per_address: keyed(limits.activate_per_address),
            sign_in_per_address: keyed(limits.sign_in_per_address),
            sign_in_per_key: keyed(limits.sign_in_per_key),
        }
    }

    /// Forgets clients whose allowance is full again, so the tables hold only recent ones.
    pub fn forget_idle(&self) {
        fn trim<K: Hash + Eq + Clone>(l: &Keyed<K>) {
            if let Some(l) = l {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
        trim(&self.activate_per_address);
        trim(&self.lanes_per_address);
        trim(&self.sign_in_per_address);
        trim(&self.sign_in_per_key);
    }
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::new(RateLimits::default())
    }
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").finish_non_exhaustive()
    }
}

/// `429 BUSY` with the seconds until the next request may pass.
fn too_many(wait: std::time::Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    ApiError {
        status: 429,
        code: ErrorCode::Busy,
        message: format!("Too many attempts from here; retry in {seconds} s"),
        retry_after: Some(seconds),
    }
    .into_response()
}

/// Checks one limiter: `Some(answer)` when the key is over its limit.
fn over<K: Hash + Eq + Clone>(limiter: &Keyed<K>, key: Option<&K>) -> Option<Response> {
    let (Some(limiter), Some(key)) = (limiter, key) else {
        return None;
    };
    limiter
        .check_key(key)
        .err()
        .map(|not_until| too_many(not_until.wait_time_from(DefaultClock::default().now())))
}

fn client_ip(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<ClientAddr>>()
        .map(|ConnectInfo(ClientAddr(addr))| addr.ip())
}

/// Middleware of `POST /v1/activate`.
pub async fn activate(State(l): State<Limiter>, req: Request, next: Next) -> Response {
    if let Some(res) = over(&l.activate_per_address, client_ip(&req).as_ref()) {
        return res;
    }
    next.run(req).await
}

/// Middleware of `POST /v1/checkout/lanes`.
pub async fn lanes(State(l): State<Limiter>, req: Request, next: Next) -> Response {
    if let Some(res) = over(&l.lanes_per_address, client_ip(&req).as_ref()) {
        return res;
    }
    next.run(req).await
}

/// Middleware of `POST /v1/sign-in` and `POST /v1/checkout/sign-in`: the address first, so a flood of made-up keys from one
/// address stops there and never fills the table of keys.
pub async fn sign_in(State(l): State<Limiter>, req: Request, next: Next) -> Response {
    if let Some(res) = over(&l.sign_in_per_address, client_ip(&req).as_ref()) {
        return res;
    }
    let key = req
        .headers()
        .get(AUTHORIZATION)
        .map(|v| crate::secrets::sha256_hex(v.as_bytes()));
    if let Some(res) = over(&l.sign_in_per_key, key.as_ref()) {
        return res;
    }
    next.run(req).await
}
