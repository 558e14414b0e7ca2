//! The tool catalogue: every tool's name, description, input rule and parameter schema, and the
//! one entry point that runs a tool step. The worker's step executor, the CLI (`scanpro run`)
//! and the API's tool list all go through here, so a tool behaves the same everywhere.
//!
//! A step takes input files (user file names kept beside storage paths), JSON parameters
//! checked against the tool's typed parameters, and an empty output directory; it returns the
//! files it wrote and, for tools that answer a question (`info`), a JSON report.
//!
//! Tools that take one document and make documents (`split`, `rotate`) accept several inputs and
//! treat each separately, so they can follow a step that produced several files.
//!
//! # Adding a tool
//! Copy `src/tools/rotate.rs` (Rust-native) or `src/tools/compress.rs` (an engine's): one file
//! holds the tool's parameters (serde + `JsonSchema` + `Validate`, doc comments become the
//! schema's descriptions, hints such as `#[schemars(transform = advanced)]` shape the web form),
//! its catalogue entry (`Tool::native::<Params>(About { … })` or `Tool::engine::<Params>(engine,
//! …)`), and its `run`, implemented on the parameters (`NativeTool` or `EngineTool`). Then add
//! the module and its `TOOL` to the list in `src/tools/mod.rs`. The API, the CLI, the web app,
//! job validation and the engine services pick it up from the catalogue.
//!
//! # Adding an engine
//! The driver is one module of `scanpro_engines` (see `office/` for a pool of warm processes,
//! `ghostscript/` for a program run per step), started under `scanpro_process`'s runner and
//! sandbox. It is registered in [`engines`]: a variant of [`Engine`] (with its name and how
//! slow it is, which picks the queue class of jobs that need it), its settings in
//! [`EngineSettings`], and its status in [`LocalEngines`]. `scanpro engine NAME` serves it to
//! workers elsewhere with no further code (`scanpro_engine_service`), and `{name}_url` in the
//! configuration sends its steps there.
//!
//! # Layout
//! - [`catalogue`](mod@catalogue): [`ToolInfo`], [`InputRule`], [`catalogue()`], [`find`].
//! - [`params`]: JSON parameters into typed ones, with errors that name the field; [`validate`].
//! - [`step`]: [`Input`], [`Output`], [`StepResult`], [`run`]: input checks, then a Rust-native
//!   tool; [`resolve`]: the tool a routing tool (`convert`) runs as.
//! - [`engines`]: tools that drive an external engine: [`Engine`], [`LocalEngines`] (the warm
//!   LibreOffice pool and the others' settings), [`run_engine`].
//! - `tools`: the registry and one module per tool, each with its parameters and its `run`;
//!   `office`, `optimize` and `page_outputs` hold what several tools share; `convert` runs as
//!   whichever conversion its input and `to` call for.
//! - [`signing`]: the time-stamping authority and trust store of the signature tools.
//! - `names`: output file names derived from the user's file names.

pub mod catalogue;
pub mod engines;
mod names;
pub mod params;
pub mod signing;
pub mod step;
mod tools;

pub use catalogue::{InputRule, ToolInfo, catalogue, find};
pub use engines::{Engine, EngineSettings, EngineStatus, LocalEngines, engine_of, job_engine, run_engine, step_engine};
pub use params::validate;
pub use signing::SigningSettings;
pub use step::{Input, Output, StepResult, detect_content_type, resolve, run};
