//! `flatten`: draw form fields and annotations into their pages, where they can no longer be
//! changed (qpdf).

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<FlattenParams>(About {
    name: "flatten",
    title: "Flatten forms and annotations",
    summary: "Draw every form field and annotation into its page as it looks now, so the document can no longer be filled in or its comments changed.",
    group: "security",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlattenParams {}

impl Validate for FlattenParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for FlattenParams {}

impl NativeTool for FlattenParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        each_input(inputs, out_dir, "_flattened", |input, out| scanpro_pdf::streaming::flatten(&input.path, out))
    }
}
