//! `overlay`: a PDF (a letterhead, a form background, a stamp) drawn over or under the pages of
//! each PDF; the overlay is the last input (qpdf).

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Layer, Validate, page_selection, page_selection_field};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<OverlayParams>(About {
    name: "overlay",
    title: "Add a letterhead or background",
    summary: "Draw a PDF (the last input), such as a letterhead, under or over the pages of each PDF \
              before it: its first page on every page, or page by page.",
    group: "edit",
    inputs: InputRule { min: 2, max: None, formats: PDF },
});

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverlayParams {
    /// `under` the page's content (a letterhead, a background) or `over` it (a stamp).
    #[serde(default = "under")]
    pub layer: Layer,
    /// The pages that get it, e.g. `1` or `2-z`; every page by default.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
    pub pages: Option<String>,
    /// Page n of the overlay on page n (its last page on the pages after), instead of its first
    /// page on every page.
    #[serde(default)]
    pub match_pages: bool,
}

fn under() -> Layer {
    Layer::Under
}

impl Default for OverlayParams {
    fn default() -> Self {
        Self { layer: under(), pages: None, match_pages: false }
    }
}

impl Validate for OverlayParams {
    fn validate(&self) -> Result<(), ToolError> {
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

impl ToolParams for OverlayParams {}

impl NativeTool for OverlayParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let Some((overlay, documents)) = inputs.split_last() else {
            return Err(ToolError::invalid_param("inputs", "give the PDFs, then the overlay PDF"));
        };
        scanpro_pdf::streaming::page_count(&overlay.path)?;
        let selection = page_selection("pages", self.pages.as_deref())?;
        let under = self.layer == Layer::Under;
        each_input(documents, out_dir, "_overlaid", |input, out| {
            let count = scanpro_pdf::streaming::page_count(&input.path)?;
            let to = selection.resolve(count).map_err(|e| ToolError::invalid_param("pages", e))?;
            scanpro_pdf::streaming::overlay(&input.path, &overlay.path, under, &to, self.match_pages, out)?;
            Ok(serde_json::json!({ "pages": count, "overlaid": to.len() }))
        })
    }
}
