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
