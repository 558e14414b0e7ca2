//! The HTTP API v1.
//!
//! # Layout
//! - [`router`]: every route, in one table; [`serve`] runs it on an already-bound listener until a
//!   shutdown future resolves (tests bind port 0).
//! - [`owner`]: who is asking: the guest of the `scanpro_guest` cookie (set when absent).
//! - [`rate_limit`]: each guest's budget of writes, shared through Redis by replicas.
//! - [`error`]: [`ApiError`], the one mapping from error codes to HTTP statuses and
//!   `application/problem+json` bodies.
//! - [`views`]: the JSON shapes of files, jobs and tools.
//! - Handlers, one module per resource, each handler short: extract, call one pipeline use case,
//!   map the result: [`files`], [`jobs`], [`tools`], [`webhooks`], [`health`]; [`download`] streams blobs and
//!   zips; [`openapi`] documents it all at `/api/v1/openapi.json` and `/api/docs`.
//! - The web app (`scanpro_web`) is merged in at `/`, `/tool/{name}`, `/organise` and `/assets/…`.
//! - [`engine_service`]: `scanpro engine NAME`, one engine as an HTTP service workers call.

pub mod download;
pub mod engine_service;
pub mod error;
pub mod files;
pub mod health;
pub mod jobs;
pub mod openapi;
pub mod owner;
pub mod rate_limit;
pub mod tools;
pub mod views;
pub mod webhooks;

pub use error::ApiError;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use scanpro_pipeline::Pipeline;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pipeline: Pipeline,
    pub settings: Arc<ApiSettings>,
    /// Writes per guest and window; `None`: unlimited.
    pub rate_limit: Option<Arc<rate_limit::RateLimit>>,
}

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// How long `POST /api/v1/tools/{tool}` waits for the result before answering `202` + job.
    pub oneshot_wait: Duration,
    /// Mark the guest cookie `Secure` (behind TLS).
    pub secure_cookies: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self { oneshot_wait: Duration::from_secs(60), secure_cookies: false }
    }
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/files", post(files::upload))
        .route("/files/{id}", get(files::metadata).delete(files::delete))
        .route("/files/{id}/content", get(files::content))
        .route("/tools", get(tools::list))
        .route("/tools/{tool}", get(tools::describe).post(tools::one_shot))
        .route("/jobs", post(jobs::create).get(jobs::list))
        .route("/jobs/{id}", get(jobs::get))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/events", get(jobs::events))
        .route("/jobs/{id}/outputs.zip", get(jobs::outputs_zip))
        .route("/webhook-secret", post(webhooks::rotate))
        // Uploads are limited per file while streaming (`file_too_large`), not by buffering.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::enforce))
        .layer(axum::middleware::from_fn_with_state(state.clone(), owner::guest_cookie));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .merge(openapi::docs())
        .merge(scanpro_web::router(scanpro_web::WebConfig {
            retention_minutes: state.pipeline.settings.retention.num_minutes().max(0) as u64,
            max_upload_bytes: state.pipeline.settings.max_upload_bytes,
        }))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(error::panic_response))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves, then lets open requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
