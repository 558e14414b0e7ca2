//! `form_fields`: the fields of a PDF's form (name, type, value, options, required), as JSON.

use super::{About, NativeTool, PDF, Tool, ToolParams, json_answer};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<FormFieldsParams>(About {
    name: "form_fields",
    title: "List form fields",
    summary: "The fields of a fillable PDF form: each one's name, type, current value, options, \
              whether it is required or read-only, and its pages, as JSON, ready for Fill in a form.",
    group: "info",
    // One answer per step: the report is the answer's JSON.
    inputs: InputRule { min: 1, max: Some(1), formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormFieldsParams {}

impl Validate for FormFieldsParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for FormFieldsParams {}

impl NativeTool for FormFieldsParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let input = &inputs[0];
        let form = scanpro_pdf::forms::form_fields(&input.path)?;
        json_answer(out_dir, format!("{}_fields.json", safe_stem(&input.filename)), &form)
    }
}
