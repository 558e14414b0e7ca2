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
