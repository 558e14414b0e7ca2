//! The registry: every tool, in catalogue order, with the functions behind it.

mod attach;
mod attachments;
mod booklet;
mod bookmarks;
mod compare;
mod compress;
mod convert;
mod convert_office;
mod crop;
mod digital_sign;
mod extract_pages;
mod fill_form;
mod flatten;
mod form_fields;
mod grayscale;
mod html_to_pdf;
mod images_to_pdf;
mod info;
mod markdown_to_pdf;
mod merge;
mod metadata;
mod n_up;
mod ocr;
mod office;
mod office_to_pdf;
mod optimize;
mod overlay;
mod page_numbers;
mod page_outputs;
mod paper;
mod pdf_to_html;
mod pdf_to_image;
mod pdf_to_markdown;
mod pdf_to_office;
mod pdf_to_text;
mod pdfa;
mod pdfua;
mod protect;
mod redact;
mod remove_annotations;
mod remove_blank_pages;
mod remove_pages;
mod reorder;
mod repair;
mod rotate;
mod sanitize;
mod scale_pages;
mod screenshot;
mod sign;
mod split;
mod thumbnails;
mod unlock;
mod url_to_pdf;
mod verify_signatures;
mod watermark;
mod web;

use crate::catalogue::{InputRule, ToolInfo};
use crate::engines::{Engine, EngineStep, StepFuture};
use crate::params::{parse, schema};
use crate::step::{Input, Output, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One tool: its catalogue entry, and the functions that check and run it. Made by
/// [`Tool::native`], [`Tool::engine`] or [`Tool::route`] from the tool's parameter type, so the
/// type is named once.
pub(crate) struct Tool {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) group: &'static str,
    pub(crate) inputs: InputRule,
    pub(crate) schema: fn() -> Value,
    /// Parses and validates the parameters.
    pub(crate) check: fn(&Value) -> Result<(), ToolError>,
    pub(crate) runner: Runner,
}

/// What a tool says about itself in the catalogue.
pub(crate) struct About {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) summary: &'static str,
    /// Where the UI shows it: `organize`, `info`, …
    pub(crate) group: &'static str,
    pub(crate) inputs: InputRule,
}

/// A tool's parameters: JSON in (unknown fields refused), typed and checked out, with the JSON
/// Schema the catalogue publishes.
pub(crate) trait ToolParams: DeserializeOwned + JsonSchema + Validate {
    fn schema() -> Value {
        schema::<Self>()
    }

    fn parse(params: &Value) -> Result<Self, ToolError> {
        parse(params)
    }
}

/// A tool ScanPro runs itself, implemented by its parameters.
pub(crate) trait NativeTool: ToolParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError>;
}

/// A tool an external engine runs, implemented by its parameters.
pub(crate) trait EngineTool: ToolParams + Send + 'static {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_>;
}

impl Tool {
    pub(crate) const fn native<P: NativeTool>(about: About) -> Self {
        Self::new(about, P::schema, check::<P>, Runner::Native(parse_then_run::<P>))
    }

    pub(crate) const fn engine<P: EngineTool>(engine: Engine, about: About) -> Self {
        Self::new(about, P::schema, check::<P>, Runner::Engine(engine, parse_then_start::<P>))
    }

    /// A tool that runs as another one, chosen by `router`.
    pub(crate) const fn route<P: ToolParams>(about: About, router: Router) -> Self {
        Self::new(about, P::schema, check::<P>, Runner::Route(router))
    }

    const fn new(
        about: About,
        schema: fn() -> Value,
        check: fn(&Value) -> Result<(), ToolError>,
        runner: Runner,
    ) -> Self {
        let About { name, title, summary, group, inputs } = about;
        Self { name, title, summary, group, inputs, schema, check, runner }
    }
}

fn check<P: ToolParams>(params: &Value) -> Result<(), ToolError> {
    P::parse(params).map(drop)
}

fn parse_then_run<P: NativeTool>(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    P::parse(params)?.run(inputs, out_dir)
}

