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
    let database = state.pipeline.meta.ping().await.map_err(|e| e.to_string());
    let storage = state.pipeline.blobs.check().await.map_err(|e| e.to_string());
    let queue = state.pipeline.queue.check().await.map_err(|e| e.to_string());
    let verdict = |r: &Result<(), String>| match r {
        Ok(()) => json!("ok"),
        Err(e) => json!(e),
    };
    let ok = database.is_ok() && storage.is_ok() && queue.is_ok();
    // A missing engine makes its tools unavailable, not the whole service: reported, not fatal.
    let engines = state.pipeline.steps.engines.status().await;
    let body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "checks": {"database": verdict(&database), "storage": verdict(&storage), "queue": verdict(&queue)},
        "engines": engines,
    });
    (if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}
