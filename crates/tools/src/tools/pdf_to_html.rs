//! `pdf_to_html`: a PDF's text as one HTML page — headings, paragraphs, lists and tables found
//! from its layout — with its images inside it.

use super::pdf_to_markdown::{run_reflow, yes};
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_pdf::reflow::TextFormat;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<PdfToHtmlParams>(About {
    name: "pdf_to_html",
    title: "PDF to HTML",
    summary: "The text of a PDF as one web page: headings, paragraphs, lists and tables found from the layout, \
              images included.",
    group: "convert",
    inputs: InputRule { min: 1, max: Some(1), formats: PDF },
});

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PdfToHtmlParams {
    /// Include the images. Default on.
    #[serde(default = "yes")]
    pub images: bool,
}

impl Validate for PdfToHtmlParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for PdfToHtmlParams {}

impl NativeTool for PdfToHtmlParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        run_reflow(&inputs[0], out_dir, TextFormat::Html, self.images)
    }
}
