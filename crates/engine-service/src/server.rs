//! The service's side: `scanpro engine NAME` serving one engine.
//!
//! Routes: `POST /v1/steps/{tool}` runs one step of a tool of this engine; `/healthz` and
//! `/readyz` say whether the engine can work; `/metrics` is Prometheus text. At most
//! `concurrency` steps run at once and `queue` more wait; beyond that the answer is `429` with
//! `Retry-After`, given before a byte of the documents is read.
//!
//! With a token configured (`engine_token`), steps and metrics need `Authorization: Bearer
//! <token>`; the health routes stay open for probes and say nothing about documents.

use crate::wire::{KEEP_ALIVE, ServiceEvent};
use axum::Router;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use scanpro_core::metrics::{ENGINE_AVAILABLE, ENGINE_STEPS, ENGINE_STEPS_RUNNING, ENGINE_STEPS_WAITING};
use scanpro_core::{ErrorCode, ToolError};
use scanpro_process::progress::ProgressFn;
use scanpro_tools::{Engine, Input, LocalEngines, StepResult};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Semaphore, mpsc};
use tracing::Instrument;

/// Largest `params` field accepted.
const MAX_PARAMS_BYTES: usize = 64 * 1024;

/// Settings of one engine service.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Steps running at once.
    pub concurrency: usize,
    /// Steps waiting beyond those; more are refused with `429`.
    pub queue: usize,
    pub max_upload_bytes: u64,
    /// Where requests' documents are kept while they run.
    pub work_dir: PathBuf,
    /// The bearer token callers must present for steps and metrics; `None`: no check (only on
    /// loopback, which `scanpro engine` enforces).
    pub token: Option<String>,
}

/// What the service's handlers share.
pub struct EngineService {
    engine: Engine,
    engines: LocalEngines,
    settings: ServiceSettings,
    /// Running plus waiting steps.
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

impl EngineService {
    pub fn new(engine: Engine, engines: LocalEngines, settings: ServiceSettings) -> Arc<Self> {
        scanpro_core::metrics::install();
        let concurrency = settings.concurrency.max(1);
        Arc::new(Self {
            engine,
            engines,
            admitted: Arc::new(Semaphore::new(concurrency + settings.queue)),
            running: Arc::new(Semaphore::new(concurrency)),
            settings: ServiceSettings { concurrency, ..settings },
        })
    }

    /// Counts a step that ended as `outcome`.
    fn count(&self, outcome: &'static str) {
        metrics::counter!(ENGINE_STEPS, "engine" => self.engine.as_str(), "outcome" => outcome).increment(1);
    }

    /// Steps admitted and not yet finished.
    fn in_flight(&self) -> usize {
        self.settings.concurrency + self.settings.queue - self.admitted.available_permits()
    }
}

pub fn router(service: Arc<EngineService>) -> Router {
    let guarded = Router::new()
        .route(&crate::wire::step_path("{tool}"), post(run_step))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(service.clone(), require_token));
    Router::new()
        .merge(guarded)
        .route("/healthz", get(health))
        .route("/readyz", get(health))
        .layer(DefaultBodyLimit::disable())
        .fallback(|| async { Refused::new(ErrorCode::NotFound, "no such route on an engine service") })
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(service)
}

/// `/metrics` alone, without the token: for a listener apart from the service's port
/// (`metrics_listen`).
pub fn metrics_router(service: Arc<EngineService>) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(service)
}

/// Refuses a request without the service's bearer token, before its body is read.
async fn require_token(
    State(service): State<Arc<EngineService>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(expected) = &service.settings.token else { return next.run(request).await };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    // Digests compared, so the time taken says nothing about how much of the token matched.
    let digest = |token: &str| Sha256::digest(token.as_bytes());
    match presented {
        Some(token) if digest(token) == digest(expected) => next.run(request).await,
        _ => {
            service.count("rejected");
            Refused::new(
                ErrorCode::Unauthorized,
                "this engine service needs its token: Authorization: Bearer <engine_token>",
            )
            .into_response()
        }
    }
}

