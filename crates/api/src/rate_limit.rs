//! Request budgets, per fixed window:
//! - writes (uploads, jobs, one-shot calls, deletes) per caller: each guest, each account
//!   (all its sessions and keys together) and each API key; and per client address;
//! - new guests per client address (so dropping the cookie does not buy a fresh budget);
//! - failed sign-ins per account and per address, and registrations per address.
//!
//! Behind several API replicas the counts live in Redis, so every replica sees the same
//! budget; a single process counts in memory. Reads (status polls, downloads) and the web
//! app's assets are never limited. If Redis does not answer, requests pass: the limit protects
//! the service, it must not take it down. A budget of 0 is unlimited.

use crate::AppState;
use crate::auth::{Auth, ClientAddress};
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use scanpro_core::ErrorCode;
use scanpro_pipeline::accounts::Credential;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The budgets; 0 is unlimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budgets {
    /// Writes per guest, account and API key, per minute.
    pub writes_per_minute: u64,
    /// Writes per client address, per minute.
    pub address_writes_per_minute: u64,
    /// New guests per client address, per minute.
    pub new_guests_per_minute: u64,
    /// Failed sign-ins per account, and per address (×4), per 15 minutes.
    pub sign_in_failures: u64,
    /// Registrations per address, per hour.
    pub registrations_per_hour: u64,
}

const MINUTE: Duration = Duration::from_secs(60);
const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);
const HOUR: Duration = Duration::from_secs(3600);

pub struct RateLimit {
    budgets: Budgets,
    counter: Counter,
}

enum Counter {
    /// Window end (seconds since the epoch) and count, per counted key and window.
    Local(Mutex<HashMap<String, (u64, u64)>>),
    Redis {
        connection: redis::aio::ConnectionManager,
        prefix: String,
    },
}

impl RateLimit {
    /// Budgets counted in this process.
    pub fn local(budgets: Budgets) -> Self {
        Self { budgets, counter: Counter::Local(Mutex::default()) }
    }

