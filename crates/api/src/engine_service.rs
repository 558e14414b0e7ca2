//! `scanpro engine NAME`: one engine (LibreOffice, Ghostscript or OCR) as a stateless HTTP
//! service that workers call, so engines scale apart from them. The wire format is
//! [`scanpro_pipeline::remote`]'s.
//!
//! Routes: `POST /v1/steps/{tool}` runs one step of a tool of this engine; `/healthz` and
//! `/readyz` say whether the engine can work; `/metrics` is Prometheus text. At most
//! `concurrency` steps run at once and `queue` more wait; beyond that the answer is `429` with
//! `Retry-After`, given before a byte of the documents is read.
//!
//! With a token configured (`engine_token`), steps and metrics need `Authorization: Bearer
//! <token>`; the health routes stay open for probes and say nothing about documents.

use crate::error::ApiError;
use crate::files::next_field;
use axum::Router;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use scanpro_core::{ErrorCode, ToolError};
use scanpro_pipeline::remote::{KEEP_ALIVE, SentFile, ServiceEvent};
use scanpro_process::progress::ProgressFn;
use scanpro_tools::{Engine, Input, LocalEngines, StepResult};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use tokio::io::AsyncWriteExt;
use tokio::sync::{Semaphore, mpsc};

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
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    succeeded: AtomicU64,
    failed: AtomicU64,
    rejected: AtomicU64,
    /// Steps whose client went away before the end.
    abandoned: AtomicU64,
}

impl EngineService {
    pub fn new(engine: Engine, engines: LocalEngines, settings: ServiceSettings) -> Arc<Self> {
        let concurrency = settings.concurrency.max(1);
        Arc::new(Self {
            engine,
            engines,
            admitted: Arc::new(Semaphore::new(concurrency + settings.queue)),
            running: Arc::new(Semaphore::new(concurrency)),
            settings: ServiceSettings { concurrency, ..settings },
            counters: Counters::default(),
        })
    }

    /// Steps admitted and not yet finished.
    fn in_flight(&self) -> usize {
        self.settings.concurrency + self.settings.queue - self.admitted.available_permits()
    }
}

pub fn router(service: Arc<EngineService>) -> Router {
    let guarded = Router::new()
        .route("/v1/steps/{tool}", post(run_step))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(service.clone(), require_token));
    Router::new()
        .merge(guarded)
        .route("/healthz", get(health))
        .route("/readyz", get(health))
        .layer(DefaultBodyLimit::disable())
        .fallback(crate::error::not_found)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(service)
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
            service.counters.rejected.fetch_add(1, Relaxed);
            let mut response = ApiError::new(
                ErrorCode::Unauthorized,
                "this engine service needs its token: Authorization: Bearer <engine_token>",
            )
            .into_response();
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            response
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
    let engine = service.engine;
    let counters = &service.counters;
    let available = u8::from(engine_status(&service).await.available);
    let mut text = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (labels, value) in samples {
            let labels = if labels.is_empty() { String::new() } else { format!(",{labels}") };
            text.push_str(&format!("{name}{{engine=\"{engine}\"{labels}}} {value}\n"));
        }
    };
    metric(
        "scanpro_engine_steps_total",
        "counter",
        "Steps by outcome.",
        &[
            ("outcome=\"succeeded\"", counters.succeeded.load(Relaxed)),
            ("outcome=\"failed\"", counters.failed.load(Relaxed)),
            ("outcome=\"rejected\"", counters.rejected.load(Relaxed)),
            ("outcome=\"abandoned\"", counters.abandoned.load(Relaxed)),
        ],
    );
    let running = (service.settings.concurrency - service.running.available_permits()) as u64;
    metric("scanpro_engine_steps_running", "gauge", "Steps running now.", &[("", running)]);
    metric(
        "scanpro_engine_steps_waiting",
        "gauge",
        "Steps admitted and waiting to run.",
        &[("", (service.in_flight() as u64).saturating_sub(running))],
    );
    metric("scanpro_engine_available", "gauge", "1 when the engine can work.", &[("", u64::from(available))]);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Admits the step (or refuses it at once when the queue is full), receives its documents,
