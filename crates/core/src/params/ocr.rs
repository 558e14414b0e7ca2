//! `ocr`, `pdf_to_text`: the text of documents, recognised in scans or read from born-digital PDFs.

use super::{Validate, page_selection, page_selection_field};
use crate::error::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What OCR does with pages that already have text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OcrMode {
    /// OCR the pages without text and leave pages that have text as they are: the choice for
    /// scans and for documents mixing scanned and born-digital pages.
    #[default]
    SkipText,
    /// Rasterise every page, text included, and OCR it: any existing text becomes part of the
    /// image. For documents whose text layer is garbage.
    Force,
    /// Replace the invisible text of pages OCRed before, keeping visible text as it is.
    Redo,
}

/// What OCR produces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OcrOutput {
    /// A searchable PDF: the pages as they were, with the recognised text under them.
    #[default]
    #[schemars(title = "PDF")]
    Pdf,
    /// A searchable PDF/A-2b, for archiving; it may be larger than `pdf`.
    #[schemars(title = "PDF/A")]
    Pdfa,
    /// Plain UTF-8 text, pages separated by form feeds: the recognised text of OCRed pages and
    /// the existing text of the others.
    #[schemars(title = "Text")]
    Text,
}

impl OcrOutput {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf | Self::Pdfa => "pdf",
            Self::Text => "txt",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf | Self::Pdfa => "application/pdf",
            Self::Text => "text/plain; charset=utf-8",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OcrParams {
    /// Languages of the text, as Tesseract codes (`eng`, `deu`, `fra`, `spa`, `ita`, `por`, …),
    /// the main one first; list several for a document that mixes them. Default `["eng"]`.
    #[serde(default = "OcrParams::default_languages")]
    pub languages: Vec<String>,
    /// Pages that already have text: `skip_text` leaves them, `force` rasterises and OCRs them,
    /// `redo` replaces an earlier OCR's invisible text.
    #[serde(default)]
    pub mode: OcrMode,
    /// Straighten crooked scans before OCR (the page image is replaced by the straightened one).
    #[serde(default)]
    pub deskew: bool,
    /// Turn pages whose text runs sideways or upside down the right way up.
    #[serde(default)]
    pub rotate_pages: bool,
    /// `pdf` (searchable PDF), `pdfa` (searchable PDF/A-2b) or `text` (plain text).
    #[serde(default)]
    pub output: OcrOutput,
    /// Resolution in dots per inch assumed for an image input that does not state a credible one
    /// (PNG and JPEG files often do not). 50 to 1200; default 300. Ignored for PDFs.
    #[serde(default)]
    #[schemars(range(min = 50, max = 1200))]
    pub image_dpi: Option<u32>,
}

impl Default for OcrParams {
    fn default() -> Self {
        Self {
            languages: Self::default_languages(),
            mode: OcrMode::default(),
            deskew: false,
            rotate_pages: false,
            output: OcrOutput::default(),
            image_dpi: None,
        }
    }
}

impl OcrParams {
    /// Most languages one document may list: each one slows Tesseract down.
    pub const MAX_LANGUAGES: usize = 8;
    pub const IMAGE_DPI_RANGE: std::ops::RangeInclusive<u32> = 50..=1200;
    pub const DEFAULT_IMAGE_DPI: u32 = 300;

    fn default_languages() -> Vec<String> {
        vec!["eng".to_owned()]
    }

