//! How one step runs.
//!
//! Workers run each step in a child process (`scanpro step-exec`): the document is untrusted, and
//! a child can be killed at its deadline, capped in memory, and can crash (stack overflow, abort)
//! without taking the server down. The request goes in on stdin and the reply comes back on
//! stdout as JSON, so nothing from the user ever reaches a command line.

use scanpro_core::{ErrorCode, ToolError};
use scanpro_engines::{Limits, ProcessError, Subprocess};
use scanpro_tools::{Input, Output, StepResult};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Where steps run.
#[derive(Debug, Clone)]
pub enum StepRunner {
    /// In a child process of `exe step-exec`, under a deadline and resource limits.
    Subprocess { exe: PathBuf, timeout: Duration, limits: Limits },
    /// On a blocking thread of this process (tests; the CLI calls the tools directly).
    InProcess,
}

/// One step as sent to `scanpro step-exec`.
#[derive(Debug, Serialize, Deserialize)]
pub struct StepRequest {
    pub tool: String,
    pub params: serde_json::Value,
    pub inputs: Vec<StepFile>,
    pub out_dir: PathBuf,
    /// Inputs above this size take the streaming (qpdf) path; absent: the built-in default.
    #[serde(default)]
    pub large_input_bytes: Option<u64>,
}

/// A file crossing the process boundary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepFile {
    pub path: PathBuf,
    pub filename: String,
    #[serde(default)]
    pub content_type: String,
}

/// The child's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepReply {
    Done { outputs: Vec<StepFile>, report: Option<serde_json::Value> },
    Failed(ToolError),
}

impl StepRequest {
    /// Runs the request in this process: the body of `scanpro step-exec`.
    pub fn run_here(self) -> StepReply {
        if let Some(bytes) = self.large_input_bytes {
            scanpro_pdf::streaming::set_large_input_bytes(bytes);
        }
        let inputs: Vec<Input> =
            self.inputs.into_iter().map(|f| Input { path: f.path, filename: f.filename }).collect();
        let caught = std::panic::catch_unwind(|| scanpro_tools::run(&self.tool, &self.params, &inputs, &self.out_dir));
        match caught {
            Ok(Ok(result)) => StepReply::Done {
                outputs: result
                    .outputs
                    .into_iter()
                    .map(|o| StepFile { path: o.path, filename: o.filename, content_type: o.content_type })
                    .collect(),
                report: result.report,
            },
            Ok(Err(error)) => StepReply::Failed(error),
            Err(_) => {
                StepReply::Failed(ToolError::internal(format!("{} failed unexpectedly on this input", self.tool)))
            }
        }
    }
}

impl StepReply {
    fn into_result(self) -> Result<StepResult, ToolError> {
        match self {
            Self::Done { outputs, report } => Ok(StepResult {
                outputs: outputs
                    .into_iter()
                    .map(|f| Output { path: f.path, filename: f.filename, content_type: f.content_type })
                    .collect(),
                report,
            }),
            Self::Failed(error) => Err(error),
        }
    }
}

impl StepRunner {
    pub async fn run(&self, request: StepRequest) -> Result<StepResult, ToolError> {
        match self {
            Self::InProcess => tokio::task::spawn_blocking(move || request.run_here())
                .await
                .map_err(|e| ToolError::internal(format!("step thread failed: {e}")))?
                .into_result(),
            Self::Subprocess { exe, timeout, limits } => run_in_child(exe, *timeout, *limits, request).await,
        }
    }
}

async fn run_in_child(
    exe: &PathBuf,
    timeout: Duration,
    limits: Limits,
    request: StepRequest,
) -> Result<StepResult, ToolError> {
    let tool = request.tool.clone();
    let body = serde_json::to_vec(&request).map_err(|e| ToolError::internal(e.to_string()))?;
    let child = Subprocess::new(exe).arg("step-exec").stdin(body).timeout(timeout).limits(limits).run().await;
    let output = match child {
        Ok(output) => output,
        Err(ProcessError::Timeout { after, .. }) => {
            return Err(ToolError::new(
                ErrorCode::StepTimeout,
                format!("{tool} did not finish within {} s and was stopped", after.as_secs()),
            ));
        }
        Err(e) => return Err(ToolError::internal(e.to_string())),
    };
    match serde_json::from_slice::<StepReply>(&output.stdout) {
        Ok(reply) if output.status.success() => reply.into_result(),
        _ => {
            tracing::warn!(tool, status = %output.status, stderr = %output.stderr_tail, "step process crashed");
            let why = match output.signal() {
                Some(signal) => format!("it was stopped by signal {signal}"),
                None => format!("it exited with {}", output.status),
            };
            Err(ToolError::internal(format!("{tool} crashed on this input ({why})")))
        }
    }
}
