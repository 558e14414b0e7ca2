//! How one step runs.
//!
//! Workers run each Rust-native step in a child process (`scanpro step-exec`): the document is
//! untrusted, and a child can be killed at its deadline, capped in memory, and can crash (stack
//! overflow, abort) without taking the server down. The request goes in on stdin and the reply
//! comes back on stdout as JSON, so nothing from the user ever reaches a command line.
//!
//! Engine tools (LibreOffice, Ghostscript, OCR) run where their engine is: in this process, whose
//! engines are separate processes under the same runner, or on an engine service
//! ([`scanpro_engine_service`]).

use scanpro_core::{ErrorCode, ToolError};
use scanpro_engine_service::EngineClient;
use scanpro_process::progress::ProgressFn;
use scanpro_process::sandbox::{self, Grants};
use scanpro_process::{Limits, ProcessError, Subprocess};
use scanpro_tools::{Engine, EngineStatus, Input, LocalEngines, SigningSettings, StepResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

const SIGABRT: i32 = nix::sys::signal::Signal::SIGABRT as i32;

/// Where steps run: Rust-native tools in step processes, engine tools beside their engines.
#[derive(Clone)]
pub struct StepRunner {
    pub native: NativeSteps,
    pub engines: EngineRoutes,
}

/// Where Rust-native tools run.
#[derive(Debug, Clone)]
pub enum NativeSteps {
    /// In a child process of `exe step-exec`, under a deadline and resource limits.
    Subprocess { exe: PathBuf, timeout: Duration, limits: Limits },
    /// On a blocking thread of this process (tests; the CLI calls the tools directly).
    InProcess,
}

/// Where engine tools run: on the engine service configured for their engine, or else on this
/// process's own engines. Engines enforce their own deadlines (scaled to the document);
/// `ceiling` bounds a whole step however the engine behaves.
#[derive(Clone)]
pub struct EngineRoutes {
    pub local: LocalEngines,
    pub remote: BTreeMap<Engine, EngineClient>,
    pub ceiling: Duration,
}

/// One step as sent to `scanpro step-exec`.
#[derive(Debug, Serialize, Deserialize)]
pub struct StepRequest {
    pub tool: String,
    pub params: serde_json::Value,
    pub inputs: Vec<Input>,
    pub out_dir: PathBuf,
    /// Inputs above this size take the streaming (qpdf) path; absent: the built-in default.
    #[serde(default)]
    pub large_input_bytes: Option<u64>,
    /// The job the step belongs to, passed on to engine services for their logs.
    #[serde(default)]
    pub job: Option<String>,
    /// The signature tools' time-stamping authority and trust store, for their steps only.
    #[serde(default)]
    pub signing: Option<SigningSettings>,
}

/// The child's answer, on stdout.
pub type StepReply = Result<StepResult, ToolError>;

impl StepRequest {
    /// Runs the request in this process: the body of `scanpro step-exec`.
    pub fn run_here(self) -> StepReply {
        // Programs the tool runs (qpdf, pdftoppm) may open the step's files; in a step process
        // they inherit its confinement instead.
        sandbox::grant_process(&self.grants());
        if let Some(bytes) = self.large_input_bytes {
            scanpro_pdf::streaming::set_large_input_bytes(bytes);
        }
        if let Some(signing) = &self.signing {
            scanpro_tools::signing::configure(signing.clone());
        }
        let caught =
            std::panic::catch_unwind(|| scanpro_tools::run(&self.tool, &self.params, &self.inputs, &self.out_dir));
        caught.unwrap_or_else(|_| Err(ToolError::internal(format!("{} failed unexpectedly on this input", self.tool))))
    }
}

impl StepRequest {
    /// What the step may touch: its inputs, and its output directory.
    fn grants(&self) -> Grants {
        let grants =
            self.inputs.iter().fold(Grants::new().write(&self.out_dir), |grants, input| grants.read(&input.path));
        // `digital_sign` may connect to the time-stamping authority's port. Landlock rules are by
        // port, not host: the step could reach that port elsewhere too, so the grant exists only
        // when an authority is configured, and only for that tool.
        match self.signing.as_ref().and_then(SigningSettings::tsa_port) {
            Some(port) => grants.tcp_port(port),
            None => grants,
        }
    }
}

impl StepRunner {
    /// Runs one step; `progress` hears of pages done where the tool reports them. A routing tool
    /// (`convert`) runs as the tool its inputs call for, which its report names.
    pub async fn run(&self, mut request: StepRequest, progress: ProgressFn) -> Result<StepResult, ToolError> {
        let (tool, params) = scanpro_tools::resolve(&request.tool, &request.params, &request.inputs)?;
        let routed = tool != request.tool;
        (request.tool, request.params) = (tool.to_owned(), params);
        let result = match scanpro_tools::engine_of(tool) {
            Some(engine) => self.engines.run(engine, request, progress).await,
            None => self.native.run(request).await,
        };
        if routed { result.map(|result| result.ran_as(tool)) } else { result }
    }
}

impl NativeSteps {
    async fn run(&self, request: StepRequest) -> Result<StepResult, ToolError> {
        match self {
            Self::InProcess => tokio::task::spawn_blocking(move || request.run_here())
                .await
                .map_err(|e| ToolError::internal(format!("step thread failed: {e}")))?,
            Self::Subprocess { exe, timeout, limits } => run_in_child(exe, *timeout, *limits, request).await,
        }
    }
}

impl EngineRoutes {
    async fn run(&self, engine: Engine, request: StepRequest, progress: ProgressFn) -> Result<StepResult, ToolError> {
        let StepRequest { tool, params, inputs, out_dir, .. } = &request;
        let step = async {
            match self.remote.get(&engine) {
                Some(client) => {
                    let client = request.job.as_ref().map_or_else(|| client.clone(), |job| client.for_job(job.clone()));
                    client.run(tool, params, inputs, out_dir, progress).await
                }
                None => scanpro_tools::run_engine(tool, params, inputs, out_dir, &self.local, progress).await,
            }
        };
        tokio::time::timeout(self.ceiling, step).await.unwrap_or_else(|_| {
            Err(ToolError::new(
                ErrorCode::StepTimeout,
                format!("{tool} did not finish within {} s and was stopped", self.ceiling.as_secs()),
            ))
        })
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
    let child = Subprocess::new(exe)
        .arg("step-exec")
        .stdin(body)
        .timeout(timeout)
        .limits(limits)
        .confine_to(request.grants())
        .run()
        .await;
    let output = match child {
        Ok(output) => output,
        Err(ProcessError::Timeout { after, .. }) => {
            return Err(ToolError::new(
                ErrorCode::StepTimeout,
                format!("{tool} did not finish within {} s and was stopped", after.as_secs()),
            ));
        }
        Err(e @ ProcessError::Sandbox { .. }) => return Err(ToolError::new(ErrorCode::Unavailable, e.to_string())),
        Err(e) => return Err(ToolError::internal(e.to_string())),
    };
    match serde_json::from_slice::<StepReply>(&output.stdout) {
        Ok(reply) if output.status.success() => reply,
        _ => {
            tracing::warn!(tool, status = %output.status, stderr = %output.stderr_tail, "step process crashed");
            // Under the address-space limit a failed allocation aborts the process: the input
            // needs more memory than a step may have.
            if let (Some(SIGABRT), Some(limit)) = (output.signal(), limits.memory_bytes) {
                return Err(ToolError::new(
                    ErrorCode::ResourceLimit,
                    format!("{tool} needs more than the {} MB a step may use on this input", limit / (1024 * 1024)),
                ));
            }
            let why = match output.signal() {
                Some(signal) => format!("it was stopped by signal {signal}"),
                None => format!("it exited with {}", output.status),
            };
            Err(ToolError::internal(format!("{tool} crashed on this input ({why})")))
        }
    }
}

impl EngineRoutes {
    /// Every engine as this process can use it: through its service where one is configured
    /// (available when the service answers its health check), else here.
    /// The services are asked at once, so one that hangs costs its timeout (3 s) once.
    pub async fn status(&self) -> Vec<EngineStatus> {
        let asked = self.local.status().await.into_iter().map(|status| async move {
            let Some(client) = self.remote.get(&status.engine) else { return status };
            let (available, detail) = match client.health().await {
                Ok(_) => (true, format!("engine service at {}", client.base())),
                Err(why) => (false, format!("engine service unreachable: {why}")),
            };
            EngineStatus { engine: status.engine, available, detail }
        });
        futures::future::join_all(asked).await
    }
}
