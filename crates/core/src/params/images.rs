//! `images_to_pdf`, `pdf_to_image`, `thumbnails`: between raster images and PDF pages.

use super::{Validate, advanced};
use crate::error::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImagePageSize {
    /// Each page is the size of its image at the image's resolution (72 dpi when the file
    /// does not say), plus the margin.
    #[default]
    Fit,
    /// ISO A4, 595 × 842 points.
    A4,
    /// US Letter, 612 × 792 points.
    Letter,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImagePageOrientation {
    /// A4 and Letter pages turn to landscape for images wider than tall.
    #[default]
    Auto,
    /// Always portrait (A4 and Letter only).
    Portrait,
    /// Always landscape (A4 and Letter only).
    Landscape,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagesToPdfParams {
    /// Page size: `fit` (the image's own size), `a4` or `letter`.
    #[serde(default)]
    pub page_size: ImagePageSize,
    /// Page orientation for `a4` and `letter`; `fit` pages always follow the image.
    #[serde(default)]
    pub orientation: ImagePageOrientation,
    /// White space around each image, in points (1/72 inch). Default: 0 for `fit`, 36 (half an
    /// inch) for `a4` and `letter`. The image is scaled to fill the space inside the margins,
    /// keeping its aspect ratio, and centred.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 200.0))]
    #[schemars(transform = advanced)]
    pub margin: Option<f32>,
}

impl Validate for ImagesToPdfParams {
    fn validate(&self) -> Result<(), ToolError> {
        if self.page_size == ImagePageSize::Fit && self.orientation != ImagePageOrientation::Auto {
            return Err(ToolError::invalid_param(
                "orientation",
                "applies to page_size \"a4\" or \"letter\"; a \"fit\" page always follows its image",
            ));
        }
        match self.margin {
            Some(m) if !(0.0..=Self::MAX_MARGIN_PT).contains(&m) => {
                Err(ToolError::invalid_param("margin", format!("{m} is outside 0 to {} points", Self::MAX_MARGIN_PT)))
            }
            _ => Ok(()),
        }
    }
}

impl ImagesToPdfParams {
    /// Default `margin` in points for `a4` and `letter` pages (half an inch).
    pub const PAPER_MARGIN_PT: f32 = 36.0;
    /// Largest `margin` accepted, in points (some 7 cm).
    pub const MAX_MARGIN_PT: f32 = 200.0;

    /// The margin to use: the one given, else the page size's default.
    pub fn margin_pt(&self) -> f32 {
        self.margin.unwrap_or(match self.page_size {
            ImagePageSize::Fit => 0.0,
            ImagePageSize::A4 | ImagePageSize::Letter => Self::PAPER_MARGIN_PT,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<P: serde::de::DeserializeOwned + Validate>(json: &str) -> Result<P, ToolError> {
        let p: P = serde_json::from_str(json).map_err(|e| ToolError::invalid_param("params", e))?;
        p.validate().map(|()| p)
    }

    #[test]
    fn images_to_pdf_defaults_and_margins() {
        let p: ImagesToPdfParams = parse("{}").unwrap();
        assert_eq!((p.page_size, p.orientation, p.margin_pt()), (ImagePageSize::Fit, ImagePageOrientation::Auto, 0.0));
        let p: ImagesToPdfParams = parse(r#"{"page_size":"a4"}"#).unwrap();
        assert_eq!(p.margin_pt(), ImagesToPdfParams::PAPER_MARGIN_PT);
        let p: ImagesToPdfParams = parse(r#"{"page_size":"letter","margin":0}"#).unwrap();
        assert_eq!(p.margin_pt(), 0.0);
        let err = parse::<ImagesToPdfParams>(r#"{"margin":-1}"#).unwrap_err();
        assert!(err.message.starts_with("margin:"), "{err}");
        let err = parse::<ImagesToPdfParams>(r#"{"orientation":"landscape"}"#).unwrap_err();
        assert!(err.message.starts_with("orientation:"), "{err}");
        assert!(parse::<ImagesToPdfParams>(r#"{"page_size":"a5"}"#).is_err());
    }
}
