//! The HTTP API v1.
//!
//! # Layout
//! - [`router`]: every route, in one table; [`serve`] runs it on an already-bound listener until a
//!   shutdown future resolves (tests bind port 0).
//! - [`auth`]: who is asking (an API key, an access token, the web session cookie, or the
//!   guest of the signed `scanpro_guest` cookie), and what an API key's scopes allow;
//!   cross-site writes are refused there.
//! - [`rate_limit`]: budgets of writes per caller and address, of new guests, sign-ins and
//!   registrations per address, shared through Redis by replicas.
//! - [`error`]: [`ApiError`], the one mapping from error codes to HTTP statuses and
//!   `application/problem+json` bodies.
//! - [`views`]: the JSON shapes of files, jobs and tools; [`account_views`]: of accounts.
//! - Handlers, one module per resource, each handler short: extract, call one pipeline use case,
//!   map the result: [`files`], [`jobs`], [`tools`], [`webhooks`], [`health`], [`accounts`]
//!   (sign-in, the account, its keys), [`admin`]; [`download`] streams blobs and
//!   zips; [`openapi`] documents it all at `/api/v1/openapi.json` and `/api/docs`.
//! - [`gotenberg`]: Gotenberg 8's API (`/forms/…`, `/health`, `/version`) over the same pipeline.
//! - The web app (`scanpro_web`) is merged in at `/`, `/tool/{name}`, `/organise` and `/assets/…`.

pub mod account_views;
pub mod accounts;
pub mod admin;
pub mod auth;
pub mod download;
pub mod error;
pub mod files;
pub mod gotenberg;
pub mod health;
pub mod jobs;
pub mod openapi;
pub mod rate_limit;
pub mod tools;
pub mod views;
pub mod webhooks;

pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};
use scanpro_pipeline::Pipeline;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pipeline: Pipeline,
    pub settings: Arc<ApiSettings>,
    /// Request budgets per caller and address; `None`: unlimited.
    pub rate_limit: Option<Arc<rate_limit::RateLimit>>,
}

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// How long `POST /api/v1/tools/{tool}` waits for the result before answering `202` + job.
    pub oneshot_wait: Duration,
    /// Mark the guest and session cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// Signs guest cookies; the same on every replica.
    pub cookie_key: auth::CookieKey,
    /// Callers without credentials act as guests (`scanpro_guest` cookie); off: they are refused.
    pub guest_access: bool,
    /// Largest JSON body, and largest `params` part of a one-shot call.
    pub max_json_bytes: usize,
    /// Proxies whose `X-Forwarded-For` names the client; other peers are the client themselves.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            oneshot_wait: Duration::from_secs(60),
            secure_cookies: false,
            cookie_key: auth::CookieKey::random(),
            guest_access: true,
            max_json_bytes: 256 * 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

pub fn router(state: AppState) -> Router {
    // Uploads are limited per file while streaming (`file_too_large`) and by the owner's quota,
    // never buffered; every other body is small and bounded (`payload_too_large`).
    let api = Router::new()
        .route("/files", post(files::upload).layer(DefaultBodyLimit::disable()))
        .route("/files/{id}", get(files::metadata).delete(files::delete))
        .route("/files/{id}/content", get(files::content))
        .route("/tools", get(tools::list))
        .route("/tools/{tool}", get(tools::describe).post(tools::one_shot).layer(DefaultBodyLimit::disable()))
        .route("/jobs", post(jobs::create).get(jobs::list))
        .route("/jobs/{id}", get(jobs::get))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/events", get(jobs::events))
        .route("/jobs/{id}/outputs.zip", get(jobs::outputs_zip))
        .route("/webhook-secret", post(webhooks::rotate))
        .route("/auth/register", post(accounts::register))
        .route("/auth/login", post(accounts::login))
        .route("/auth/refresh", post(accounts::refresh))
        .route("/auth/logout", post(accounts::logout))
        .route("/auth/verify", post(accounts::verify))
        .route("/auth/password/forgot", post(accounts::forgot_password))
        .route("/auth/password/reset", post(accounts::reset_password))
        .route("/auth/password/change", post(accounts::change_password))
        .route("/auth/providers", get(accounts::providers))
        .route("/auth/oidc/login", get(accounts::oidc_login))
        .route("/auth/oidc/callback", get(accounts::oidc_callback))
        .route("/me", get(accounts::me).delete(accounts::delete_me))
        .route("/me/usage", get(accounts::usage))
        .route("/api-keys", post(accounts::create_key).get(accounts::list_keys))
        .route("/api-keys/{id}", delete(accounts::revoke_key))
        .route("/admin/users", get(admin::users))
        .route("/admin/users/{id}", patch(admin::update_user).delete(admin::delete_user))
        .route("/admin/usage", get(admin::usage))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/tools", get(admin::tools))
        .route("/admin/tools/{tool}", put(admin::switch_tool))
        .route("/admin/jobs/{id}", get(admin::job))
        .layer(DefaultBodyLimit::max(state.settings.max_json_bytes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::enforce))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::identify));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .merge(gotenberg::router(state.clone()))
        .merge(openapi::docs())
        .merge(scanpro_web::router(scanpro_web::WebConfig {
            retention_minutes: state.pipeline.settings.retention.num_minutes().max(0) as u64,
            max_upload_bytes: state.pipeline.settings.max_upload_bytes,
        }))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .route_layer(axum::middleware::from_fn(health::record_request))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panic_response))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(request_span)
                // One access-log line per request, with its status and latency.
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        // Outermost: every request has an `x-request-id` (the client's, or a new one) before
        // its span opens, and the answer carries it back.
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(tower_http::request_id::MakeRequestUuid))
        .with_state(state)
}

/// Each request's span, so every log line of it carries its request id.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id)
}

/// Serves the API on `listener` until `shutdown` resolves, then lets open requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address counts new guests per client.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
