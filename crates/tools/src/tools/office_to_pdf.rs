//! `office_to_pdf`: office documents (and text, HTML) to PDF or PDF/A, each input on its own.

use super::office::{OFFICE_DOCUMENTS, convert_each, pdfa_level};
use super::{About, EngineTool, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use scanpro_core::ToolError;
use scanpro_core::params::{PdfaLevel, Validate, page_selection, page_selection_field};
use scanpro_engines::office::{ConvertOptions, ConvertRequest, TargetFormat};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) const TOOL: Tool = Tool::engine::<OfficeToPdfParams>(
    Engine::Libreoffice,
    About {
        name: "office_to_pdf",
        title: "Office to PDF",
        summary: "Word, Excel, PowerPoint, OpenDocument, RTF, text and HTML documents to PDF or PDF/A; each input becomes one PDF.",
        group: "convert_to_pdf",
        inputs: InputRule { min: 1, max: None, formats: OFFICE_DOCUMENTS },
    },
);

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeToPdfParams {
    /// Pages of the laid-out document to keep, in ascending order, e.g. `1-3,5`. Absent: all.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
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
    /// An accessible PDF/UA-1 document: tagged, with its title and language.
    #[serde(default)]
    pub pdfua: bool,
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

impl ToolParams for OfficeToPdfParams {}

impl EngineTool for OfficeToPdfParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let params = self;
            let options = ConvertOptions {
                pages: params.pages.as_deref().map(|pages| page_selection("pages", Some(pages))).transpose()?,
                pdfa: params.pdfa.map(pdfa_level),
                export_bookmarks: params.export_bookmarks,
                export_notes: params.export_notes,
                pdfua: params.pdfua,
                single_page_sheets: params.single_page_sheets,
                landscape: params.landscape,
            };
            convert_each(&step, step.inputs, &ConvertRequest { to: TargetFormat::Pdf, options }).await
        })
    }
}
