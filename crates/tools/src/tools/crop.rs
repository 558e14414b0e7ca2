//! `crop`: margins cut off every page, given in points or trimmed to the ink.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, advanced, check_range};
use scanpro_pdf::ink::Crop;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<CropParams>(About {
    name: "crop",
    title: "Crop pages",
    summary: "Cut the margins off every page: trim the white space around the content \
              automatically, or give the margins to cut in points.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CropMode {
    /// Each page trimmed to its content, `padding` around it (blank pages stay whole).
    #[default]
    Auto,
    /// `top`, `right`, `bottom` and `left` cut off every page.
    Margins,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CropParams {
    #[serde(default)]
    pub mode: CropMode,
    /// Space kept around the content in `auto` mode, in points (1/72 inch).
    #[serde(default = "padding")]
    pub padding: f32,
    /// Points cut off the top of each page (as displayed), in `margins` mode.
    #[serde(default)]
    pub top: f32,
    #[serde(default)]
    pub right: f32,
    #[serde(default)]
    pub bottom: f32,
    #[serde(default)]
    pub left: f32,
    /// How light a pixel must be to count as white paper in `auto` mode, 1 to 255.
    #[serde(default = "white_level")]
    #[schemars(transform = advanced)]
    pub white_level: u8,
}

fn padding() -> f32 {
    10.0
}

fn white_level() -> u8 {
    scanpro_pdf::ink::DEFAULT_WHITE_LEVEL
}

impl Default for CropParams {
    fn default() -> Self {
        Self {
            mode: CropMode::Auto,
            padding: padding(),
            top: 0.0,
            right: 0.0,
            bottom: 0.0,
            left: 0.0,
            white_level: white_level(),
        }
    }
}

impl Validate for CropParams {
    fn validate(&self) -> Result<(), ToolError> {
        let margins = [("top", self.top), ("right", self.right), ("bottom", self.bottom), ("left", self.left)];
        match self.mode {
            CropMode::Auto => {
                if let Some((name, _)) = margins.iter().find(|(_, value)| *value != 0.0) {
                    return Err(ToolError::invalid_param(name, "only applies with mode \"margins\""));
                }
                check_range("padding", self.padding, 0.0, 720.0)?;
                check_range("white_level", f32::from(self.white_level), 1.0, 255.0)
            }
            CropMode::Margins => {
                for (name, value) in margins {
                    check_range(name, value, 0.0, 14_400.0)?;
                }
                if margins.iter().all(|(_, value)| *value == 0.0) {
                    return Err(ToolError::invalid_param("top", "give at least one margin to cut"));
                }
                Ok(())
            }
        }
    }
}

impl ToolParams for CropParams {}

impl NativeTool for CropParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let crop = match self.mode {
            CropMode::Auto => Crop::Trim { padding: f64::from(self.padding), white_level: self.white_level },
            CropMode::Margins => Crop::Margins([self.top, self.right, self.bottom, self.left].map(f64::from)),
        };
        each_input(inputs, out_dir, "_cropped", |input, out| scanpro_pdf::ink::crop(&input.path, crop, out))
    }
}
