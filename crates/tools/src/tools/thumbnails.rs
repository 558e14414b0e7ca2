//! `thumbnails`: small PNG previews of pages, for the web UI.

use super::pdf_to_image::render_inputs;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, advanced, page_selection, page_selection_field};
use scanpro_pdf::{RasterEncoding, RenderOptions, RenderSize};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<ThumbnailsParams>(About {
    name: "thumbnails",
    title: "Page thumbnails",
    summary: "Small PNG previews of pages, a given number of pixels wide (200 by default).",
    group: "convert",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailsParams {
    /// Width of each thumbnail in pixels, 16 to 1000; the height follows the page. Default 200.
    #[serde(default)]
    #[schemars(range(min = 16, max = 1000))]
    #[schemars(transform = advanced)]
    pub width: Option<u32>,
    /// Pages to preview (e.g. `1-5`). Absent: every page.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
    pub pages: Option<String>,
    /// Password that opens an encrypted PDF.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub password: Option<String>,
}

impl Validate for ThumbnailsParams {
    fn validate(&self) -> Result<(), ToolError> {
        if let Some(width) = self.width
            && !Self::WIDTH_RANGE.contains(&width)
        {
            return Err(ToolError::invalid_param(
                "width",
                format!("{width} is outside {} to {} pixels", Self::WIDTH_RANGE.start(), Self::WIDTH_RANGE.end()),
            ));
        }
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

impl ThumbnailsParams {
    /// Thumbnail width range, in pixels.
    pub const WIDTH_RANGE: std::ops::RangeInclusive<u32> = 16..=1000;
    pub const DEFAULT_WIDTH: u32 = 200;

    pub fn width(&self) -> u32 {
        self.width.unwrap_or(Self::DEFAULT_WIDTH)
    }
}

impl ToolParams for ThumbnailsParams {}

impl NativeTool for ThumbnailsParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        let options = RenderOptions {
            size: RenderSize::Width(params.width()),
            encoding: RasterEncoding::Png,
            password: params.password.as_deref(),
        };
        let selection = page_selection("pages", params.pages.as_deref())?;
        render_inputs(inputs, &options, &selection, out_dir, "_thumb", "image/png")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::params::parse_text as parse;

    #[test]
    fn thumbnail_width_range() {
        assert_eq!(parse::<ThumbnailsParams>("{}").unwrap().width(), 200);
        assert!(parse::<ThumbnailsParams>(r#"{"width":15}"#).unwrap_err().message.starts_with("width:"));
        assert!(parse::<ThumbnailsParams>(r#"{"width":1001}"#).unwrap_err().message.starts_with("width:"));
    }
}
