//! Request budgets: at most `writes` writes (uploads, jobs, one-shot calls, deletes) per guest and
//! window, and at most `new_guests` new guests per client address and window (so dropping the
//! cookie does not buy a fresh budget). Behind several API replicas the counts live in Redis, so
//! every replica sees the same budget; a single process counts in memory. Reads (status polls,
//! downloads) and the web app's assets are never limited. If Redis does not answer, requests
//! pass: the limit protects the service, it must not take it down. A budget of 0 is unlimited.

use crate::AppState;
use crate::error::ApiError;
use crate::owner::Owner;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use scanpro_core::ErrorCode;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub struct RateLimit {
    writes: u64,
    new_guests: u64,
    window: Duration,
    counter: Counter,
}

enum Counter {
    /// Window start (seconds since the epoch) and count, per counted key.
    Local(Mutex<HashMap<String, (u64, u64)>>),
    Redis {
        connection: redis::aio::ConnectionManager,
        prefix: String,
    },
}

impl RateLimit {
    /// A budget counted in this process.
    pub fn local(writes: u64, new_guests: u64, window: Duration) -> Self {
        Self { writes, new_guests, window, counter: Counter::Local(Mutex::default()) }
    }

    /// A budget shared through Redis by every replica.
    pub async fn shared(
        url: &str,
        prefix: &str,
        writes: u64,
        new_guests: u64,
        window: Duration,
    ) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let connection = client.get_connection_manager_with_config(config).await?;
        Ok(Self { writes, new_guests, window, counter: Counter::Redis { connection, prefix: prefix.to_owned() } })
    }

    /// Counts one new guest from `address`; past the budget, the `429` to answer instead.
    pub async fn admit_new_guest(&self, address: &str) -> Result<(), Response> {
        if self.new_guests == 0 {
            return Ok(());
        }
        match self.spend(&format!("address:{address}"), self.new_guests).await {
            None => Ok(()),
            Some(wait) => Err(refusal(
                format!(
                    "more than {} new guests from this address in {} s; keep the scanpro_guest cookie \
                     (curl: -c jar -b jar) or retry in {wait} s",
                    self.new_guests,
                    self.window.as_secs()
                ),
                wait,
            )),
        }
    }

    /// Counts one request under `key`; `Some(seconds)` to wait when `limit` is spent.
    async fn spend(&self, key: &str, limit: u64) -> Option<u64> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let window = self.window.as_secs().max(1);
        let start = now - now % window;
        let count = match &self.counter {
            Counter::Local(counts) => {
                let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
                counts.retain(|_, (started, _)| *started == start);
                let entry = counts.entry(key.to_owned()).or_insert((start, 0));
                entry.1 += 1;
                entry.1
            }
            Counter::Redis { connection, prefix } => {
                let key = format!("{prefix}:rate:{key}:{start}");
                let counted: redis::RedisResult<(u64, ())> = redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .expire(&key, (window * 2) as i64)
                    .query_async(&mut connection.clone())
                    .await;
                match counted {
                    Ok((count, ())) => count,
                    Err(e) => {
                        tracing::warn!(error = %e, "rate limit not counted: Redis did not answer");
                        return None;
                    }
                }
            }
        };
        (count > limit).then(|| start + window - now)
    }
}

/// The middleware: refuses a guest's write past its budget with `429 rate_limited`.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let write = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let (Some(limit), true) = (state.rate_limit.as_ref().filter(|limit| limit.writes > 0), write) else {
        return next.run(request).await;
    };
    let guest = request.extensions().get::<Owner>().map(|owner| owner.0.to_string()).unwrap_or_default();
    let Some(wait) = limit.spend(&guest, limit.writes).await else {
        return next.run(request).await;
    };
    refusal(format!("more than {} requests in {} s; retry in {wait} s", limit.writes, limit.window.as_secs()), wait)
}

/// `429 rate_limited` with `Retry-After`.
fn refusal(message: String, wait: u64) -> Response {
    let mut response = ApiError::new(ErrorCode::RateLimited, message).into_response();
    if let Ok(value) = HeaderValue::from_str(&wait.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