/// checks its parameters, then answers with the stream of [`ServiceEvent`] lines.
async fn run_step(
    State(service): State<Arc<EngineService>>,
    Path(tool): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    if scanpro_tools::engine_of(&tool) != Some(service.engine) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("this is the {} engine service; it does not run \"{tool}\"", service.engine),
        ));
    }
    let Ok(admission) = service.admitted.clone().try_acquire_owned() else {
        service.counters.rejected.fetch_add(1, Relaxed);
        return Err(ApiError::new(
            ErrorCode::Busy,
            format!("the {} engine's queue is full; retry shortly", service.engine),
        ));
    };
    let scratch = tempfile::Builder::new()
        .prefix("scanpro-engine-")
        .tempdir_in(&service.settings.work_dir)
        .map_err(|e| ApiError::new(ErrorCode::InternalError, format!("scratch directory: {e}")))?;
    let (params, inputs) = receive(&service, multipart?, scratch.path()).await?;
    scanpro_tools::validate(&tool, &params, Some(inputs.len()))?;
    let out_dir = scratch.path().join("out");
    std::fs::create_dir(&out_dir).map_err(|e| ApiError::new(ErrorCode::InternalError, e.to_string()))?;

    let (lines, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        let _admission = admission;
        let progress_lines = lines.clone();
        let progress: ProgressFn = Arc::new(move |done| {
            // A full channel drops a progress line; a later one supersedes it anyway.
            let _ = progress_lines.try_send(Ok(line(&ServiceEvent::Progress(done))));
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
                _ = keep_alive.tick() => if lines.send(Ok(line(&ServiceEvent::Working))).await.is_err() {
                    // The client is gone: dropping `work` kills the engine's processes.
                    service.counters.abandoned.fetch_add(1, Relaxed);
                    return;
                },
            }
        };
        let counter = if result.is_ok() { &service.counters.succeeded } else { &service.counters.failed };
        counter.fetch_add(1, Relaxed);
        if let Err(e) = send_result(&lines, result).await {
            tracing::debug!(error = %e, "engine client went away while receiving its outputs");
        }
        drop(scratch);
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// Reads the `params` field and saves each `file` field under `dir`, within the upload limit.
async fn receive(
    service: &EngineService,
    mut multipart: Multipart,
    dir: &std::path::Path,
) -> Result<(serde_json::Value, Vec<Input>), ApiError> {
    let mut params = serde_json::json!({});
    let mut inputs = Vec::new();
    while let Some(mut field) = next_field(&mut multipart).await? {
        match field.name() {
            Some("params") => {
                let bytes = field.bytes().await.map_err(|e| ApiError::bad_request(format!("params: {e}")))?;
                if bytes.len() > MAX_PARAMS_BYTES {
                    return Err(ApiError::bad_request("params: larger than 64 KiB"));
                }
                params = serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::new(ErrorCode::InvalidParams, format!("params: not JSON: {e}")))?;
            }
            Some("file") => {
                let filename = field.file_name().unwrap_or("document").to_owned();
                let path = dir.join(format!("in-{}", inputs.len()));
                let io = |e: std::io::Error| ApiError::new(ErrorCode::InternalError, format!("saving {filename}: {e}"));
                let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
                let mut size = 0u64;
                while let Some(chunk) =
                    field.chunk().await.map_err(|e| ApiError::bad_request(format!("{filename}: {e}")))?
                {
                    size += chunk.len() as u64;
                    if size > service.settings.max_upload_bytes {
                        return Err(ApiError::new(
                            ErrorCode::FileTooLarge,
                            format!("{filename} is larger than the engine's upload limit"),
                        ));
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
    let step = match result {
        Ok(step) => step,
        Err(error) => return lines.send(Ok(line(&ServiceEvent::Failed(error)))).await.map_err(closed),
    };
    let mut outputs = Vec::with_capacity(step.outputs.len());
    for output in &step.outputs {
        let size = std::fs::metadata(&output.path).map_err(|e| e.to_string())?.len();
        let (filename, content_type) = (output.filename.clone(), output.content_type.clone());
        outputs.push(SentFile { filename, content_type, size });
    }
    lines.send(Ok(line(&ServiceEvent::Done { outputs, report: step.report }))).await.map_err(closed)?;
    for output in &step.outputs {
        let file = tokio::fs::File::open(&output.path).await.map_err(|e| e.to_string())?;
        let mut chunks = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
        while let Some(chunk) = futures::StreamExt::next(&mut chunks).await {
            lines.send(chunk).await.map_err(closed)?;
        }
    }
    Ok(())
}

fn line(event: &ServiceEvent) -> Bytes {
    let mut bytes = serde_json::to_vec(event).unwrap_or_else(|_| b"\"working\"".to_vec());
    bytes.push(b'\n');
    Bytes::from(bytes)
}
