//! `ocr`: OCRmyPDF and Tesseract make scans searchable, or give their text.

use super::{About, EngineTool, Tool, ToolParams};
use scanpro_core::params::OcrParams;

use crate::catalogue::InputRule;

use crate::params::schema;

use crate::engines::{Engine, EngineStep, StepFuture};

use crate::names::{UniqueNames, safe_stem};

use crate::step::{Input, Output, StepResult};

use scanpro_core::ToolError;

use scanpro_engines::ocr::{self, OcrConfig};

use serde_json::{Value, json};

pub(crate) const TOOL: Tool = Tool::engine::<OcrParams>(
    Engine::Ocr,
    About {
        name: "ocr",
        title: "OCR: make scans searchable",
        summary: "Recognises the text of scanned PDFs and images (PNG, JPEG, TIFF) and adds it under the page images; or returns it as plain text.",
        group: "ocr",
        inputs: InputRule { min: 1, max: None, formats: &["pdf", "png", "jpeg", "tiff"] },
    },
);

impl ToolParams for OcrParams {
    /// The parameters' schema, with the languages installed on this machine listed.
    fn schema() -> Value {
        let mut schema = schema::<OcrParams>();
        if let Ok(languages) = ocr::installed_languages_blocking(&OcrConfig::default()) {
            schema["properties"]["languages"]["items"]["enum"] = json!(languages);
        }
        schema
    }
}

impl EngineTool for OcrParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let params = self;
            let extension = params.output.extension();
            let mut names = UniqueNames::default();
            let mut outputs = Vec::with_capacity(step.inputs.len());
            let mut reports = Vec::with_capacity(step.inputs.len());
            for input in step.inputs {
                let filename = names.claim(&format!("{}_ocr", safe_stem(&input.filename)), &format!(".{extension}"));
                let path = step.out_dir.join(&filename);
                let report = ocr::ocr(step.engines.ocr(), &input.path, &path, &params, step.progress.clone())
                    .await
                    .map_err(|e| named(input, e))?;
                let mut report = json!(report);
                report["file"] = json!(input.filename);
                reports.push(report);
                outputs.push(Output { path, filename, content_type: params.output.content_type().into() });
            }
            Ok(StepResult { outputs, report: Some(json!({ "files": reports })) })
        })
    }
}

pub(super) fn named(input: &Input, error: ToolError) -> ToolError {
    ToolError::new(error.code, format!("{}: {}", input.filename, error.message))
}
