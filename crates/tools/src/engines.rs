//! Tools that drive an external engine (LibreOffice, Chromium, Ghostscript, OCRmyPDF).
//!
//! Rust-native tools run in a child `scanpro step-exec` process; engine tools do not need one, as
//! the engine is already a separate process under the subprocess runner (deadline, memory cap,
//! process group). They run in the long-lived process that holds the engine handles, above all
//! the warm LibreOffice pool: a worker, or a `scanpro engine …` service.

use crate::catalogue::tool;
use crate::step::{Input, StepResult, check_inputs, resolve};
use crate::tools::Runner;
use scanpro_core::{ErrorCode, ToolError};
use scanpro_engines::chromium::{ChromiumConfig, ChromiumPool};
use scanpro_engines::ghostscript::GhostscriptConfig;
use scanpro_engines::ocr::OcrConfig;
use scanpro_engines::office::{OfficeConfig, OfficePool};
use scanpro_process::progress::ProgressFn;
use scanpro_process::sandbox::Grants;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// An external engine, named as in `scanpro engine NAME` and the `*_url` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Libreoffice,
    Chromium,
    Ghostscript,
    Ocr,
}

impl Engine {
    pub const ALL: [Self; 4] = [Self::Libreoffice, Self::Chromium, Self::Ghostscript, Self::Ocr];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Libreoffice => "libreoffice",
            Self::Chromium => "chromium",
            Self::Ghostscript => "ghostscript",
            Self::Ocr => "ocr",
        }
    }
}

impl std::str::FromStr for Engine {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|engine| engine.as_str() == name)
            .ok_or_else(|| format!("unknown engine \"{name}\"; one of libreoffice, chromium, ghostscript, ocr"))
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an engine can take work here, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineStatus {
    pub engine: Engine,
    pub available: bool,
    /// The version found, or why the engine cannot run.
    pub detail: String,
}

/// Settings of the engines run in this process.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    pub office: OfficeConfig,
    pub chromium: ChromiumConfig,
    pub ghostscript: GhostscriptConfig,
    pub ocr: OcrConfig,
}

/// The engines of this process: the warm LibreOffice pool, the warm browsers and the settings of
/// the others. Cheap to clone.
#[derive(Clone)]
pub struct LocalEngines {
    office: Result<OfficePool, String>,
    chromium: Result<ChromiumPool, String>,
    settings: Arc<EngineSettings>,
    /// Ghostscript's and OCRmyPDF's versions (or why they are missing), asked once.
    versions: Arc<OnceCell<[EngineStatus; 2]>>,
}

impl LocalEngines {
    /// Prepares every engine. One that cannot start is reported by [`Self::status`] and fails its
    /// tools with `unavailable`; the others work.
    pub async fn start(settings: EngineSettings) -> Self {
        let office = OfficePool::start(settings.office.clone()).await.map_err(|e| e.to_string());
        if let Err(why) = &office {
            tracing::warn!(why, "LibreOffice tools are unavailable");
        }
        let chromium = ChromiumPool::start(settings.chromium.clone()).await.map_err(|e| e.to_string());
        if let Err(why) = &chromium {
            tracing::warn!(why, "Chromium tools are unavailable");
        }
        Self { office, chromium, settings: Arc::new(settings), versions: Arc::default() }
    }

