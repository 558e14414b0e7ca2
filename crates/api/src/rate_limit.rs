//! Request budgets per guest: at most `limit` writes (uploads, jobs, one-shot calls, deletes) per
//! window. Behind several API replicas the count lives in Redis, so every replica sees the same
//! budget; a single process counts in memory. Reads (status polls, downloads) and the web app's
//! assets are never limited. If Redis does not answer, requests pass: the limit protects the
//! service, it must not take it down.

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
    limit: u64,
    window: Duration,
    counter: Counter,
}

enum Counter {
    /// Window start (seconds since the epoch) and count, per guest.
    Local(Mutex<HashMap<String, (u64, u64)>>),
    Redis {
        connection: redis::aio::ConnectionManager,
        prefix: String,
    },
}

impl RateLimit {
    /// A budget counted in this process.
    pub fn local(limit: u64, window: Duration) -> Self {
        Self { limit, window, counter: Counter::Local(Mutex::default()) }
    }

    /// A budget shared through Redis by every replica.
    pub async fn shared(url: &str, prefix: &str, limit: u64, window: Duration) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let connection = client.get_connection_manager_with_config(config).await.map_err(|e| e.to_string())?;
        Ok(Self { limit, window, counter: Counter::Redis { connection, prefix: prefix.to_owned() } })
    }

    /// Counts one request of `guest`; `Some(seconds)` to wait when the budget is spent.
    async fn spend(&self, guest: &str) -> Option<u64> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let window = self.window.as_secs().max(1);
        let start = now - now % window;
        let count = match &self.counter {
            Counter::Local(counts) => {
                let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
                counts.retain(|_, (started, _)| *started == start);
                let entry = counts.entry(guest.to_owned()).or_insert((start, 0));
                entry.1 += 1;
                entry.1
            }
            Counter::Redis { connection, prefix } => {
                let key = format!("{prefix}:rate:{guest}:{start}");
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
        (count > self.limit).then(|| start + window - now)
    }
}

/// The middleware: refuses a guest's write past its budget with `429 rate_limited`.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (Some(limit), true) = (&state.rate_limit, matches!(*request.method(), Method::POST | Method::DELETE)) else {
        return next.run(request).await;
    };
    let guest = request.extensions().get::<Owner>().map(|owner| owner.0.to_string()).unwrap_or_default();
    let Some(wait) = limit.spend(&guest).await else {
        return next.run(request).await;
    };
    let message = format!("more than {} requests in {} s; retry in {wait} s", limit.limit, limit.window.as_secs());
    let mut response = ApiError::new(ErrorCode::RateLimited, message).into_response();
    if let Ok(value) = HeaderValue::from_str(&wait.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
