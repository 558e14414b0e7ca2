//! `pdf_to_text`: the text layer of born-digital PDFs (poppler), page by page.

use super::ocr::named;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, Output, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::PdfToTextParams;
use scanpro_engines::ocr;
use serde_json::json;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<PdfToTextParams>(About {
    name: "pdf_to_text",
    title: "PDF to text",
    summary: "The text of born-digital PDFs as UTF-8, one form feed after each page; reports pages without text, which need OCR.",
    group: "convert_from_pdf",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

/// Runs poppler under the subprocess runner, from the step process.
impl ToolParams for PdfToTextParams {}

impl NativeTool for PdfToTextParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ToolError::internal(format!("runtime: {e}")))?;
        let mut names = UniqueNames::default();
        let mut outputs = Vec::with_capacity(inputs.len());
        let mut reports = Vec::with_capacity(inputs.len());
        for input in inputs {
            let filename = names.claim(&safe_stem(&input.filename), ".txt");
            let path = out_dir.join(&filename);
            let report =
                runtime.block_on(ocr::pdf_to_text(&input.path, &path, &params)).map_err(|e| named(input, e))?;
            let mut report = json!(report);
            report["file"] = json!(input.filename);
            reports.push(report);
            outputs.push(Output { path, filename, content_type: "text/plain; charset=utf-8".into() });
        }
        Ok(StepResult { outputs, report: Some(json!({ "files": reports })) })
    }
}