    /// Sets the gauges of the LibreOffice pool and the Chromium browsers, where they run in this
    /// process.
    pub fn record_pool_metrics(&self) {
        use scanpro_core::metrics::{
            CHROMIUM_BROWSERS, CHROMIUM_REPLACED, OFFICE_POOL_INSTANCES, OFFICE_POOL_REPLACED,
        };
        let record = |gauge: &'static str, counter: &'static str, states: [usize; 4], restarts: u64, recycled: u64| {
            for (state, count) in ["configured", "alive", "idle", "busy"].into_iter().zip(states) {
                metrics::gauge!(gauge, "state" => state).set(count as f64);
            }
            metrics::counter!(counter, "reason" => "recycled").absolute(recycled);
            metrics::counter!(counter, "reason" => "restarted").absolute(restarts.saturating_sub(recycled));
        };
        if let Ok(pool) = &self.office {
            let pool = pool.status();
            let states = [pool.instances, pool.alive, pool.idle, pool.busy];
            record(OFFICE_POOL_INSTANCES, OFFICE_POOL_REPLACED, states, pool.restarts, pool.recycled);
        }
        if let Ok(pool) = &self.chromium {
            let pool = pool.status();
            let states = [pool.instances, pool.alive, pool.idle, pool.busy];
            record(CHROMIUM_BROWSERS, CHROMIUM_REPLACED, states, pool.restarts, pool.recycled);
        }
    }

    /// Every engine, available or not, with its version or the reason.
    pub async fn status(&self) -> Vec<EngineStatus> {
        let office = match &self.office {
            Ok(pool) => {
                let pool = pool.status();
                let detail = format!("{} of {} instances running, {} busy", pool.alive, pool.instances, pool.busy);
                EngineStatus { engine: Engine::Libreoffice, available: true, detail }
            }
            Err(why) => EngineStatus { engine: Engine::Libreoffice, available: false, detail: why.clone() },
        };
        let chromium = match &self.chromium {
            Ok(pool) => {
                let browsers = pool.status();
                let detail = format!(
                    "{}, {} of {} browsers running, {} busy",
                    pool.version(),
                    browsers.alive,
                    browsers.instances,
                    browsers.busy
                );
                EngineStatus { engine: Engine::Chromium, available: true, detail }
            }
            Err(why) => EngineStatus { engine: Engine::Chromium, available: false, detail: why.clone() },
        };
        let [ghostscript, ocr] = self.versions.get_or_init(|| self.ask_versions()).await.clone();
        let mut statuses = vec![office, chromium, ghostscript, ocr];
        // No engine runs unconfined: without the sandbox none is available, and each says why.
        match scanpro_process::sandbox::describe() {
            Ok(sandbox) => {
                statuses.iter_mut().filter(|s| s.available).for_each(|s| s.detail.push_str(&format!("; {sandbox}")))
            }
            Err(why) => {
                for status in &mut statuses {
                    *status = EngineStatus {
                        engine: status.engine,
                        available: false,
                        detail: format!(
                            "the engine sandbox cannot run here ({why}); set engine_sandbox = \"off\" only where engines are isolated otherwise"
                        ),
                    };
                }
            }
        }
        statuses
    }

    async fn ask_versions(&self) -> [EngineStatus; 2] {
        let (ghostscript, ocr) = tokio::join!(
            scanpro_engines::ghostscript::available(&self.settings.ghostscript),
            scanpro_engines::ocr::available(&self.settings.ocr),
        );
        let ghostscript = match ghostscript {
            Ok(versions) => EngineStatus { engine: Engine::Ghostscript, available: true, detail: versions.to_string() },
            Err(why) => EngineStatus { engine: Engine::Ghostscript, available: false, detail: why },
        };
        let ocr = match ocr {
            Ok(info) => EngineStatus {
                engine: Engine::Ocr,
                available: true,
                detail: format!(
                    "{}, {}, languages {}",
                    info.ocrmypdf_version,
                    info.tesseract_version,
                    info.languages.join(" ")
                ),
            },
            Err(why) => EngineStatus { engine: Engine::Ocr, available: false, detail: why.message },
        };
        for status in [&ghostscript, &ocr].into_iter().filter(|s| !s.available) {
            tracing::warn!(engine = %status.engine, why = status.detail, "engine unavailable");
        }
        [ghostscript, ocr]
    }

    pub(crate) fn ghostscript(&self) -> &GhostscriptConfig {
        &self.settings.ghostscript
    }

    pub(crate) fn ocr(&self) -> &OcrConfig {
        &self.settings.ocr
    }

