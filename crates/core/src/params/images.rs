//! `images_to_pdf`, `pdf_to_image`, `thumbnails`: between raster images and PDF pages.

use super::{Validate, page_selection};
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RasterFormat {
    /// Lossless PNG (grayscale when the page has no colour).
    #[default]
    Png,
    /// JPEG at `quality`.
    #[serde(alias = "jpeg")]
    Jpg,
}

impl RasterFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpg => "jpg",
        }
    }

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
    pub pages: Option<String>,
    /// Password that opens an encrypted PDF.
    #[serde(default)]
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

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThumbnailsParams {
    /// Width of each thumbnail in pixels, 16 to 1000; the height follows the page. Default 200.
    #[serde(default)]
    #[schemars(range(min = 16, max = 1000))]
    pub width: Option<u32>,
    /// Pages to preview (e.g. `1-5`). Absent: every page.
    #[serde(default)]
    pub pages: Option<String>,
    /// Password that opens an encrypted PDF.
    #[serde(default)]
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

    #[test]
    fn thumbnail_width_range() {
        assert_eq!(parse::<ThumbnailsParams>("{}").unwrap().width(), 200);
        assert!(parse::<ThumbnailsParams>(r#"{"width":15}"#).unwrap_err().message.starts_with("width:"));
        assert!(parse::<ThumbnailsParams>(r#"{"width":1001}"#).unwrap_err().message.starts_with("width:"));
    }
}
