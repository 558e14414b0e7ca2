//! `ocr` (OCRmyPDF and Tesseract) and `pdf_to_text` (poppler's text layer).

use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use crate::names::{UniqueNames, safe_stem};
use crate::params::{check, parse, schema};
use crate::step::{Input, Output, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{OcrParams, PdfToTextParams};
use scanpro_engines::ocr::{self, OcrConfig};
use serde_json::{Value, json};
use std::path::Path;

pub(crate) const OCR: Tool = Tool {
    name: "ocr",
    title: "OCR: make scans searchable",
    summary: "Recognises the text of scanned PDFs and images (PNG, JPEG, TIFF) and adds it under the page images; or returns it as plain text.",
    group: "ocr",
    inputs: InputRule { min: 1, max: None, formats: &["pdf", "png", "jpeg", "tiff"] },
    schema: ocr_schema,
    check: check::<OcrParams>,
    runner: Runner::Engine(Engine::Ocr, run_ocr),
};

pub(crate) const PDF_TO_TEXT: Tool = Tool {
    name: "pdf_to_text",
    title: "PDF to text",
    summary: "The text of born-digital PDFs as UTF-8, one form feed after each page; reports pages without text, which need OCR.",
    group: "convert_from_pdf",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<PdfToTextParams>,
    check: check::<PdfToTextParams>,
    runner: Runner::Native(pdf_to_text),
};

/// The parameters' schema, with the languages installed on this machine listed.
fn ocr_schema() -> Value {
    let mut schema = schema::<OcrParams>();
    if let Ok(languages) = ocr::installed_languages_blocking(&OcrConfig::default()) {
        schema["properties"]["languages"]["items"]["enum"] = json!(languages);
    }
    schema
}

fn run_ocr(step: EngineStep<'_>) -> StepFuture<'_> {
    Box::pin(async move {
        let params: OcrParams = parse(step.params)?;
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

/// Runs poppler under the subprocess runner, from the step process.
fn pdf_to_text(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: PdfToTextParams = parse(params)?;
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
        let report = runtime.block_on(ocr::pdf_to_text(&input.path, &path, &params)).map_err(|e| named(input, e))?;
        let mut report = json!(report);
        report["file"] = json!(input.filename);
        reports.push(report);
        outputs.push(Output { path, filename, content_type: "text/plain; charset=utf-8".into() });
    }
    Ok(StepResult { outputs, report: Some(json!({ "files": reports })) })
}

fn named(input: &Input, error: ToolError) -> ToolError {
    ToolError::new(error.code, format!("{}: {}", input.filename, error.message))
}
