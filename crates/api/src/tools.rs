//! `/api/v1/tools`: the catalogue, and the one-shot call that runs a tool and returns its result.

use crate::AppState;
use crate::auth::Auth;
use crate::download::{file_response, zip_response};
use crate::error::ApiError;
use crate::files::{after_discarding_rest, next_field, refuse_oversized_body, store_part};
use crate::jobs::view;
use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scanpro_core::ErrorCode;
use scanpro_core::job::{JobSpec, JobStatus, StepSpec};
use scanpro_pipeline::Pipeline;
use scanpro_store::JobRecord;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ToolList {
    #[schema(value_type = Vec<Object>)]
    pub tools: Vec<ToolView>,
    /// Each external engine, whether it can take work, and its version or why not.
    #[schema(value_type = Vec<Object>)]
    pub engines: Vec<scanpro_tools::EngineStatus>,
}

/// A tool, and whether it can run now: a tool whose engine is missing or down cannot.
#[derive(serde::Serialize)]
pub struct ToolView {
    #[serde(flatten)]
    pub info: scanpro_tools::ToolInfo,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable_reason: Option<String>,
    /// For a tool that needs an engine for some inputs only (`convert`): the engine that is down,
    /// whose conversions fail while the others run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited_reason: Option<String>,
}

/// Every tool with the JSON Schema of its parameters and whether it is available; tools an
/// administrator switched off are left out.
#[utoipa::path(get, path = "/api/v1/tools", tag = "tools", responses((status = 200, body = ToolList)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<ToolList>, ApiError> {
    let engines = state.pipeline.engine_status().await;
    let disabled = state.pipeline.disabled_tools().await?;
    let tools = scanpro_tools::catalogue()
        .into_iter()
        .filter(|info| !disabled.iter().any(|name| name == info.name))
        .map(|info| {
            let down = |engine: &scanpro_tools::Engine| engines.iter().find(|s| s.engine == *engine && !s.available);
            let why = |status: &scanpro_tools::EngineStatus| {
                format!("the {} engine is unavailable: {}", status.engine, status.detail)
            };
            let unavailable_reason = info.engine.as_ref().and_then(down).map(why);
            let limited: Vec<String> = info.engines_for_some_inputs.iter().filter_map(down).map(why).collect();
            let limited_reason = (!limited.is_empty()).then(|| limited.join("; "));
            ToolView { info, available: unavailable_reason.is_none(), unavailable_reason, limited_reason }
        })
        .collect();
    Ok(Json(ToolList { tools, engines }))
}

#[utoipa::path(get, path = "/api/v1/tools/{tool}", tag = "tools", params(("tool" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::error::Problem)))]
pub async fn describe(Path(tool): Path<String>) -> Result<Json<scanpro_tools::ToolInfo>, ApiError> {
    scanpro_tools::find(&tool).map(Json).ok_or_else(|| unknown_tool(&tool))
}

/// One-shot: upload `file` parts and a `params` JSON part; get the result file (a zip when there
/// are several) if the job finishes within the wait limit, else `202` with the job to follow.
#[utoipa::path(post, path = "/api/v1/tools/{tool}", tag = "tools", params(("tool" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "`file` parts and an optional `params` part holding JSON"),
    responses((status = 200, description = "the result file, or a zip of several"), (status = 202, body = crate::views::JobView),
        (status = 415, body = crate::error::Problem), (status = 422, body = crate::error::Problem)))]
pub async fn one_shot(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(tool): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let mut multipart = multipart?;
    if scanpro_tools::find(&tool).is_none() {
        return Err(after_discarding_rest(&mut multipart, unknown_tool(&tool)).await);
    }
    refuse_oversized_body(&state.pipeline, &headers)?;
    let mut inputs = Vec::new();
    let mut params = serde_json::json!({});
    while let Some(field) = next_field(&mut multipart).await? {
        match field.name() {
            Some("file") => match store_part(&state.pipeline, &caller, field).await {
                Ok(file) => inputs.push(file.id),
                Err(error) => return Err(after_discarding_rest(&mut multipart, error).await),
            },
            Some("params") => params = parse_params(field, state.settings.max_json_bytes).await?,
            _ => {}
        }
    }
    if inputs.is_empty() && scanpro_tools::find(&tool).is_none_or(|t| t.inputs.min > 0) {
        return Err(ApiError::bad_request("no `file` part in the multipart body (curl: -F file=@document.pdf)"));
    }
    let spec = JobSpec { inputs, steps: vec![StepSpec { tool, params }], webhook_url: None, tag: None };
    let (job, _) = state.pipeline.submit(&caller, spec, None).await?;
    let job = state.pipeline.wait_for_end(job, state.settings.oneshot_wait).await?;
    respond_with_result(&state.pipeline, job, &headers).await
}

/// Reads the `params` part chunk by chunk, refusing it as soon as it passes `limit`.
async fn parse_params(
    mut field: axum::extract::multipart::Field<'_>,
    limit: usize,
) -> Result<serde_json::Value, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| ApiError::bad_request(format!("params: {e}")))? {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge, format!("params: larger than {} KiB", limit / 1024)));
        }
        bytes.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("params: not valid JSON: {e}")))
}

async fn respond_with_result(pipeline: &Pipeline, job: JobRecord, headers: &HeaderMap) -> Result<Response, ApiError> {
    let job_header = HeaderValue::from_str(&job.id.to_string()).expect("uuid is ascii");
    let mut response = match job.status {
        JobStatus::Succeeded => {
            let outputs = pipeline.outputs(&job).await?;
            match outputs.as_slice() {
                [single] => file_response(pipeline, single, headers).await?,
                several => zip_response(pipeline, several, &format!("scanpro-{}.zip", job.id)).await?,
            }
        }
        JobStatus::Failed | JobStatus::Cancelled => {
            let error = job.error.clone().unwrap_or_else(|| scanpro_core::ToolError::internal("the job failed"));
            return Err(ApiError { code: error.code, message: error.message, job_id: Some(job.id.to_string()) });
        }
        JobStatus::Queued | JobStatus::Running => {
            let mut accepted = (StatusCode::ACCEPTED, Json(view(pipeline, &job).await?)).into_response();
            let location = HeaderValue::from_str(&format!("/api/v1/jobs/{}", job.id)).expect("ascii");
            accepted.headers_mut().insert(header::LOCATION, location);
            accepted
        }
    };
    response.headers_mut().insert("x-scanpro-job-id", job_header);
    Ok(response)
}

fn unknown_tool(tool: &str) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("unknown tool {tool:?}; GET /api/v1/tools lists them"))
}
