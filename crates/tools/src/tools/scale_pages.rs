//! `scale_pages`: every page onto a paper size, its content scaled to fit and centred.

use super::page_outputs::each_input;
use super::paper::Paper;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, check_range};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<ScalePagesParams>(About {
    name: "scale_pages",
    title: "Change page size",
    summary: "Put every page on A4, Letter or another paper size (or a size in points), its content \
              scaled to fit and centred; landscape pages stay landscape.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

/// Largest page side PDF readers accept: 200 inches.
const MAX_SIDE_PT: f32 = 14_400.0;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalePagesParams {
    /// The paper size (A4 when neither it nor `width` and `height` are given).
    #[serde(default)]
    pub size: Option<Paper>,
    /// Page width in points (1/72 inch), with `height`, instead of `size`.
    #[serde(default)]
    pub width: Option<f32>,
    /// Page height in points, with `width`.
    #[serde(default)]
    pub height: Option<f32>,
}

impl ScalePagesParams {
    fn points(&self) -> Result<(f64, f64), ToolError> {
        match (self.size, self.width, self.height) {
            (Some(Paper::Same), _, _) => {
                Err(ToolError::invalid_param("size", "\"same\" would change nothing: choose a paper size"))
            }
            (Some(paper), None, None) => paper.points().ok_or_else(|| ToolError::invalid_param("size", "unknown")),
            (Some(_), _, _) => Err(ToolError::invalid_param("size", "give either size or width and height, not both")),
            (None, Some(width), Some(height)) => {
                check_range("width", width, 72.0, MAX_SIDE_PT)?;
                check_range("height", height, 72.0, MAX_SIDE_PT)?;
                Ok((f64::from(width), f64::from(height)))
            }
            (None, None, None) => Ok(scanpro_pdf::impose::A4),
            (None, _, _) => Err(ToolError::invalid_param("width", "width and height go together")),
        }
    }
}

impl Validate for ScalePagesParams {
    fn validate(&self) -> Result<(), ToolError> {
        self.points().map(drop)
    }
}

impl ToolParams for ScalePagesParams {}

impl NativeTool for ScalePagesParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let size = self.points()?;
        each_input(inputs, out_dir, "_scaled", |input, out| scanpro_pdf::impose::scale_pages(&input.path, size, out))
    }
}
