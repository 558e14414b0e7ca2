//! Engine services: how a worker hands an engine step to `scanpro engine NAME` over HTTP, and the
//! wire format both sides share.
//!
//! `POST {base}/v1/steps/{tool}` takes a multipart form: a `params` field (JSON) and one `file`
//! field per input, in order. A service whose queue is full answers `429` with `Retry-After`
//! before reading the documents. Otherwise it answers `200` with a stream of JSON lines
//! ([`ServiceEvent`]): progress and keep-alive lines while the engine works, then `done` followed
//! by the output files' bytes back to back (their sizes are in the `done` line), or `failed`.
//! Streaming keeps the answer stateless and lets each side notice when the other goes away: the
//! worker's cancel closes the connection, the service's next keep-alive write fails, and it kills
//! the engine.

use crate::steps::StepRequest;
use bytes::{Buf, BytesMut};
use futures::StreamExt;
use scanpro_core::{ErrorCode, ToolError};
use scanpro_process::progress::{PageProgress, ProgressFn};
use scanpro_tools::{Output, StepResult};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// How often a service writes a keep-alive line while its engine works.
pub const KEEP_ALIVE: Duration = Duration::from_secs(2);

/// Longest JSON line a client accepts (a `done` line carries the report).
const MAX_LINE: usize = 4 * 1024 * 1024;

/// One line of a service's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceEvent {
    Progress(PageProgress),
    Working,
    /// The outputs follow this line, in order, `size` bytes each.
    Done {
        outputs: Vec<SentFile>,
        report: Option<serde_json::Value>,
    },
    Failed(ToolError),
}

/// An output file announced by a `done` line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SentFile {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
}

/// A client of one engine service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct EngineClient {
    base: String,
    http: reqwest::Client,
}

impl EngineClient {
    /// A client of the service at `base` (`http://host:port`).
    /// With `token`, every request carries `Authorization: Bearer <token>`.
    pub fn new(base: &str, token: Option<&str>) -> Result<Self, String> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!("engine URL {base:?} must start with http:// or https://"));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(token) = token {
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| "engine_token must be printable ASCII".to_owned())?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        // No overall timeout: a step lasts as long as its engine needs (the worker bounds it);
        // the keep-alive lines show the service is still there.
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(KEEP_ALIVE * 10)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { base, http })
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

    /// Whether the service refuses this client's token: it answers before reading a refused
    /// upload, which then ends as a failed send.
    async fn refused_token(&self) -> Option<ToolError> {
        let response =
            self.http.get(format!("{}/metrics", self.base)).timeout(Duration::from_secs(3)).send().await.ok()?;
        (response.status() == reqwest::StatusCode::UNAUTHORIZED).then(refusal_of_token)
    }

    /// Runs `request` on the service and writes its outputs into `request.out_dir`.
    pub async fn run(&self, request: &StepRequest, progress: ProgressFn) -> Result<StepResult, ToolError> {
        let unreachable = |e: reqwest::Error| {
            ToolError::new(ErrorCode::Unavailable, format!("engine service {} is unreachable: {e}", self.base))
        };
        let mut form = reqwest::multipart::Form::new().text("params", request.params.to_string());
        for input in &request.inputs {
            let file = tokio::fs::File::open(&input.path)
                .await
                .map_err(|e| ToolError::internal(format!("cannot read input {}: {e}", input.path.display())))?;
            let size = file.metadata().await.map(|m| m.len()).unwrap_or(0);
            let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::from(file), size)
                .file_name(input.filename.clone());
            form = form.part("file", part);
        }
        let url = format!("{}/v1/steps/{}", self.base, request.tool);
        let response = match self.http.post(url).multipart(form).send().await {
            Ok(response) => response,
            Err(error) => return Err(self.refused_token().await.unwrap_or_else(|| unreachable(error))),
        };
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        let mut body = response.bytes_stream();
        let mut buffer = BytesMut::new();
        loop {
            let Some(end) = buffer.iter().position(|b| *b == b'\n') else {
                if buffer.len() > MAX_LINE {
                    return Err(ToolError::internal(format!("engine service {} sent a line too long", self.base)));
                }
                match body.next().await {
                    Some(chunk) => buffer.extend_from_slice(&chunk.map_err(unreachable)?),
                    None => return Err(self.cut_off()),
                }
                continue;
            };
            let line = buffer.split_to(end + 1);
            let event: ServiceEvent = serde_json::from_slice(&line).map_err(|e| {
                ToolError::internal(format!("engine service {} sent an unreadable line: {e}", self.base))
            })?;
            match event {
                ServiceEvent::Progress(done) => progress(done),
                ServiceEvent::Working => {}
                ServiceEvent::Failed(error) => return Err(error),
                ServiceEvent::Done { outputs, report } => {
                    let mut written = Vec::with_capacity(outputs.len());
                    for file in outputs {
                        let path = request.out_dir.join(safe_name(&file.filename, written.len()));
                        self.receive(&mut buffer, &mut body, &path, file.size).await?;
                        written.push(Output { path, filename: file.filename, content_type: file.content_type });
                    }
                    return Ok(StepResult { outputs: written, report });
                }
            }
        }
    }

    /// Writes the next `size` bytes of the answer (what is buffered first) into `path`.
    async fn receive(
        &self,
        buffer: &mut BytesMut,
        body: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
        path: &std::path::Path,
        size: u64,
    ) -> Result<(), ToolError> {
        let write_error = |e: std::io::Error| ToolError::internal(format!("cannot write {}: {e}", path.display()));
        let mut file = tokio::fs::File::create(path).await.map_err(write_error)?;
        let mut left = size;
        while left > 0 {
            if buffer.is_empty() {
                match body.next().await {
                    Some(chunk) => buffer.extend_from_slice(&chunk.map_err(|e| {
                        ToolError::new(ErrorCode::Unavailable, format!("engine service {}: {e}", self.base))
                    })?),
                    None => return Err(self.cut_off()),
                }
            }
            let take = buffer.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            file.write_all(&buffer[..take]).await.map_err(write_error)?;
            buffer.advance(take);
            left -= take as u64;
        }
        file.flush().await.map_err(write_error)
    }

    fn cut_off(&self) -> ToolError {
        ToolError::new(ErrorCode::Unavailable, format!("engine service {} closed the connection mid-answer", self.base))
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
