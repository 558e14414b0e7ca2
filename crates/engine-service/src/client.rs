//! A worker's side of an engine service.

use crate::wire::{EventReader, JOB_HEADER, KEEP_ALIVE, ServiceEvent, WireError, step_path};
use scanpro_core::{ErrorCode, ToolError};
use scanpro_process::progress::ProgressFn;
use scanpro_tools::{Input, StepResult};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// A client of one engine service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EngineClient {
    base: String,
    http: reqwest::Client,
    /// The job its steps belong to, sent in [`JOB_HEADER`] for the service's logs.
    job: Option<String>,
}

/// Why a client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("engine URL {0:?} must start with http:// or https://")]
    NotHttp(String),
    #[error("engine_token must be printable ASCII")]
    TokenNotAscii,
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

impl EngineClient {
    /// A client of the service at `base` (`http://host:port`).
    /// With `token`, every request carries `Authorization: Bearer <token>`.
    pub fn new(base: &str, token: Option<&str>) -> Result<Self, ClientError> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::NotHttp(base));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = token {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| ClientError::TokenNotAscii)?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        // No overall timeout: a step lasts as long as its engine needs (the worker bounds it);
        // the keep-alive lines show the service is still there.
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(KEEP_ALIVE * 10)
            .build()?;
        Ok(Self { base, http, job: None })
    }

    /// This client for the steps of `job`: the service's log lines about them carry its id.
    pub fn for_job(&self, job: impl Into<String>) -> Self {
        Self { job: Some(job.into()), ..self.clone() }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The service's `/healthz` answer, or why it could not be had.
    pub async fn health(&self) -> Result<serde_json::Value, String> {
        let response = self
            .http
            .get(format!("{}/healthz", self.base))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .map_err(|e| format!("{}: {e}", self.base))?;
        if !response.status().is_success() {
            return Err(format!("{} answered {}", self.base, response.status()));
        }
        response.json().await.map_err(|e| format!("{}: {e}", self.base))
    }

    /// Runs a step of `tool` on the service and writes its outputs into `out_dir`.
    pub async fn run(
        &self,
        tool: &str,
        params: &serde_json::Value,
        inputs: &[Input],
        out_dir: &Path,
        progress: ProgressFn,
    ) -> Result<StepResult, ToolError> {
        let mut form = reqwest::multipart::Form::new().text("params", params.to_string());
        for input in inputs {
            let file = tokio::fs::File::open(&input.path)
                .await
                .map_err(|e| ToolError::internal(format!("cannot read input {}: {e}", input.path.display())))?;
            let size = file.metadata().await.map(|m| m.len()).unwrap_or(0);
            let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::from(file), size)
                .file_name(input.filename.clone());
            form = form.part("file", part);
        }
        let url = format!("{}{}", self.base, step_path(tool));
        let mut post = self.http.post(url).multipart(form);
        if let Some(job) = &self.job {
            post = post.header(JOB_HEADER, job);
        }
        let response = match post.send().await {
            Ok(response) => response,
            Err(error) => {
                return Err(self.refused_token().await.unwrap_or_else(|| {
                    ToolError::new(
                        ErrorCode::Unavailable,
                        format!("engine service {} is unreachable: {error}", self.base),
                    )
                }));
            }
        };
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        let mut answer = EventReader::new(response.bytes_stream());
        let (mut result, sizes) = loop {
            match answer.next_event().await.map_err(|e| self.broken(e))? {
                ServiceEvent::Progress(done) => progress(done),
                ServiceEvent::Working => {}
                ServiceEvent::Failed(error) => return Err(error),
                ServiceEvent::Done { result, sizes } => break (result, sizes),
            }
        };
        if sizes.len() != result.outputs.len() {
            return Err(self.broken(WireError::Transport("output sizes do not match the outputs".into())));
        }
        for (index, (output, size)) in result.outputs.iter_mut().zip(sizes).enumerate() {
            output.path = out_dir.join(safe_name(&output.filename, index));
            let write_error =
                |e: std::io::Error| ToolError::internal(format!("cannot write {}: {e}", output.path.display()));
            let mut file = tokio::fs::File::create(&output.path).await.map_err(write_error)?;
            answer.copy_to(size, &mut file).await.map_err(|e| match e {
                WireError::Write(e) => write_error(e),
                e => self.broken(e),
            })?;
        }
        Ok(result)
    }

    /// Whether the service refuses this client's token: it answers before reading a refused
    /// upload, which then ends as a failed send.
    async fn refused_token(&self) -> Option<ToolError> {
        let response =
            self.http.get(format!("{}/metrics", self.base)).timeout(Duration::from_secs(3)).send().await.ok()?;
        (response.status() == reqwest::StatusCode::UNAUTHORIZED).then(refusal_of_token)
    }

    /// An answer that broke off or made no sense: the service (or the way to it) failed, not the
    /// document.
    fn broken(&self, error: WireError) -> ToolError {
        let code = match error {
            WireError::Closed | WireError::Transport(_) => ErrorCode::Unavailable,
            WireError::LineTooLong | WireError::Unreadable(_) | WireError::Write(_) => ErrorCode::InternalError,
        };
        ToolError::new(code, format!("engine service {}: {error}", self.base))
    }
}

/// The error a service's non-200 answer carries (problem+json with a `code`).
async fn refusal(response: reqwest::Response) -> ToolError {
    #[derive(Deserialize)]
    struct Problem {
        code: ErrorCode,
        detail: String,
    }
    let status = response.status();
    match response.json::<Problem>().await {
        Ok(problem) if problem.code == ErrorCode::Unauthorized => refusal_of_token(),
        Ok(problem) => ToolError::new(problem.code, problem.detail),
        Err(_) => ToolError::new(ErrorCode::Unavailable, format!("engine service answered {status}")),
    }
}

/// The worker's token, not the user's request, was refused: the deployment is misconfigured.
fn refusal_of_token() -> ToolError {
    ToolError::new(
        ErrorCode::Unavailable,
        "the engine service refused this server's engine_token; set the same SCANPRO_ENGINE_TOKEN on both",
    )
}

/// Output names come from the service: keep only a plain file name.
fn safe_name(filename: &str, index: usize) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or_default();
    if base.is_empty() || base == "." || base == ".." { format!("output-{index}") } else { base.to_owned() }
}
