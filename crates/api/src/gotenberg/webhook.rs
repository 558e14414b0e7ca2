//! Gotenberg's asynchronous calls: with `Gotenberg-Webhook-Url`, a route answers `204` as soon as
//! its job is accepted, then sends the result to that URL, or the error to
//! `Gotenberg-Webhook-Error-Url`, and an event to `Gotenberg-Webhook-Events-Url`.
//!
//! Every callback URL is checked as ScanPro's own webhooks are (no loopback, private or other
//! special-purpose address unless `webhook_allow_private_hosts`), when the call arrives and again
//! before each attempt, and the connection goes only to the addresses checked. Redirects are not
//! followed.

use super::reply::Refusal;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scanpro_pipeline::webhook::{SystemResolver, Target};
use serde_json::{Value, json};
use std::time::Duration;

/// Attempts per callback, with a doubling pause between them.
const ATTEMPTS: u32 = 3;
const CALLBACK_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest result sent to a webhook.
const MAX_RESULT_BYTES: usize = 1 << 30;
/// Extra headers a caller may add to the callbacks.
const MAX_EXTRA_HEADERS: usize = 64;

/// Where and how the results of an asynchronous call go.
#[derive(Debug, Clone)]
pub struct Hook {
    url: Target,
    method: Method,
    error_url: Option<Target>,
    error_method: Method,
    events_url: Option<Target>,
    extra: HeaderMap,
    allow_private: bool,
}

