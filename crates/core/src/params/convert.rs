//! `office_to_pdf`, `pdf_to_office`, `convert_office`, `html_to_pdf`, `markdown_to_pdf`: the
//! conversions LibreOffice makes.

use super::{PdfaLevel, Validate, page_selection};
use crate::error::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeToPdfParams {
    /// Pages of the laid-out document to keep, in ascending order, e.g. `1-3,5`. Absent: all.
    #[serde(default)]
    pub pages: Option<String>,
    /// Write PDF/A at this level instead of plain PDF.
    #[serde(default)]
    pub pdfa: Option<PdfaLevel>,
    /// Headings (text documents) or slide titles (presentations) become PDF bookmarks. Default on.
    #[serde(default)]
    pub export_bookmarks: Option<bool>,
    /// Comments in the document become PDF comments.
    #[serde(default)]
    pub export_notes: bool,
    /// Spreadsheets: each sheet on one page sized to fit it, so the PDF has one page per sheet.
    #[serde(default)]
    pub single_page_sheets: bool,
    /// Text documents and spreadsheets: portrait page styles are turned to landscape.
    #[serde(default)]
    pub landscape: bool,
}

impl Validate for OfficeToPdfParams {
    fn validate(&self) -> Result<(), ToolError> {
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

/// A format LibreOffice's PDF import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PdfImportTarget {
    /// Word document.
    Docx,
    /// OpenDocument text.
    Odt,
    /// PowerPoint presentation, one slide per page.
    Pptx,
    /// OpenDocument presentation, one slide per page.
    Odp,
    /// OpenDocument drawing, one page per page.
    Odg,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PdfToOfficeParams {
    /// The format to write. Pages become positioned text boxes and drawings: the layout is kept,
    /// text does not reflow, and scanned pages stay images.
    #[serde(default = "default_pdf_import_target")]
    pub to: PdfImportTarget,
}

fn default_pdf_import_target() -> PdfImportTarget {
    PdfImportTarget::Docx
}

impl Validate for PdfToOfficeParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

/// An office format to convert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OfficeTarget {
    Docx,
    Doc,
    Odt,
    Rtf,
    /// UTF-8 text of a text document.
    Txt,
    Xlsx,
    Xls,
    Ods,
    /// The first sheet of a spreadsheet, comma-separated, UTF-8.
    Csv,
    Pptx,
    Ppt,
    Odp,
    Odg,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertOfficeParams {
    /// The format to write; it must suit the document (a spreadsheet cannot become a `docx`).
    pub to: OfficeTarget,
}

impl Validate for ConvertOfficeParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

/// `html_to_pdf` and `markdown_to_pdf`. Remote images, styles and scripts are never fetched.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageToPdfParams {
    /// Lay the pages out in landscape.
    #[serde(default)]
    pub landscape: bool,
    /// Write PDF/A at this level instead of plain PDF.
    #[serde(default)]
    pub pdfa: Option<PdfaLevel>,
}

impl Validate for PageToPdfParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

/// A format `convert` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConvertTarget {
    /// From office documents, HTML, Markdown and images.
    Pdf,
    Docx,
    Doc,
    Odt,
    Rtf,
    /// UTF-8 text: of a text document, or the text layer of a PDF.
    Txt,
    Xlsx,
    Xls,
    Ods,
    /// The first sheet of a spreadsheet, comma-separated, UTF-8.
    Csv,
    Pptx,
    Ppt,
    Odp,
    Odg,
    /// One image per PDF page.
    Png,
    /// One JPEG per PDF page.
    #[serde(alias = "jpeg")]
    Jpg,
}

impl ConvertTarget {
    pub const ALL: [Self; 16] = [
        Self::Pdf,
        Self::Docx,
        Self::Doc,
        Self::Odt,
        Self::Rtf,
        Self::Txt,
        Self::Xlsx,
        Self::Xls,
        Self::Ods,
        Self::Csv,
        Self::Pptx,
        Self::Ppt,
        Self::Odp,
        Self::Odg,
        Self::Png,
        Self::Jpg,
    ];

