//! `info`: the facts about one PDF, as a JSON file and as the step's report.

use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::step::{Input, Output, StepResult};
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
        let report = serde_json::to_value(&info).map_err(|e| ToolError::internal(format!("info: {e}")))?;
        let filename = format!("{}_info.json", safe_stem(&input.filename));
        let path = out_dir.join(&filename);
        let body = serde_json::to_vec_pretty(&report).map_err(|e| ToolError::internal(format!("info: {e}")))?;
        std::fs::write(&path, body)
            .map_err(|e| ToolError::internal(format!("cannot write {}: {e}", path.display())))?;
        let output = Output { path, filename, content_type: "application/json".into() };
        Ok(StepResult { outputs: vec![output], report: Some(report) })
    }
}
