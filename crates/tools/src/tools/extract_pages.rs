//! `extract_pages`: a new document of the selected pages, in the order written.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, page_selection, page_selection_field, resolve_pages};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<ExtractPagesParams>(About {
    name: "extract_pages",
    title: "Extract pages",
    summary: "A new PDF of the selected pages in the order written (\"5,1-3\" puts page 5 first), with their links, annotations and bookmarks.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractPagesParams {
    /// Pages to keep, in the order written: `5,1-3` gives page 5 then pages 1 to 3. A page
    /// named twice is kept once, where it first appears.
    #[schemars(transform = page_selection_field)]
    pub pages: String,
}

impl Validate for ExtractPagesParams {
    fn validate(&self) -> Result<(), ToolError> {
        page_selection("pages", Some(&self.pages)).map(drop)
    }
}

impl ExtractPagesParams {
    /// The pages of the output, 1-based source numbers, in output order.
    pub fn selected_pages(&self, page_count: u32) -> Result<Vec<u32>, ToolError> {
        resolve_pages("pages", &self.pages, page_count)
    }
}

impl ToolParams for ExtractPagesParams {}

impl NativeTool for ExtractPagesParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        each_input(inputs, out_dir, "_extract", |input, out| {
            scanpro_pdf::select_pages(&input.path, |count| params.selected_pages(count), out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_keeps_the_order_written() {
        let extract = ExtractPagesParams { pages: "5,1-3,2".into() };
        assert_eq!(extract.selected_pages(6).unwrap(), [5, 1, 2, 3]);
    }
}
