//! `booklet`: pages imposed for saddle stitching: print double-sided, fold, staple.

use super::page_outputs::each_input;
use super::paper::Paper;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_pdf::impose::Binding;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<BookletParams>(About {
    name: "booklet",
    title: "Make a booklet",
    summary: "Arrange pages two to a sheet side in booklet order: print double-sided (flip on the \
              short edge), fold in half and staple. Blank pages are added to make a multiple of four.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Spine {
    /// On the left, for left-to-right scripts.
    #[default]
    Left,
    /// On the right, for right-to-left scripts (Arabic, Hebrew).
    Right,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BookletParams {
    /// Sheet size (landscape): `same` puts two pages side by side at their own size; a paper
    /// size scales them to fit its halves (A4 sheets make an A5 booklet).
    #[serde(default)]
    pub sheet_size: Paper,
    /// Where the fold is when the booklet is read.
    #[serde(default)]
    pub binding: Spine,
    /// A thin line around each page.
    #[serde(default)]
    pub borders: bool,
}

impl Validate for BookletParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for BookletParams {}

impl NativeTool for BookletParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let binding = match self.binding {
            Spine::Left => Binding::Left,
            Spine::Right => Binding::Right,
        };
        each_input(inputs, out_dir, "_booklet", |input, out| {
            scanpro_pdf::impose::booklet(&input.path, self.sheet_size.sheet(), binding, self.borders, out)
        })
    }
}
