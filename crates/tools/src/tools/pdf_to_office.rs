//! `pdf_to_office`: PDF pages rebuilt as positioned text boxes and drawings in an office document.

use super::office::{convert_each, target_format};
use super::{About, EngineTool, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_engines::office::ConvertRequest;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) const TOOL: Tool = Tool::engine::<PdfToOfficeParams>(
    Engine::Libreoffice,
    About {
        name: "pdf_to_office",
        title: "PDF to Word, PowerPoint or OpenDocument",
        summary: "Each page rebuilt as positioned text boxes and drawings in a docx, odt, pptx, odp or odg: the layout is kept, text does not reflow.",
        group: "convert_from_pdf",
        inputs: InputRule { min: 1, max: None, formats: &["pdf"] },
    },
);

/// A format LibreOffice's PDF import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(extend("format" = "file-format"))]
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

impl ToolParams for PdfToOfficeParams {}

impl EngineTool for PdfToOfficeParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let params = self;
            let to = target_format(params.to)?;
            convert_each(&step, step.inputs, &ConvertRequest::new(to)).await
        })
    }
}
