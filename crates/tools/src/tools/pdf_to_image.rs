//! `pdf_to_image`: each selected page of each input as a PNG or JPEG file.

use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, Output, StepResult};
use scanpro_core::ToolError;
use scanpro_core::pages::PageSelection;
use scanpro_core::params::{Validate, advanced, page_selection, page_selection_field};
use scanpro_pdf::{RasterEncoding, RenderOptions, RenderSize, Renderer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<PdfToImageParams>(About {
    name: "pdf_to_image",
    title: "PDF to images",
    summary: "Render pages as PNG or JPEG images at a chosen resolution: one image per page, named in page order.",
    group: "convert",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(extend("format" = "file-format"))]
pub enum RasterFormat {
    /// Lossless PNG (grayscale when the page has no colour).
    #[default]
    Png,
    /// JPEG at `quality`.
    #[serde(alias = "jpeg")]
    Jpg,
}

impl RasterFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpg => "image/jpeg",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PdfToImageParams {
    /// Image format of every page: `png` or `jpg`.
    #[serde(default)]
    pub format: RasterFormat,
    /// Resolution in dots per inch, 10 to 600. Default 150.
    #[serde(default)]
    #[schemars(range(min = 10, max = 600))]
    pub dpi: Option<u32>,
    /// JPEG quality, 1 to 100 (`jpg` only). Default 85.
    #[serde(default)]
    #[schemars(range(min = 1, max = 100))]
    pub quality: Option<u8>,
    /// Pages to render (e.g. `1-3,last`). Absent: every page.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
    pub pages: Option<String>,
    /// Password that opens an encrypted PDF.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub password: Option<String>,
}

impl Validate for PdfToImageParams {
    fn validate(&self) -> Result<(), ToolError> {
        if let Some(dpi) = self.dpi
            && !Self::DPI_RANGE.contains(&dpi)
        {
            return Err(ToolError::invalid_param(
                "dpi",
                format!("{dpi} is outside {} to {}", Self::DPI_RANGE.start(), Self::DPI_RANGE.end()),
            ));
        }
        match (self.quality, self.format) {
            (Some(q), RasterFormat::Jpg) if !(1..=100).contains(&q) => {
                return Err(ToolError::invalid_param("quality", format!("{q} is outside 1 to 100")));
            }
            (Some(_), RasterFormat::Png) => {
                return Err(ToolError::invalid_param("quality", "applies to format \"jpg\" only (PNG is lossless)"));
            }
            _ => {}
        }
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

impl PdfToImageParams {
    /// Resolution range, in dots per inch.
    pub const DPI_RANGE: std::ops::RangeInclusive<u32> = 10..=600;
    pub const DEFAULT_DPI: u32 = 150;
    pub const DEFAULT_QUALITY: u8 = 85;

    pub fn dpi(&self) -> u32 {
        self.dpi.unwrap_or(Self::DEFAULT_DPI)
    }

    pub fn quality(&self) -> u8 {
        self.quality.unwrap_or(Self::DEFAULT_QUALITY)
    }
}

impl ToolParams for PdfToImageParams {}

impl NativeTool for PdfToImageParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        let encoding = match params.format {
            RasterFormat::Png => RasterEncoding::Png,
            RasterFormat::Jpg => RasterEncoding::Jpeg { quality: params.quality() },
        };
        let options =
            RenderOptions { size: RenderSize::Dpi(params.dpi()), encoding, password: params.password.as_deref() };
        let selection = page_selection("pages", params.pages.as_deref())?;
        render_inputs(inputs, &options, &selection, out_dir, "", params.format.content_type())
    }
}

/// Renders the selected pages of every input, each input under its own unique stem (plus
/// `suffix`); the report lists every page and which renderer made it.
pub(super) fn render_inputs(
    inputs: &[Input],
    options: &RenderOptions<'_>,
    selection: &PageSelection,
    out_dir: &Path,
    suffix: &str,
    content_type: &str,
) -> Result<StepResult, ToolError> {
    let mut stems = UniqueNames::default();
    let mut outputs = Vec::new();
    let mut pages = Vec::new();
    for input in inputs {
        let stem = stems.claim(&format!("{}{suffix}", safe_stem(&input.filename)), "");
        let choose = |count| selection.resolve(count).map_err(|e| ToolError::invalid_param("pages", e));
        for page in scanpro_pdf::render_pages(&input.path, options, choose, out_dir, &stem)? {
            let filename = page.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            pages.push(json!({
                "input": input.filename, "page": page.page, "filename": filename,
                "width": page.width, "height": page.height, "renderer": page.renderer,
            }));
            outputs.push(Output { path: page.path, filename, content_type: content_type.into() });
        }
    }
    let fallback: Vec<&Value> = pages.iter().filter(|p| p["renderer"] == json!(Renderer::Pdftoppm)).collect();
    let report = json!({ "fallback_pages": fallback, "pages": pages });
    Ok(StepResult { outputs, report: Some(report) })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::params::parse_text as parse;

    #[test]
    fn pdf_to_image_ranges() {
        let p: PdfToImageParams = parse("{}").unwrap();
        assert_eq!((p.format, p.dpi(), p.quality()), (RasterFormat::Png, 150, 85));
        let p: PdfToImageParams = parse(r#"{"format":"jpeg","quality":40,"dpi":600}"#).unwrap();
        assert_eq!((p.format, p.quality(), p.dpi()), (RasterFormat::Jpg, 40, 600));
        for (json, field) in [
            (r#"{"dpi":601}"#, "dpi:"),
            (r#"{"dpi":9}"#, "dpi:"),
            (r#"{"format":"jpg","quality":0}"#, "quality:"),
            (r#"{"format":"jpg","quality":101}"#, "quality:"),
            (r#"{"quality":50}"#, "quality:"),
            (r#"{"pages":"0"}"#, "pages:"),
        ] {
            let err = parse::<PdfToImageParams>(json).unwrap_err();
            assert!(err.message.starts_with(field), "{json}: {err}");
        }
    }
}
