//! `/api/v1/webhook-secret`: the secret webhook deliveries are signed with, one per owner.

use crate::AppState;
use crate::auth::Owner;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct WebhookSecretView {
    /// `whsec_` + base64 of the HMAC-SHA256 key (Standard Webhooks). Shown only in this answer:
    /// keep it where your receiver verifies `webhook-signature`.
    pub secret: String,
}

/// Make (or replace) your webhook signing secret. Deliveries are signed with the current one;
/// a job's `webhook_url` is refused until you have one.
#[utoipa::path(post, path = "/api/v1/webhook-secret", tag = "webhooks",
    responses((status = 201, body = WebhookSecretView)))]
pub async fn rotate(
    State(state): State<AppState>,
    Owner(owner): Owner,
) -> Result<(StatusCode, Json<WebhookSecretView>), ApiError> {
    let secret = state.pipeline.rotate_webhook_secret(&owner).await?;
    Ok((StatusCode::CREATED, Json(WebhookSecretView { secret })))
}
