//! `remove_annotations`: comments, links or form fields removed from chosen pages.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, page_selection, page_selection_field};
use scanpro_pdf::annotations::AnnotationKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<RemoveAnnotationsParams>(About {
    name: "remove_annotations",
    title: "Remove comments and annotations",
    summary: "Remove comments and markup (notes, highlights, drawings, stamps), links or form fields \
              from the pages of each PDF; the report counts what went.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

fn all_kinds() -> Vec<AnnotationKind> {
    vec![AnnotationKind::Comments, AnnotationKind::Links, AnnotationKind::FormFields]
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveAnnotationsParams {
    /// What to remove; all three by default.
    #[serde(default = "all_kinds")]
    pub kinds: Vec<AnnotationKind>,
    /// The pages to clear, e.g. `1-3`; every page by default.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
    pub pages: Option<String>,
}

impl Default for RemoveAnnotationsParams {
    fn default() -> Self {
        Self { kinds: all_kinds(), pages: None }
    }
}

impl Validate for RemoveAnnotationsParams {
    fn validate(&self) -> Result<(), ToolError> {
        if self.kinds.is_empty() {
            return Err(ToolError::invalid_param("kinds", "choose at least one kind to remove"));
        }
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

impl ToolParams for RemoveAnnotationsParams {}

impl NativeTool for RemoveAnnotationsParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let selection = page_selection("pages", self.pages.as_deref())?;
        each_input(inputs, out_dir, "_cleaned", |input, out| {
            scanpro_pdf::annotations::remove_annotations(&input.path, &self.kinds, &selection, out)
        })
    }
}
