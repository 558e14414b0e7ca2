//! The tool catalogue: every tool's name, description, input rule and parameter schema, and the
//! one entry point that runs a tool step. The worker's step executor, the CLI (`scanpro run`)
//! and the API's tool list all go through here, so a tool behaves the same everywhere.
//!
//! A step takes input files (user file names kept beside storage paths), JSON parameters
//! checked against the tool's typed parameters (`scanpro_core::params`), and an empty output
//! directory; it returns the files it wrote and, for tools that answer a question (`info`), a
//! JSON report.
//!
//! Tools that take one document and make documents (`split`, `rotate`) accept several inputs and
//! treat each separately, so they can follow a step that produced several files.
//!
//! # Layout
//! - [`catalogue`](mod@catalogue): [`ToolInfo`], [`InputRule`], [`catalogue()`], [`find`].
//! - [`params`]: JSON parameters into typed ones, with errors that name the field; [`validate`].
//! - [`step`]: [`Input`], [`Output`], [`StepResult`], [`run`]: input checks, then a Rust-native
//!   tool; [`resolve`]: the tool a routing tool (`convert`) runs as.
//! - [`engines`]: tools that drive an external engine: [`Engine`], [`LocalEngines`] (the warm
//!   LibreOffice pool and the others' settings), [`run_engine`].
//! - `tools`: the registry, one module per tool (`merge`, `split`, `rotate`, `info`, the page
//!   tools, `watermark`, `page_numbers`, `sign`, `protect`, `unlock`, `metadata`, `repair`,
//!   `images_to_pdf`, `pdf_to_image`, `thumbnails`; `office` holds the LibreOffice conversions;
//!   `convert` runs as whichever conversion its input and `to` call for).
//! - `names`: output file names derived from the user's file names.

pub mod catalogue;
pub mod engines;
mod names;
pub mod params;
pub mod step;
mod tools;

pub use catalogue::{InputRule, ToolInfo, catalogue, find};
pub use engines::{Engine, EngineSettings, EngineStatus, LocalEngines, engine_of, job_engine, run_engine, step_engine};
pub use params::validate;
pub use step::{Input, Output, StepResult, detect_content_type, resolve, run};
