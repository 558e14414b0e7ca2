//! `watermark`: text, or an image given as the last input, drawn on the selected pages of each
//! PDF input.

use super::{About, NativeTool, Tool, ToolParams, pdf_output};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{
    DEFAULT_EDGE_MARGIN, Layer, Position, StampFont, Validate, advanced, check_margin, check_mark_text, check_opacity,
    check_range, page_selection, page_selection_field, parse_color,
};
use scanpro_pdf::stamp::{check_glyphs, image_kind};
use scanpro_pdf::{Anchor, Mark, MarkContent, MarkSize, Placement, StampPlan, TextMark};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;

/// PDFs to stamp, and PNG or JPEG images to stamp with.
pub(super) const PDF_AND_IMAGES: &[&str] = &["pdf", "png", "jpeg"];

pub(crate) const TOOL: Tool = Tool::native::<WatermarkParams>(About {
    name: "watermark",
    title: "Add a watermark",
    summary: "Draw a text or an image (PNG or JPEG, given as the last input) on the pages of each PDF: \
              position, size, colour, opacity, rotation, tiling, pages.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF_AND_IMAGES },
});

const DEFAULT_WATERMARK_FONT_SIZE: f32 = 48.0;

const DEFAULT_WATERMARK_COLOR: &str = "#808080";

const DEFAULT_WATERMARK_SCALE: f32 = 0.5;

const DEFAULT_TILE_SPACING: f32 = 72.0;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatermarkParams {
    /// The watermark text; `\n` starts a new line (lines are centred). Required unless the last
    /// input is a PNG or JPEG image, which is then the watermark (give one or the other).
    #[serde(default)]
    pub text: Option<String>,
    /// Typeface of the text (embedded and subset, so any Latin, Greek or Cyrillic text works).
    /// Default `sans`.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub font: Option<StampFont>,
    /// Text size in points. Default 48.
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub font_size: Option<f32>,
    /// Text colour, `#RRGGBB`. Default `#808080` (grey).
    #[serde(default)]
    pub color: Option<String>,
    /// Image watermark only: the image's width as a fraction of the displayed page's width
    /// (0.5 = half the page width; the height follows the image's proportions). Default 0.5.
    #[serde(default)]
    #[schemars(range(min = 0.01, max = 10))]
    #[schemars(transform = advanced)]
    pub scale: Option<f32>,
    /// 0 (invisible) to 1 (opaque). Default 0.5.
    #[serde(default = "half")]
    #[schemars(range(min = 0, max = 1))]
    #[schemars(transform = advanced)]
    pub opacity: f32,
    /// Counterclockwise rotation in degrees about the watermark's centre (45 runs bottom left to
    /// top right). Default 0.
    #[serde(default)]
    #[schemars(range(min = -360, max = 360))]
    pub rotation: f32,
    /// Where on the displayed page (after its rotation) the watermark goes. Default `center`.
    /// With `tile`, the copy at this position fixes where the grid of copies lies.
    #[serde(default)]
    pub position: Option<Position>,
    /// Distance in points between the watermark and the page edges it is anchored to (not
    /// allowed with `center`, which touches no edge). Default 36.
    #[serde(default)]
    #[schemars(range(min = 0))]
    #[schemars(transform = advanced)]
    pub margin: Option<f32>,
    /// Repeat the watermark in a grid over the whole page. Default false.
    #[serde(default)]
    pub tile: bool,
    /// With `tile`: the gap in points between neighbouring copies. Default 72.
    #[serde(default)]
    #[schemars(range(min = 0))]
    #[schemars(transform = advanced)]
    pub spacing: Option<f32>,
    /// Drawn `over` the page content (default) or `under` it.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub layer: Layer,
    /// Pages to mark (e.g. `1-3,even,last`). Absent: every page.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
    pub pages: Option<String>,
}

fn half() -> f32 {
    0.5
}