    /// The name as written in `to`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Doc => "doc",
            Self::Odt => "odt",
            Self::Rtf => "rtf",
            Self::Txt => "txt",
            Self::Xlsx => "xlsx",
            Self::Xls => "xls",
            Self::Ods => "ods",
            Self::Csv => "csv",
            Self::Pptx => "pptx",
            Self::Ppt => "ppt",
            Self::Odp => "odp",
            Self::Odg => "odg",
            Self::Png => "png",
            Self::Jpg => "jpg",
        }
    }
}

/// `convert`: the input is recognised from its bytes, and `to` decides the conversion. Each
/// option applies to some conversions only; given to another, it is refused.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertParams {
    /// The format to write: `pdf` from office documents, HTML, Markdown (a text file named
    /// `.md`) or images (several images make one PDF); office formats from office documents,
    /// or `docx`, `odt`, `pptx`, `odp`, `odg` from a PDF; `txt` from a text document or a PDF's
    /// text layer; `png` or `jpg`, one image per page of a PDF.
    pub to: ConvertTarget,
    /// Pages to convert (e.g. `1-3,5`): of the laid-out office document into PDF, or of the PDF
    /// into images or text. Absent: every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
    /// Write PDF/A at this level instead of plain PDF (office documents, HTML, Markdown; for `to = pdf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdfa: Option<PdfaLevel>,
    /// Lay the pages out in landscape (office documents, HTML, Markdown; for `to = pdf`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub landscape: bool,
    /// Page size of images made into a PDF: `fit` (the image's own size), `a4` or `letter` (for `to = pdf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<super::ImagePageSize>,
    /// Resolution of page images in dots per inch, 10 to 600. Default 150 (for `to = png|jpg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 600))]
    pub dpi: Option<u32>,
    /// JPEG quality, 1 to 100. Default 85 (`jpg` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub quality: Option<u8>,
}

impl ConvertParams {
    /// The options given, by name, for conversions that check which apply.
    pub fn options_given(&self) -> Vec<&'static str> {
        let given = [
            ("pages", self.pages.is_some()),
            ("pdfa", self.pdfa.is_some()),
            ("landscape", self.landscape),
            ("page_size", self.page_size.is_some()),
            ("dpi", self.dpi.is_some()),
            ("quality", self.quality.is_some()),
        ];
        given.into_iter().filter(|(_, given)| *given).map(|(name, _)| name).collect()
    }
}

impl Validate for ConvertParams {
    fn validate(&self) -> Result<(), ToolError> {
        use ConvertTarget::{Jpg, Pdf, Png};
        let to = self.to;
        let only_for = |field: &str, formats: &str| {
            Err(ToolError::invalid_param(field, format!("applies to `to` {formats}, not {}", to.as_str())))
        };
        if to != Pdf {
            for (field, given) in
                [("pdfa", self.pdfa.is_some()), ("landscape", self.landscape), ("page_size", self.page_size.is_some())]
            {
                if given {
                    return only_for(field, "pdf");
                }
            }
        }
        if self.dpi.is_some() && !matches!(to, Png | Jpg) {
            return only_for("dpi", "png or jpg");
        }
        if self.quality.is_some() && to != Jpg {
            return only_for("quality", "jpg");
        }
        if let Some(dpi) = self.dpi
            && !super::PdfToImageParams::DPI_RANGE.contains(&dpi)
        {
            let range = super::PdfToImageParams::DPI_RANGE;
            return Err(ToolError::invalid_param(
                "dpi",
                format!("{dpi} is outside {} to {}", range.start(), range.end()),
            ));
        }
        if let Some(quality) = self.quality
            && !(1..=100).contains(&quality)
        {
            return Err(ToolError::invalid_param("quality", format!("{quality} is outside 1 to 100")));
        }
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}