impl Hook {
    /// The webhook the headers ask for, if any; a header that does not parse is Gotenberg's
    /// `400`, a callback URL on an internal address its `403`.
    pub fn from_headers(headers: &HeaderMap, allow_private: bool) -> Result<Option<Self>, Refusal> {
        let text =
            |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
        let Some(url) = text("gotenberg-webhook-url") else { return Ok(None) };
        let (error_url, events_url) = (text("gotenberg-webhook-error-url"), text("gotenberg-webhook-events-url"));
        if error_url.is_none() && events_url.is_none() {
            return Err(Refusal::bad_request(
                "At least one of 'Gotenberg-Webhook-Error-Url' or 'Gotenberg-Webhook-Events-Url' headers must be provided",
            ));
        }
        let method = |name: &str| match text(name) {
            None => Ok(Method::POST),
            Some(value) => match value.to_ascii_uppercase().as_str() {
                "POST" => Ok(Method::POST),
                "PATCH" => Ok(Method::PATCH),
                "PUT" => Ok(Method::PUT),
                _ => Err(Refusal::bad_request(format!(
                    "Invalid '{}' header value: expected 'POST', 'PATCH' or 'PUT', but got '{value}'",
                    canonical(name)
                ))),
            },
        };
        let target = |value: &str| Target::parse(value, allow_private).map_err(|_| Refusal::forbidden());
        let mut extra = HeaderMap::new();
        if let Some(json) = text("gotenberg-webhook-extra-http-headers") {
            let invalid = |why: String| {
                Refusal::bad_request(format!("Invalid 'Gotenberg-Webhook-Extra-Http-Headers' header value: {why}"))
            };
            let entries: serde_json::Map<String, Value> =
                serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
            if entries.len() > MAX_EXTRA_HEADERS {
                return Err(invalid(format!("at most {MAX_EXTRA_HEADERS} headers")));
            }
            for (name, value) in entries {
                let value = value.as_str().ok_or_else(|| invalid(format!("'{name}' is not a string")))?;
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(e.to_string()))?;
                extra.insert(name, HeaderValue::from_str(value).map_err(|e| invalid(e.to_string()))?);
            }
        }
        Ok(Some(Self {
            url: target(url)?,
            method: method("gotenberg-webhook-method")?,
            error_url: error_url.map(target).transpose()?,
            error_method: method("gotenberg-webhook-error-method")?,
            events_url: events_url.map(target).transpose()?,
            extra,
            allow_private,
        }))
    }

    /// Sends `result` (the response a synchronous call would have got) where it belongs.
    pub async fn deliver(self, result: Result<Response, Refusal>, trace: String) {
        let timestamp = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        match result {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                let delivered = match axum::body::to_bytes(body, MAX_RESULT_BYTES).await {
                    Ok(bytes) => {
                        let mut headers = HeaderMap::new();
                        for name in [header::CONTENT_TYPE, header::CONTENT_DISPOSITION] {
                            if let Some(value) = parts.headers.get(&name) {
                                headers.insert(name, value.clone());
                            }
                        }
                        self.send(&self.url, &self.method, headers, bytes.to_vec(), &trace).await
                    }
                    Err(e) => Err(format!("the result could not be read: {e}")),
                };
                match delivered {
                    Ok(()) => {
                        self.event(
                            json!({"event": "webhook.success", "correlationId": trace, "timestamp": timestamp()}),
                            &trace,
                        )
                        .await;
                    }
                    Err(why) => {
                        tracing::warn!(why, "a Gotenberg webhook could not be delivered");
                        let failed = (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error".to_owned());
                        self.error(failed, &trace, timestamp()).await;
                    }
                }
            }
            Err(refusal) => {
                let response = refusal.into_response();
                let status = response.status();
                let message = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                self.error((status, message), &trace, timestamp()).await;
            }
        }
    }

    async fn error(&self, (status, message): (StatusCode, String), trace: &str, timestamp: String) {
        let error = json!({"status": status.as_u16(), "message": message});
        if let Some(url) = &self.error_url {
            let body = serde_json::to_vec(&error).expect("JSON serialises");
            if let Err(why) = self.send(url, &self.error_method, json_headers(), body, trace).await {
                tracing::warn!(why, "a Gotenberg error callback could not be delivered");
            }
        }
        self.event(
            json!({"event": "webhook.error", "correlationId": trace, "timestamp": timestamp, "error": error}),
            trace,
        )
        .await;
    }

    async fn event(&self, event: Value, trace: &str) {
        let Some(url) = &self.events_url else { return };
        let body = serde_json::to_vec(&event).expect("JSON serialises");
        if let Err(why) = self.send(url, &Method::POST, json_headers(), body, trace).await {
            tracing::warn!(why, "a Gotenberg event callback could not be delivered");
        }
    }

    /// One callback, tried up to [`ATTEMPTS`] times; a `2xx` answer is success.
    async fn send(
        &self,
        url: &Target,
        method: &Method,
        headers: HeaderMap,
        body: Vec<u8>,
        trace: &str,
    ) -> Result<(), String> {
        let mut pause = Duration::from_secs(1);
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            match self.attempt(url, method, &headers, body.clone(), trace).await {
                Ok(()) => return Ok(()),
                Err(why) => last = why,
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
        Err(last)
    }

    async fn attempt(
        &self,
        url: &Target,
        method: &Method,
        headers: &HeaderMap,
        body: Vec<u8>,
        trace: &str,
    ) -> Result<(), String> {
        let client = url
            .pinned_client(&SystemResolver, self.allow_private, CALLBACK_TIMEOUT)
            .await
            .map_err(|e| e.to_string())?;
        let mut request = client
            .request(method.clone(), url.url().clone())
            .headers(headers.clone())
            .header(header::USER_AGENT, "Gotenberg")
            .header(super::TRACE, trace);
        // The caller's extra headers win, `Content-Disposition` included, as in Gotenberg.
        for (name, value) in &self.extra {
            request = request.header(name, value);
        }
        let response = request.body(body).send().await.map_err(|e| format!("{}: {e}", url.url()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("{} answered {}", url.url(), response.status()))
        }
    }
}

fn json_headers() -> HeaderMap {
    HeaderMap::from_iter([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))])
}

/// `gotenberg-webhook-method` as Gotenberg spells it in messages.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}