impl Validate for WatermarkParams {
    fn validate(&self) -> Result<(), ToolError> {
        if let Some(text) = &self.text {
            check_mark_text("text", text)?;
        }
        if let Some(size) = self.font_size {
            check_range("font_size", size, 1.0, 500.0)?;
        }
        if let Some(color) = &self.color {
            parse_color("color", color)?;
        }
        if let Some(scale) = self.scale {
            check_range("scale", scale, 0.01, 10.0)?;
        }
        check_opacity("opacity", self.opacity)?;
        check_range("rotation", self.rotation, -360.0, 360.0)?;
        check_margin(self.margin, self.position.unwrap_or(Position::Center))?;
        match self.spacing {
            Some(_) if !self.tile => Err(ToolError::invalid_param("spacing", "only applies with \"tile\": true")),
            Some(spacing) => check_range("spacing", spacing, 0.0, 10_000.0),
            None => Ok(()),
        }?;
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

impl WatermarkParams {
    /// The text's colour.
    pub fn rgb(&self) -> [u8; 3] {
        parse_color("color", self.color.as_deref().unwrap_or(DEFAULT_WATERMARK_COLOR)).unwrap_or([128; 3])
    }

    pub fn font_size_or_default(&self) -> f32 {
        self.font_size.unwrap_or(DEFAULT_WATERMARK_FONT_SIZE)
    }

    pub fn scale_or_default(&self) -> f32 {
        self.scale.unwrap_or(DEFAULT_WATERMARK_SCALE)
    }

    pub fn margin_or_default(&self) -> f32 {
        self.margin.unwrap_or(DEFAULT_EDGE_MARGIN)
    }

    /// The gap between tiled copies, when tiling.
    pub fn tile_spacing(&self) -> Option<f32> {
        self.tile.then(|| self.spacing.unwrap_or(DEFAULT_TILE_SPACING))
    }

    /// Refuses the options of the kind of watermark not chosen: text options with an image, and
    /// image options with text.
    pub fn check_kind(&self, has_image: bool) -> Result<(), ToolError> {
        if has_image {
            if self.text.is_some() {
                return Err(ToolError::invalid_param(
                    "text",
                    "give either a text or an image (the last input), not both",
                ));
            }
            let text_only = [
                ("font", self.font.is_some()),
                ("font_size", self.font_size.is_some()),
                ("color", self.color.is_some()),
            ];
            if let Some((field, _)) = text_only.iter().find(|(_, given)| *given) {
                return Err(ToolError::invalid_param(field, "applies to text watermarks, not to an image"));
            }
        } else {
            if self.text.is_none() {
                return Err(ToolError::invalid_param(
                    "text",
                    "required, unless a PNG or JPEG image is given as the last input",
                ));
            }
            if self.scale.is_some() {
                return Err(ToolError::invalid_param("scale", "applies to image watermarks; use font_size for text"));
            }
        }
        Ok(())
    }
}

impl ToolParams for WatermarkParams {}

impl NativeTool for WatermarkParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        let (documents, image) = split_inputs(inputs)?;
        params.check_kind(image.is_some())?;
        let content = match image {
            Some(image) => MarkContent::Image { data: read_input(image)?, name: image.filename.clone() },
            None => text_content(&params)?,
        };
        let mark = Mark { content: 0, placement: placement(&params) };
        let selection = page_selection("pages", params.pages.as_deref())?;
        let mut names = UniqueNames::default();
        let mut outputs = Vec::with_capacity(documents.len());
        for input in documents {
            let out = out_dir.join(names.claim(&format!("{}_watermarked", safe_stem(&input.filename)), ".pdf"));
            let plan = |count| {
                let pages = selection.resolve(count).map_err(|e| ToolError::invalid_param("pages", e))?;
                Ok(StampPlan {
                    contents: vec![content.clone()],
                    pages: pages.into_iter().map(|page| (page, vec![mark])).collect(),
                })
            };
            scanpro_pdf::stamp(&input.path, plan, &out)?;
            outputs.push(pdf_output(out));
        }
        Ok(StepResult { outputs, report: None })
    }
}

