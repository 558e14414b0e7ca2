//! `repair`: rewrite a damaged PDF so every reader opens it, saying what was wrong.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<RepairParams>(About {
    name: "repair",
    title: "Repair a PDF",
    summary: "Rebuild a damaged PDF (broken cross-reference table, page tree, stream lengths, missing objects) with lopdf, else qpdf, else Ghostscript; the report says which worked and what was wrong.",
    group: "optimize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairParams {}

impl Validate for RepairParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for RepairParams {}

impl NativeTool for RepairParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        each_input(inputs, out_dir, "_repaired", |input, out| scanpro_pdf::repair(&input.path, out))
    }
}