    /// Budgets shared through Redis by every replica.
    pub async fn shared(url: &str, prefix: &str, budgets: Budgets) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let connection = client.get_connection_manager_with_config(config).await?;
        Ok(Self { budgets, counter: Counter::Redis { connection, prefix: prefix.to_owned() } })
    }

    /// Counts one new guest from `address`; past the budget, the `429` to answer instead.
    pub async fn admit_new_guest(&self, address: &str) -> Result<(), Response> {
        let limit = self.budgets.new_guests_per_minute;
        self.spend(&format!("guests:{}", bucket(address)), limit, MINUTE).await.map_err(|wait| {
            refusal(
                format!(
                    "more than {limit} new guests from this address in a minute; keep the scanpro_guest cookie \
                     (curl: -c jar -b jar) or retry in {wait} s"
                ),
                wait,
            )
        })
    }

    /// Counts a sign-in attempt for `email` from `address` before the password is checked, so
    /// concurrent guesses cannot all pass; past the budget, the `429`. A sign-in that succeeds
    /// gives its attempt back ([`RateLimit::sign_in_succeeded`]): only failures add up.
    pub async fn sign_in_attempt(&self, email: &str, address: &str) -> Result<(), Response> {
        for (key, limit) in self.sign_in_keys(email, address) {
            if let Err(wait) = self.spend(&key, limit, SIGN_IN_WINDOW).await {
                return Err(refusal(format!("too many failed sign-ins; retry in {wait} s"), wait));
            }
        }
        Ok(())
    }

    pub async fn sign_in_succeeded(&self, email: &str, address: &str) {
        for (key, limit) in self.sign_in_keys(email, address) {
            if limit > 0 {
                self.count(&key, SIGN_IN_WINDOW, -1).await;
            }
        }
    }

    fn sign_in_keys(&self, email: &str, address: &str) -> [(String, u64); 2] {
        let limit = self.budgets.sign_in_failures;
        [
            (format!("signin:{}", email.trim().to_lowercase()), limit),
            (format!("signin-from:{}", bucket(address)), limit * 4),
        ]
    }

    /// Counts a registration from `address`; past the budget, the `429`.
    pub async fn admit_registration(&self, address: &str) -> Result<(), Response> {
        let limit = self.budgets.registrations_per_hour;
        self.spend(&format!("register:{}", bucket(address)), limit, HOUR).await.map_err(|wait| {
            refusal(format!("more than {limit} registrations from this address in an hour; retry in {wait} s"), wait)
        })
    }

    /// Counts one request under `key`; `Err(seconds to wait)` past `limit` (0: unlimited).
    async fn spend(&self, key: &str, limit: u64, window: Duration) -> Result<(), u64> {
        if limit == 0 {
            return Ok(());
        }
        match self.count(key, window, 1).await {
            Some((count, wait)) if count > limit => Err(wait),
            _ => Ok(()),
        }
    }

    /// Adds `by` to `key`'s count in the current window: the count and the seconds left.
    async fn count(&self, key: &str, window: Duration, by: i64) -> Option<(u64, u64)> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let window = window.as_secs().max(1);
        let end = now - now % window + window;
        let count = match &self.counter {
            Counter::Local(counts) => {
                let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
                counts.retain(|_, (ends, _)| *ends > now);
                let entry = counts.entry(format!("{key}:{window}")).or_insert((end, 0));
                entry.1 = entry.1.saturating_add_signed(by);
                entry.1
            }
            Counter::Redis { connection, prefix } => {
                let key = format!("{prefix}:rate:{key}:{window}:{end}");
                let counted: redis::RedisResult<(i64, ())> = redis::pipe()
                    .atomic()
                    .incr(&key, by)
                    .expire(&key, (window * 2) as i64)
                    .query_async(&mut connection.clone())
                    .await;
                match counted {
                    Ok((count, ())) => count.max(0) as u64,
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limit not counted: Redis did not answer");
                        return None;
                    }
                }
            }
        };
        Some((count, end - now))
    }
}

/// The middleware: refuses a write past any of its caller's budgets with `429 rate_limited`.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (Some(limit), true) = (&state.rate_limit, crate::auth::client::is_write(request.method())) else {
        return next.run(request).await;
    };
    let mut keys = Vec::new();
    if let Some(Auth(caller)) = request.extensions().get::<Auth>() {
        keys.push((caller.owner.to_string(), limit.budgets.writes_per_minute));
        if let Credential::ApiKey { id, .. } = &caller.credential {
            keys.push((format!("key:{id}"), limit.budgets.writes_per_minute));
        }
    }
    if let Some(ClientAddress(address)) = request.extensions().get::<ClientAddress>() {
        keys.push((format!("address:{}", bucket(address)), limit.budgets.address_writes_per_minute));
    }
    for (key, budget) in keys {
        if let Err(wait) = limit.spend(&format!("writes:{key}"), budget, MINUTE).await {
            return refusal(format!("more than {budget} writes a minute; retry in {wait} s"), wait);
        }
    }
    next.run(request).await
}

/// `429 rate_limited` with `Retry-After`.
fn refusal(message: String, wait: u64) -> Response {
    let mut response = ApiError::new(ErrorCode::RateLimited, message).into_response();
    if let Ok(value) = HeaderValue::from_str(&wait.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// What an address counts as: itself, or its /64 for IPv6 (one subscriber's usual share, which
/// it could otherwise rotate through).
fn bucket(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let segments = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", segments[0], segments[1], segments[2], segments[3])
        }
        _ => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ipv6_addresses_count_by_their_64() {
        assert_eq!(super::bucket("2001:db8:1:2:aaaa::1"), super::bucket("2001:db8:1:2:bbbb::9"));
        assert_ne!(super::bucket("2001:db8:1:2::1"), super::bucket("2001:db8:1:3::1"));
        assert_eq!(super::bucket("203.0.113.7"), "203.0.113.7");
    }
}