fn parse_then_start<P: EngineTool>(step: EngineStep<'_>) -> StepFuture<'_> {
    match P::parse(step.params) {
        Ok(params) => params.run(step),
        Err(error) => Box::pin(async move { Err(error) }),
    }
}

/// How a tool runs; inputs are already checked against its `inputs` rule.
#[derive(Clone, Copy)]
pub(crate) enum Runner {
    /// Rust code, run synchronously (in a child `step-exec` process by the workers).
    Native(fn(&Value, &[Input], &Path) -> Result<StepResult, ToolError>),
    /// An external engine, driven from the process holding the engine handles.
    Engine(Engine, for<'a> fn(EngineStep<'a>) -> StepFuture<'a>),
    /// Another tool, chosen from the inputs and parameters (`convert`).
    Route(Router),
}

/// The engine a routing tool's step needs, from its parameters and its inputs' MIME types.
pub(crate) type EngineBeforeRun = fn(&Value, Option<&[&str]>) -> Result<Option<Engine>, ToolError>;

/// How a routing tool chooses the tool its step runs as.
#[derive(Clone, Copy)]
pub(crate) struct Router {
    /// The tool and its parameters, from the inputs' bytes and the parameters.
    pub(crate) route: fn(&Value, &[Input]) -> Result<Routed, ToolError>,
    /// The engine a step needs, told before the run from the parameters and, when known, the
    /// inputs' MIME types.
    pub(crate) engine: EngineBeforeRun,
    /// The engines some of its choices need.
    pub(crate) engines: &'static [Engine],
}

/// The tool a routing tool's step runs as, with that tool's parameters.
pub(crate) struct Routed {
    pub(crate) tool: &'static str,
    pub(crate) params: Value,
}

impl Tool {
    pub(crate) fn info(&self) -> ToolInfo {
        ToolInfo {
            name: self.name,
            title: self.title,
            summary: self.summary,
            group: self.group,
            inputs: self.inputs,
            params_schema: (self.schema)(),
            engine: match self.runner {
                Runner::Native(_) | Runner::Route(..) => None,
                Runner::Engine(engine, _) => Some(engine),
            },
            engines_for_some_inputs: match self.runner {
                Runner::Route(router) => router.engines,
                Runner::Native(_) | Runner::Engine(..) => &[],
            },
        }
    }
}

/// Catalogue order: clients may show tools in this order.
pub(crate) const ALL: &[Tool] = &[
    merge::TOOL,
    split::TOOL,
    rotate::TOOL,
    info::TOOL,
    images_to_pdf::TOOL,
    pdf_to_image::TOOL,
    thumbnails::TOOL,
    watermark::TOOL,
    page_numbers::TOOL,
    sign::TOOL,
    remove_pages::TOOL,
    extract_pages::TOOL,
    reorder::TOOL,
    n_up::TOOL,
    booklet::TOOL,
    scale_pages::TOOL,
    remove_blank_pages::TOOL,
    crop::TOOL,
    protect::TOOL,
    unlock::TOOL,
    form_fields::TOOL,
    compare::TOOL,
    fill_form::TOOL,
    flatten::TOOL,
    sanitize::TOOL,
    redact::TOOL,
    digital_sign::TOOL,
    verify_signatures::TOOL,
    metadata::TOOL,
    overlay::TOOL,
    bookmarks::TOOL,
    remove_annotations::TOOL,
    attach::TOOL,
    attachments::TOOL,
    repair::TOOL,
    office_to_pdf::TOOL,
    html_to_pdf::TOOL,
    markdown_to_pdf::TOOL,
    url_to_pdf::TOOL,
    screenshot::TOOL,
    pdf_to_office::TOOL,
    convert_office::TOOL,
    convert::CONVERT,
    compress::TOOL,
    pdfa::TOOL,
    pdfua::TOOL,
    grayscale::TOOL,
    ocr::TOOL,
    pdf_to_text::TOOL,
    pdf_to_markdown::TOOL,
    pdf_to_html::TOOL,
];

const PDF: &[&str] = &["pdf"];

/// A step whose answer is a JSON document: written as `filename` and returned as the report.
fn json_answer(out_dir: &Path, filename: String, report: &impl serde::Serialize) -> Result<StepResult, ToolError> {
    let report = serde_json::to_value(report).map_err(|e| ToolError::internal(format!("{filename}: {e}")))?;
    let path = out_dir.join(&filename);
    let body = serde_json::to_vec_pretty(&report).map_err(|e| ToolError::internal(format!("{filename}: {e}")))?;
    std::fs::write(&path, body).map_err(|e| ToolError::internal(format!("cannot write {}: {e}", path.display())))?;
    let output = Output { path, filename, content_type: "application/json".into() };
    Ok(StepResult { outputs: vec![output], report: Some(report) })
}

fn pdf_output(path: PathBuf) -> Output {
    let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Output { path, filename, content_type: "application/pdf".into() }
}
