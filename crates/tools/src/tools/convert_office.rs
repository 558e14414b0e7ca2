//! `convert_office`: between office formats.

use super::office::{OFFICE_DOCUMENTS, convert_each, target_format};
use super::{About, EngineTool, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_engines::office::ConvertRequest;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) const TOOL: Tool = Tool::engine::<ConvertOfficeParams>(
    Engine::Libreoffice,
    About {
        name: "convert_office",
        title: "Convert office documents",
        summary: "Between office formats: doc to docx, xlsx to ods or csv, pptx to odp, and back.",
        group: "convert",
        inputs: InputRule { min: 1, max: None, formats: OFFICE_DOCUMENTS },
    },
);

/// An office format to convert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(extend("format" = "file-format"))]
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

impl ToolParams for ConvertOfficeParams {}

impl EngineTool for ConvertOfficeParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let params = self;
            let to = target_format(params.to)?;
            convert_each(&step, step.inputs, &ConvertRequest::new(to)).await
        })
    }
}
