//! The registry: every tool, in catalogue order, with the functions behind it.

mod convert;
mod extract_pages;
mod images_to_pdf;
mod info;
mod merge;
mod metadata;
mod ocr;
mod office;
mod optimize;
mod page_numbers;
mod page_outputs;
mod pdf_to_image;
mod protect;
mod remove_pages;
mod reorder;
mod repair;
mod rotate;
mod sign;
mod split;
mod thumbnails;
mod unlock;
mod watermark;

use crate::catalogue::{InputRule, ToolInfo};
use crate::engines::{Engine, EngineStep, StepFuture};
use crate::step::{Input, Output, StepResult};
use scanpro_core::ToolError;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One tool: its catalogue entry, and the functions that check and run it.
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
    protect::TOOL,
    unlock::TOOL,
    metadata::TOOL,
    repair::TOOL,
    office::OFFICE_TO_PDF,
    office::HTML_TO_PDF,
    office::MARKDOWN_TO_PDF,
    office::PDF_TO_OFFICE,
    office::CONVERT_OFFICE,
    convert::CONVERT,
    optimize::COMPRESS,
    optimize::PDFA,
    optimize::GRAYSCALE,
    ocr::OCR,
    ocr::PDF_TO_TEXT,
];

const PDF: &[&str] = &["pdf"];

fn pdf_output(path: PathBuf) -> Output {
    let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Output { path, filename, content_type: "application/pdf".into() }
}