    /// `image_dpi`, or its default.
    pub fn image_dpi_or_default(&self) -> u32 {
        self.image_dpi.unwrap_or(Self::DEFAULT_IMAGE_DPI)
    }
}

impl Validate for OcrParams {
    fn validate(&self) -> Result<(), ToolError> {
        if self.languages.is_empty() {
            return Err(ToolError::invalid_param("languages", "give at least one language, e.g. [\"eng\"]"));
        }
        if self.languages.len() > Self::MAX_LANGUAGES {
            return Err(ToolError::invalid_param(
                "languages",
                format!("{} languages given; at most {}", self.languages.len(), Self::MAX_LANGUAGES),
            ));
        }
        for (index, language) in self.languages.iter().enumerate() {
            if !is_language_code(language) {
                return Err(ToolError::invalid_param(
                    "languages",
                    format!("{language:?} is not a Tesseract language code such as \"eng\" or \"chi_sim\""),
                ));
            }
            if self.languages[..index].contains(language) {
                return Err(ToolError::invalid_param("languages", format!("{language:?} is listed twice")));
            }
        }
        if self.deskew && self.mode == OcrMode::Redo {
            return Err(ToolError::invalid_param(
                "deskew",
                "cannot be combined with mode \"redo\", which keeps page images as they are; use mode \"force\"",
            ));
        }
        match self.image_dpi {
            Some(dpi) if !Self::IMAGE_DPI_RANGE.contains(&dpi) => Err(ToolError::invalid_param(
                "image_dpi",
                format!("{dpi} is outside {} to {}", Self::IMAGE_DPI_RANGE.start(), Self::IMAGE_DPI_RANGE.end()),
            )),
            _ => Ok(()),
        }
    }
}

/// Tesseract names its languages by their traineddata file: `eng`, `chi_sim`, `deu_latf`, and
/// scripts as `script/Latin`.
fn is_language_code(code: &str) -> bool {
    let valid_part = |part: &str| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !part.starts_with('_')
    };
    match code.split_once('/') {
        _ if code.len() > 40 => false,
        Some(("script", name)) => valid_part(name),
        Some(_) => false,
        None => valid_part(code),
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PdfToTextParams {
    /// Pages to extract (e.g. `1-3,last`), in the order given. Absent: every page.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
    pub pages: Option<String>,
    /// Keep the physical layout (columns side by side, spacing kept) instead of reading order.
    #[serde(default)]
    pub layout: bool,
}

impl Validate for PdfToTextParams {
    fn validate(&self) -> Result<(), ToolError> {
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ocr(json: serde_json::Value) -> Result<OcrParams, ToolError> {
        let params: OcrParams = serde_json::from_value(json).map_err(|e| ToolError::invalid_param("params", e))?;
        params.validate().map(|()| params)
    }

    #[test]
    fn defaults_are_english_skip_text_searchable_pdf() {
        let params = ocr(serde_json::json!({})).unwrap();
        assert_eq!(params.languages, ["eng"]);
        assert_eq!(
            (params.mode, params.output, params.deskew, params.rotate_pages),
            (OcrMode::SkipText, OcrOutput::Pdf, false, false)
        );
        assert_eq!(params.image_dpi_or_default(), 300);
        let params = ocr(serde_json::json!({"languages": ["deu", "eng"], "mode": "force", "output": "text"})).unwrap();
        assert_eq!((params.mode, params.output.extension()), (OcrMode::Force, "txt"));
    }

    #[test]
    fn bad_values_name_their_field() {
        for (json, start) in [
            (serde_json::json!({"languages": []}), "languages: give at least one"),
            (serde_json::json!({"languages": ["eng+deu"]}), "languages: \"eng+deu\" is not a Tesseract language code"),
            (serde_json::json!({"languages": ["../x"]}), "languages: \"../x\" is not"),
            (serde_json::json!({"languages": ["-l"]}), "languages: \"-l\" is not"),
            (serde_json::json!({"languages": ["eng", "eng"]}), "languages: \"eng\" is listed twice"),
            (serde_json::json!({"mode": "redo", "deskew": true}), "deskew: cannot be combined"),
            (serde_json::json!({"image_dpi": 20}), "image_dpi: 20 is outside 50 to 1200"),
        ] {
            let err = ocr(json.clone()).unwrap_err();
            assert!(err.message.starts_with(start), "{json}: {err}");
        }
        assert!(ocr(serde_json::json!({"languages": ["chi_sim", "script/Latin"]})).is_ok());
        assert!(ocr(serde_json::json!({"language": ["eng"]})).is_err(), "unknown fields are refused");
    }

    #[test]
    fn text_pages_are_checked() {
        let params = PdfToTextParams { pages: Some("1-x".into()), layout: false };
        assert!(params.validate().unwrap_err().message.starts_with("pages: "));
        assert!(PdfToTextParams::default().validate().is_ok());
    }
}
