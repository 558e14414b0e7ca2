//! `compare`: the text differences between two PDFs, as a JSON report and as sheets showing
//! each old page beside the new one with the changes marked.

use super::{About, NativeTool, PDF, Tool, ToolParams, json_answer, pdf_output};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<CompareParams>(About {
    name: "compare",
    title: "Compare two PDFs",
    summary: "Find what changed in the text between two versions of a document: a JSON report of \
              each change with its pages, and a PDF showing old and new pages side by side, \
              deleted words in red and inserted words in green.",
    group: "info",
    inputs: InputRule { min: 2, max: Some(2), formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareParams {}

impl Validate for CompareParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for CompareParams {}

impl NativeTool for CompareParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let (old, new) = (&inputs[0], &inputs[1]);
        let stem = format!("{}_vs_{}", safe_stem(&old.filename), safe_stem(&new.filename));
        let sheets = out_dir.join(format!("{stem}.pdf"));
        let report = scanpro_pdf::compare::compare(&old.path, &new.path, &sheets)?;
        let mut answer = json_answer(out_dir, format!("{stem}.json"), &report)?;
        answer.outputs.insert(0, pdf_output(sheets));
        Ok(answer)
    }
}
