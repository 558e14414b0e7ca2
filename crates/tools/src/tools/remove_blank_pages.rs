//! `remove_blank_pages`: pages with (almost) no ink dropped; the report lists them.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, advanced, check_range};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<RemoveBlankPagesParams>(About {
    name: "remove_blank_pages",
    title: "Remove blank pages",
    summary: "Drop the pages with no ink, or almost none (a scanned blank page has specks): \
              the report lists the pages removed.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveBlankPagesParams {
    /// The most ink a blank page has, as a percentage of the page: 0 for pages with none at
    /// all; 0.5 (the default) lets a scan's specks and a page number through as blank.
    #[serde(default = "half_percent")]
    pub threshold: f32,
    /// How light a pixel must be to count as white paper, 0 (black) to 255 (white); scans are
    /// never quite white.
    #[serde(default = "white_level")]
    #[schemars(transform = advanced)]
    pub white_level: u8,
}

fn half_percent() -> f32 {
    0.5
}

fn white_level() -> u8 {
    scanpro_pdf::ink::DEFAULT_WHITE_LEVEL
}

impl Default for RemoveBlankPagesParams {
    fn default() -> Self {
        Self { threshold: half_percent(), white_level: white_level() }
    }
}

impl Validate for RemoveBlankPagesParams {
    fn validate(&self) -> Result<(), ToolError> {
        check_range("threshold", self.threshold, 0.0, 50.0)?;
        check_range("white_level", f32::from(self.white_level), 1.0, 255.0)
    }
}

impl ToolParams for RemoveBlankPagesParams {}

impl NativeTool for RemoveBlankPagesParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        each_input(inputs, out_dir, "_no_blanks", |input, out| {
            scanpro_pdf::ink::remove_blank_pages(&input.path, f64::from(self.threshold), self.white_level, out)
        })
    }
}
