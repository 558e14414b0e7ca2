//! `pdfua`: PDF/UA-1 identification of a tagged PDF (see [`scanpro_pdf::accessible`]).

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<PdfUaParams>(About {
    name: "pdfua",
    title: "Tagged PDF to PDF/UA",
    summary: "Identify a tagged PDF (as Chromium and LibreOffice write them) as accessible PDF/UA-1, once its tags, title and language are checked. An untagged PDF is refused: convert the original with pdfua instead.",
    group: "optimize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PdfUaParams {}

impl Validate for PdfUaParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for PdfUaParams {}

impl NativeTool for PdfUaParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        each_input(inputs, out_dir, "_pdfua", |input, out| scanpro_pdf::mark_pdfua(&input.path, out))
    }
}
