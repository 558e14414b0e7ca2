//! `/api/v1/jobs`: create, read, list, cancel, follow (Server-Sent Events), download outputs.

use crate::AppState;
use crate::auth::{Auth, Owner};
use crate::download::zip_response;
use crate::error::ApiError;
use crate::files::parse_id;
use crate::views::{JobList, JobRequest, JobView};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use scanpro_core::job::JobStatus;
use scanpro_core::{ErrorCode, JobId};
use scanpro_pipeline::Pipeline;
use scanpro_store::JobRecord;
use std::time::Duration;

/// How often a follower re-reads the job even without a notice (another process may run it).
const EVENT_POLL: Duration = Duration::from_millis(1000);

/// The job as the API shows it, with its outputs once it succeeded.
pub async fn view(pipeline: &Pipeline, job: &JobRecord) -> Result<JobView, ApiError> {
    let outputs = pipeline.outputs(job).await?;
    Ok(JobView::new(job, &outputs))
}

/// Queue a job. An `Idempotency-Key` makes retries safe: the same key and body return the same job.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = JobRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe creation")),
    responses((status = 202, body = JobView), (status = 400, body = crate::error::Problem), (status = 409, body = crate::error::Problem),
        (status = 413, body = crate::error::Problem, description = "payload_too_large"), (status = 429, body = crate::error::Problem, description = "rate_limited, limit_exceeded")))]
pub async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    body: Result<Json<JobRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(|e| json_rejection(e, state.settings.max_json_bytes))?;
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?;
    let (job, created) = state.pipeline.submit(&caller, request.into(), key).await?;
    let mut response = (StatusCode::ACCEPTED, Json(view(&state.pipeline, &job).await?)).into_response();
    let location = HeaderValue::from_str(&format!("/api/v1/jobs/{}", job.id)).expect("ascii");
    response.headers_mut().insert(header::LOCATION, location);
    if !created {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A body over the limit is `payload_too_large`; any other unreadable body is `bad_request`.
pub(crate) fn json_rejection(e: JsonRejection, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the job request is larger than {} KiB; a job names its inputs by file id", limit / 1024),
        );
    }
    ApiError::bad_request(format!("job request: {}", e.body_text()))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 404, body = crate::error::Problem)))]
pub async fn get(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = state.pipeline.job(&owner, parse_id(&id)?).await?;
    Ok(Json(view(&state.pipeline, &job).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// At most this many jobs (default 50, at most 500), newest first.
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(ListQuery), responses((status = 200, body = JobList)))]
pub async fn list(
    State(state): State<AppState>,
    Owner(owner): Owner,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<JobList>, ApiError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let mut jobs = Vec::new();
    for job in state.pipeline.jobs(&owner, limit).await? {
        jobs.push(view(&state.pipeline, &job).await?);
    }
    Ok(Json(JobList { jobs }))
}

/// Cancel: a queued job at once; a running one as soon as its worker hears (its engine is killed).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = String, Path)),
    responses((status = 202, body = JobView), (status = 404, body = crate::error::Problem)))]
pub async fn cancel(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let job = state.pipeline.cancel(&owner, parse_id(&id)?).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&state.pipeline, &job).await?)))
}

/// Server-Sent Events: an `event: job` with the job view at each change; the stream ends after
/// the final state.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/events", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/event-stream", description = "`job` events carrying the job view")))]
pub async fn events(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    let id: JobId = parse_id(&id)?;
    let first = state.pipeline.job(&owner, id).await?;
    Ok(Sse::new(follow(state.pipeline, first)).keep_alive(KeepAlive::default()))
}

fn follow(pipeline: Pipeline, first: JobRecord) -> impl Stream<Item = Result<Event, std::convert::Infallible>> {
    let mut watch = pipeline.watch();
    async_stream(move |emit| async move {
        let mut last = None;
        let mut job = first;
        loop {
            let key = (job.status, job.progress, job.steps.clone(), job.updated_at);
            if last.as_ref() != Some(&key) {
                if let Ok(view) = view(&pipeline, &job).await {
                    let event = Event::default().event("job").json_data(&view).expect("job view serializes");
                    if emit.send(event).await.is_err() {
                        return;
                    }
                }
                last = Some(key);
            }
            if job.status.is_terminal() {
                return;
            }
            // A client that went away ends the task even while the job stays queued.
            let changed = tokio::select! {
                changed = watch.changed(job.id, EVENT_POLL) => changed,
                _ = emit.closed() => return,
            };
            match changed {
                Ok(fresh) => job = fresh,
                Err(e) if e.code() == ErrorCode::NotFound => return,
                Err(_) => tokio::time::sleep(EVENT_POLL).await,
            }
        }
    })
}

/// A stream fed by a task through a small channel; the task stops when the client goes away.
fn async_stream<F, Fut>(body: F) -> impl Stream<Item = Result<Event, std::convert::Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::mpsc::channel(16);
    tokio::spawn(body(sender));
    futures::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(receiver), Ok)
}

/// Every output of a succeeded job in one zip.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/outputs.zip", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/zip", description = "all outputs"), (status = 409, body = crate::error::Problem)))]
pub async fn outputs_zip(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let job = state.pipeline.job(&owner, parse_id(&id)?).await?;
    if job.status != JobStatus::Succeeded {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("the job is {}; outputs exist once it has succeeded", job.status.as_str()),
        ));
    }
    let outputs = state.pipeline.outputs(&job).await?;
    zip_response(&state.pipeline, &outputs, &format!("scanpro-{}.zip", job.id)).await
}