async fn health(State(service): State<Arc<EngineService>>) -> Response {
    let status = engine_status(&service).await;
    let code = if status.available { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::json!({
        "status": if status.available { "ok" } else { "unavailable" },
        "engine": status.engine,
        "detail": status.detail,
        "in_flight": service.in_flight(),
    });
    (code, axum::Json(body)).into_response()
}

async fn engine_status(service: &EngineService) -> scanpro_tools::EngineStatus {
    let statuses = service.engines.status().await;
    statuses.into_iter().find(|s| s.engine == service.engine).unwrap_or_else(|| scanpro_tools::EngineStatus {
        engine: service.engine,
        available: false,
        detail: "not set up in this process".into(),
    })
}

async fn metrics(State(service): State<Arc<EngineService>>) -> Response {
    let engine = service.engine.as_str();
    let available = engine_status(&service).await.available;
    let running = service.settings.concurrency - service.running.available_permits();
    let waiting = service.in_flight().saturating_sub(running);
    metrics::gauge!(ENGINE_STEPS_RUNNING, "engine" => engine).set(running as f64);
    metrics::gauge!(ENGINE_STEPS_WAITING, "engine" => engine).set(waiting as f64);
    metrics::gauge!(ENGINE_AVAILABLE, "engine" => engine).set(f64::from(u8::from(available)));
    service.engines.record_pool_metrics();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], scanpro_core::metrics::render()).into_response()
}

/// Reads and drops what is left of a refused request, up to 16 MiB and 10 s.
async fn discard(mut multipart: Multipart) {
    const MAX_BYTES: usize = 16 * 1024 * 1024;
    let drain = async {
        let mut seen = 0;
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(chunk)) = field.chunk().await {
                seen += chunk.len();
                if seen > MAX_BYTES {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), drain).await;
}