    pub(crate) fn chromium(&self) -> Result<&ChromiumPool, ToolError> {
        self.chromium.as_ref().map_err(|why| ToolError::new(ErrorCode::Unavailable, format!("Chromium: {why}")))
    }

    /// The warm browsers, for tests that crash one.
    pub fn chromium_pool(&self) -> Option<&ChromiumPool> {
        self.chromium.as_ref().ok()
    }

    pub(crate) fn office(&self) -> Result<&OfficePool, ToolError> {
        self.office.as_ref().map_err(|why| ToolError::new(ErrorCode::Unavailable, format!("LibreOffice: {why}")))
    }

    /// Stops the engines' long-lived processes.
    pub async fn shutdown(&self) {
        if let Ok(pool) = &self.office {
            pool.shutdown().await;
        }
        if let Ok(pool) = &self.chromium {
            pool.shutdown().await;
        }
    }
}

/// One engine step: what a tool's engine function gets.
pub(crate) struct EngineStep<'a> {
    pub params: &'a serde_json::Value,
    pub inputs: &'a [Input],
    pub out_dir: &'a Path,
    pub engines: &'a LocalEngines,
    pub progress: ProgressFn,
}

pub(crate) type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<StepResult, ToolError>> + Send + 'a>>;

/// The engine behind `tool_name`, or `None` for a Rust-native tool, a routing tool (`convert`,
/// whose engine depends on its inputs: see [`step_engine`]) and an unknown one.
pub fn engine_of(tool_name: &str) -> Option<Engine> {
    match tool(tool_name).ok()?.runner {
        Runner::Native(_) | Runner::Route(_) => None,
        Runner::Engine(engine, _) => Some(engine),
    }
}

/// The engine a step needs, told before it runs. A routing tool (`convert`) decides from its
/// parameters and its inputs' MIME types (`None` when not known yet: the slowest engine it may
/// need), and refuses a conversion its inputs cannot make.
pub fn step_engine(
    tool_name: &str,
    params: &serde_json::Value,
    input_types: Option<&[&str]>,
) -> Result<Option<Engine>, ToolError> {
    match tool(tool_name)?.runner {
        Runner::Native(_) => Ok(None),
        Runner::Engine(engine, _) => Ok(Some(engine)),
        Runner::Route(router) => (router.engine)(params, input_types),
    }
}

/// The engine whose workers should run a job whose steps need `engines`: the slowest of them
/// (OCR, then LibreOffice, then Chromium, then Ghostscript), so each engine's queue scales on its own; `None`
/// when every step is Rust-native.
pub fn job_engine(engines: impl IntoIterator<Item = Engine>) -> Option<Engine> {
    slowest(engines)
}

pub(crate) fn slowest(engines: impl IntoIterator<Item = Engine>) -> Option<Engine> {
    let rank = |engine: &Engine| match engine {
        Engine::Ocr => 4,
        Engine::Libreoffice => 3,
        Engine::Chromium => 2,
        Engine::Ghostscript => 1,
    };
    engines.into_iter().max_by_key(rank)
}

/// Runs an engine tool's step in this process: validates, checks the inputs, runs the engine.
pub async fn run_engine(
    tool_name: &str,
    params: &serde_json::Value,
    inputs: &[Input],
    out_dir: &Path,
    engines: &LocalEngines,
    progress: ProgressFn,
) -> Result<StepResult, ToolError> {
    let (tool_name, params) = resolve(tool_name, params, inputs)?;
    let tool = tool(tool_name)?;
    let Runner::Engine(_, run) = tool.runner else {
        return Err(ToolError::internal(format!("{tool_name} is not an engine tool")));
    };
    check_inputs(tool, inputs)?;
    // The engine's programs may open this step's inputs and its output directory, nothing else.
    let grants = inputs.iter().fold(Grants::new().write(out_dir), |grants, input| grants.read(&input.path));
    scanpro_process::sandbox::scope(grants, run(EngineStep { params: &params, inputs, out_dir, engines, progress }))
        .await
}