fn text_content(params: &WatermarkParams) -> Result<MarkContent, ToolError> {
    let text = params.text.clone().unwrap_or_default();
    let font = params.font.unwrap_or_default();
    check_glyphs("text", font, &text)?;
    Ok(MarkContent::Text(TextMark { text, font, font_size: params.font_size_or_default(), color: params.rgb() }))
}

fn placement(params: &WatermarkParams) -> Placement {
    let position = params.position.unwrap_or(Position::Center);
    Placement {
        anchor: Anchor::Position { position, margin: params.margin_or_default() },
        size: if params.text.is_some() { MarkSize::Natural } else { MarkSize::PageWidth(params.scale_or_default()) },
        rotation: params.rotation,
        opacity: params.opacity,
        tile: params.tile_spacing(),
        layer: params.layer,
    }
}

/// The PDFs, and the image watermark if the last input is one. An image anywhere else, or no
/// PDF at all, is refused.
fn split_inputs(inputs: &[Input]) -> Result<(&[Input], Option<&Input>), ToolError> {
    let (documents, image) = match inputs.split_last() {
        Some((last, rest)) if is_image(last)? => (rest, Some(last)),
        _ => (inputs, None),
    };
    if documents.is_empty() {
        return Err(ToolError::invalid_param("inputs", "watermark needs a PDF to mark, then optionally an image"));
    }
    for (index, input) in documents.iter().enumerate() {
        if is_image(input)? {
            return Err(ToolError::invalid_param(
                "inputs",
                format!(
                    "{} (input {index}) is an image; only the last input can be the watermark image",
                    input.filename
                ),
            ));
        }
    }
    Ok((documents, image))
}

/// Whether the input is a PNG or JPEG (anything else reaching a tool has been checked to be a
/// PDF).
pub(super) fn is_image(input: &Input) -> Result<bool, ToolError> {
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(&input.path)
        .and_then(|file| file.take(8).read_to_end(&mut head))
        .map_err(|e| ToolError::internal(format!("cannot read input {}: {e}", input.path.display())))?;
    Ok(image_kind(&head).is_some())
}

pub(super) fn read_input(input: &Input) -> Result<Vec<u8>, ToolError> {
    std::fs::read(&input.path)
        .map_err(|e| ToolError::internal(format!("cannot read input {}: {e}", input.path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn watermark(value: serde_json::Value) -> Result<WatermarkParams, ToolError> {
        let params: WatermarkParams =
            serde_json::from_value(value).map_err(|e| ToolError::invalid_param("params", e))?;
        params.validate().map(|()| params)
    }

    #[test]
    fn watermark_errors_name_the_field() {
        let cases = [
            (json!({"text": "x", "opacity": 1.5}), "opacity: must be between 0 and 1"),
            (json!({"text": "x", "color": "#GG0000"}), "color: \"#GG0000\" is not a #RRGGBB colour"),
            (json!({"text": "  "}), "text: must not be empty"),
            (json!({"text": "x", "margin": 10}), "margin: has no effect"),
            (json!({"text": "x", "spacing": 10}), "spacing: only applies"),
            (json!({"text": "x", "font_size": 0}), "font_size: must be between"),
            (json!({"text": "x", "pages": "0"}), "pages:"),
        ];
        for (value, expected) in cases {
            let err = watermark(value.clone()).unwrap_err();
            assert!(err.message.starts_with(expected), "{value}: {}", err.message);
        }
        let params =
            watermark(json!({"text": "x", "position": "top_left", "margin": 10, "tile": true, "spacing": 0})).unwrap();
        assert_eq!(params.tile_spacing(), Some(0.0));
    }

    #[test]
    fn watermark_kind_refuses_the_other_kinds_options() {
        let text = watermark(json!({"text": "x", "scale": 0.3})).unwrap();
        assert!(text.check_kind(false).unwrap_err().message.starts_with("scale:"));
        assert!(text.check_kind(true).unwrap_err().message.starts_with("text:"));
        let image = watermark(json!({"color": "#000000"})).unwrap();
        assert!(image.check_kind(true).unwrap_err().message.starts_with("color:"));
        assert!(image.check_kind(false).unwrap_err().message.starts_with("text: required"));
    }
}