/// Admits the step (or refuses it at once when the queue is full), receives its documents,
/// checks its parameters, then answers with the stream of [`ServiceEvent`] lines.
async fn run_step(
    State(service): State<Arc<EngineService>>,
    Path(tool): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Refused> {
    let job = headers.get(crate::wire::JOB_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
    let span = tracing::info_span!("engine_step", job_id = %job, tool = %tool);
    run_step_in(service, tool, multipart).instrument(span).await
}

async fn run_step_in(
    service: Arc<EngineService>,
    tool: String,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Refused> {
    if scanpro_tools::engine_of(&tool) != Some(service.engine) {
        // The client is still sending its documents: read a bounded part of them, so it reads
        // this answer rather than a connection reset.
        if let Ok(multipart) = multipart {
            discard(multipart).await;
        }
        return Err(Refused::new(
            ErrorCode::NotFound,
            format!("this is the {} engine service; it does not run \"{tool}\"", service.engine),
        ));
    }
    let Ok(admission) = service.admitted.clone().try_acquire_owned() else {
        service.count("rejected");
        return Err(Refused::new(
            ErrorCode::Busy,
            format!("the {} engine's queue is full; retry shortly", service.engine),
        ));
    };
    let scratch = tempfile::Builder::new()
        .prefix("scanpro-engine-")
        .tempdir_in(&service.settings.work_dir)
        .map_err(|e| Refused::new(ErrorCode::InternalError, format!("scratch directory: {e}")))?;
    let multipart = multipart
        .map_err(|e| Refused::bad_request(format!("expected a multipart/form-data body: {}", e.body_text())))?;
    let (params, inputs) = receive(&service, multipart, scratch.path()).await?;
    scanpro_tools::validate(&tool, &params, Some(inputs.len()))?;
    let out_dir = scratch.path().join("out");
    std::fs::create_dir(&out_dir).map_err(|e| Refused::new(ErrorCode::InternalError, e.to_string()))?;

    let (lines, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tracing::info!("step started");
    let step = async move {
        let _admission = admission;
        let progress_lines = lines.clone();
        let progress: ProgressFn = Arc::new(move |done| {
            // A full channel drops a progress line; a later one supersedes it anyway.
            let _ = progress_lines.try_send(Ok(ServiceEvent::Progress(done).line()));
        });
        let work = async {
            let _running = service.running.acquire().await.map_err(|_| ToolError::new(ErrorCode::Busy, "closing"))?;
            scanpro_tools::run_engine(&tool, &params, &inputs, &out_dir, &service.engines, progress).await
        };
        tokio::pin!(work);
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        let result = loop {
            tokio::select! {
                result = &mut work => break result,
                _ = keep_alive.tick() => if lines.send(Ok(ServiceEvent::Working.line())).await.is_err() {
                    // The client is gone: dropping `work` kills the engine's processes.
                    service.count("abandoned");
                    tracing::info!("step abandoned: the worker went away");
                    return;
                },
            }
        };
        match &result {
            Ok(_) => tracing::info!("step succeeded"),
            Err(e) => tracing::info!(code = %e.code, error = %e.message, "step failed"),
        }
        service.count(if result.is_ok() { "succeeded" } else { "failed" });
        if let Err(e) = send_result(&lines, result).await {
            tracing::debug!(error = %e, "engine client went away while receiving its outputs");
        }
        drop(scratch);
    };
    tokio::spawn(step.in_current_span());
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// Reads the `params` field and saves each `file` field under `dir`, within the upload limit.
async fn receive(
    service: &EngineService,
    mut multipart: Multipart,
    dir: &std::path::Path,
) -> Result<(serde_json::Value, Vec<Input>), Refused> {
    let mut params = serde_json::json!({});
    let mut inputs = Vec::new();
    while let Some(mut field) =
        multipart.next_field().await.map_err(|e| Refused::bad_request(format!("malformed multipart body: {e}")))?
    {
        match field.name() {
            Some("params") => {
                let bytes = field.bytes().await.map_err(|e| Refused::bad_request(format!("params: {e}")))?;
                if bytes.len() > MAX_PARAMS_BYTES {
                    return Err(Refused::bad_request("params: larger than 64 KiB"));
                }
                params = serde_json::from_slice(&bytes)
                    .map_err(|e| Refused::new(ErrorCode::InvalidParams, format!("params: not JSON: {e}")))?;
            }
            Some("file") => {
                let filename = field.file_name().unwrap_or("document").to_owned();
                let path = dir.join(format!("in-{}", inputs.len()));
                let io = |e: std::io::Error| Refused::new(ErrorCode::InternalError, format!("saving {filename}: {e}"));
                let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
                let mut size = 0u64;
                while let Some(chunk) =
                    field.chunk().await.map_err(|e| Refused::bad_request(format!("{filename}: {e}")))?
                {
                    size += chunk.len() as u64;
                    if size > service.settings.max_upload_bytes {
                        let refusal = Refused::new(
                            ErrorCode::FileTooLarge,
                            format!("{filename} is larger than the engine's upload limit"),
                        );
                        // The rest is read and dropped (within bounds), so a client still sending
                        // sees this refusal rather than a reset connection.
                        discard(multipart).await;
                        return Err(refusal);
                    }
                    file.write_all(&chunk).await.map_err(io)?;
                }
                file.flush().await.map_err(io)?;
                inputs.push(Input { path, filename });
            }
            _ => {}
        }
    }
    Ok((params, inputs))
}

/// Sends the `done` line and the outputs' bytes, or the `failed` line.
async fn send_result(
    lines: &mpsc::Sender<Result<Bytes, std::io::Error>>,
    result: Result<StepResult, ToolError>,
) -> Result<(), String> {
    let closed = |_| "closed".to_owned();
    let mut result = match result {
        Ok(result) => result,
        Err(error) => return lines.send(Ok(ServiceEvent::Failed(error).line())).await.map_err(closed),
    };
    let mut files = Vec::with_capacity(result.outputs.len());
    let mut sizes = Vec::with_capacity(result.outputs.len());
    for output in &mut result.outputs {
        let file = tokio::fs::File::open(&output.path).await.map_err(|e| e.to_string())?;
        sizes.push(file.metadata().await.map_err(|e| e.to_string())?.len());
        files.push(file);
        // Where the file is here means nothing to the client.
        output.path = output.filename.clone().into();
    }
    lines.send(Ok(ServiceEvent::Done { result, sizes }.line())).await.map_err(closed)?;
    for file in files {
        let mut chunks = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
        while let Some(chunk) = futures::StreamExt::next(&mut chunks).await {
            lines.send(chunk).await.map_err(closed)?;
        }
    }
    Ok(())
}

/// A request the service refuses, answered as `application/problem+json` with a stable `code`,
/// the status the public API gives the same code.
#[derive(Debug)]
pub struct Refused(ToolError);

impl Refused {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ToolError::new(code, message))
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
}

impl From<ToolError> for Refused {
    fn from(error: ToolError) -> Self {
        Self(error)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let Self(ToolError { code, message }) = self;
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let problem = serde_json::json!({
            "type": format!("/errors/{code}"),
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": message,
            "code": code,
        });
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        match code {
            ErrorCode::Busy => _ = headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5")),
            ErrorCode::Unauthorized => _ = headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
            // The rest of the body was not read: the connection cannot carry another request.
            ErrorCode::FileTooLarge => _ = headers.insert(header::CONNECTION, HeaderValue::from_static("close")),
            _ => {}
        }
        response
    }
}
