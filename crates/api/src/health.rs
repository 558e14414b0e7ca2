//! Liveness and readiness.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Object)))]
pub async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The process can serve: the database and the queue answer and blob storage accepts a write.
/// Engines are listed with their availability.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Object), (status = 503, body = Object)))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let readiness = state.pipeline.readiness(true).await;
    let ok = readiness.is_ready();
    // A missing engine makes its tools unavailable, not the whole service: reported, not fatal.
    let engines = state.pipeline.engine_status().await;
    let body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "checks": readiness.checks(),
        "engines": engines,
    });
    (if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

/// Counts each request by its route (as matched: ids do not make new series), method and
/// status, with its duration.
pub async fn record_request(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use scanpro_core::metrics::{HTTP_REQUEST_SECONDS, HTTP_REQUESTS};
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(HTTP_REQUEST_SECONDS, "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status).increment(1);
    response
}

/// The metrics listener's routes: `GET /metrics`, and nothing of the public API.
pub fn metrics_router(pipeline: scanpro_pipeline::Pipeline) -> axum::Router {
    scanpro_core::metrics::install();
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let pipeline = pipeline.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], pipeline.metrics().await) }
        }),
    )
}
