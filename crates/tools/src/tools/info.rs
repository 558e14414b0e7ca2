//! `info`: the facts about one PDF, as a JSON file and as the step's report.

use super::{About, NativeTool, PDF, Tool, ToolParams, json_answer};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<InfoParams>(About {
    name: "info",
    title: "PDF information",
    summary: "Page count, page sizes and rotations, PDF version, encryption and document metadata, as JSON.",
    group: "info",
    // One answer per step: the report is the answer's JSON, not a list of them.
    inputs: InputRule { min: 1, max: Some(1), formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InfoParams {}

impl Validate for InfoParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for InfoParams {}

impl NativeTool for InfoParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let input = &inputs[0];
        let info = scanpro_pdf::info(&input.path)?;
        json_answer(out_dir, format!("{}_info.json", safe_stem(&input.filename)), &info)
    }
}
