//! `pdf_to_markdown`: a PDF's text as Markdown — headings, paragraphs, lists and tables found
//! from its layout — with its images as files beside it.

use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::step::{Input, Output, StepResult, detect_content_type};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_pdf::reflow::{TextFormat, reflow};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<PdfToMarkdownParams>(About {
    name: "pdf_to_markdown",
    title: "PDF to Markdown",
    summary: "The text of a PDF as Markdown: headings, paragraphs, lists and tables found from the layout, \
              and the images as files beside it.",
    group: "convert",
    inputs: InputRule { min: 1, max: Some(1), formats: PDF },
});

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PdfToMarkdownParams {
    /// Extract the images too. Default on.
    #[serde(default = "yes")]
    pub images: bool,
}

pub(super) fn yes() -> bool {
    true
}

impl Validate for PdfToMarkdownParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for PdfToMarkdownParams {}

impl NativeTool for PdfToMarkdownParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        run_reflow(&inputs[0], out_dir, TextFormat::Markdown, self.images)
    }
}

/// Writes `input` as `format`: the text file first, then its images.
pub(super) fn run_reflow(
    input: &Input,
    out_dir: &Path,
    format: TextFormat,
    images: bool,
) -> Result<StepResult, ToolError> {
    let reflowed = reflow(&input.path, out_dir, &safe_stem(&input.filename), format, images)?;
    let content_type = match format {
        TextFormat::Markdown => "text/markdown; charset=utf-8",
        TextFormat::Html => "text/html; charset=utf-8",
    };
    let mut outputs = vec![output(&reflowed.text, content_type)];
    for image in &reflowed.images {
        let head = std::fs::read(image).map_err(|e| ToolError::internal(format!("{}: {e}", image.display())))?;
        outputs.push(output(image, detect_content_type(&head[..head.len().min(4096)])));
    }
    let report =
        serde_json::to_value(&reflowed.report).map_err(|e| ToolError::internal(format!("reflow report: {e}")))?;
    Ok(StepResult { outputs, report: Some(report) })
}

fn output(path: &Path, content_type: &str) -> Output {
    let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Output { path: path.to_owned(), filename, content_type: content_type.into() }
}
