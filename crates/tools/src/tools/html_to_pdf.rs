//! `html_to_pdf`: a saved web page to PDF; remote resources are never fetched.

use super::office::{convert_each, pdfa_level};
use super::{About, EngineTool, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use scanpro_core::ToolError;
use scanpro_core::params::{PdfaLevel, Validate};
use scanpro_engines::office::{ConvertOptions, ConvertRequest, TargetFormat};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) const TOOL: Tool = Tool::engine::<PageToPdfParams>(
    Engine::Libreoffice,
    About {
        name: "html_to_pdf",
        title: "HTML to PDF",
        summary: "A web page saved as HTML to PDF. Remote images, styles and scripts are never fetched.",
        group: "convert_to_pdf",
        inputs: InputRule { min: 1, max: None, formats: &["html"] },
    },
);

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

impl ToolParams for PageToPdfParams {}

impl EngineTool for PageToPdfParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let params = self;
            convert_each(&step, step.inputs, &page_request(&params)).await
        })
    }
}

pub(super) fn page_request(params: &PageToPdfParams) -> ConvertRequest {
    let options =
        ConvertOptions { landscape: params.landscape, pdfa: params.pdfa.map(pdfa_level), ..Default::default() };
    ConvertRequest { to: TargetFormat::Pdf, options }
}
