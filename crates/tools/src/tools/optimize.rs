//! The Ghostscript tools: `compress`, `pdfa`, `grayscale`. Each input is rewritten on its own and
//! every output is checked (pages, text, blank pages) before it is trusted.

use super::{PDF, Runner, Tool, pdf_output};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use crate::names::{UniqueNames, safe_stem};
use crate::params::{check, parse, schema};
use crate::step::StepResult;
use scanpro_core::ToolError;
use scanpro_core::params::{CompressParams, GrayscaleParams, PdfaParams};
use scanpro_engines::ghostscript::{self, GhostscriptConfig};
use serde_json::{Value, json};
use std::path::Path;

pub(crate) const COMPRESS: Tool = Tool {
    name: "compress",
    title: "Compress PDF",
    summary: "Smaller PDFs at four levels (lossless, low, recommended, extreme) or to a target size; text stays searchable and the result is never larger than the input.",
    group: "optimize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<CompressParams>,
    check: check::<CompressParams>,
    runner: Runner::Engine(Engine::Ghostscript, compress),
};

pub(crate) const PDFA: Tool = Tool {
    name: "pdfa",
    title: "PDF to PDF/A",
    summary: "Archival PDF/A-1b, 2b or 3b: fonts embedded, colours in sRGB, metadata in XMP.",
    group: "optimize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<PdfaParams>,
    check: check::<PdfaParams>,
    runner: Runner::Engine(Engine::Ghostscript, pdfa),
};

pub(crate) const GRAYSCALE: Tool = Tool {
    name: "grayscale",
    title: "Grayscale PDF",
    summary: "Every colour, image and drawing turned to shades of gray, for cheaper printing.",
    group: "optimize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<GrayscaleParams>,
    check: check::<GrayscaleParams>,
    runner: Runner::Engine(Engine::Ghostscript, grayscale),
};

fn compress(step: EngineStep<'_>) -> StepFuture<'_> {
    Box::pin(async move {
        let params: CompressParams = parse(step.params)?;
        each_input(&step, "compressed", Rewrite::Compress(&params)).await
    })
}

fn pdfa(step: EngineStep<'_>) -> StepFuture<'_> {
    Box::pin(async move {
        let params: PdfaParams = parse(step.params)?;
        let suffix = format!("pdfa-{}", params.level.as_str());
        each_input(&step, &suffix, Rewrite::Pdfa(&params)).await
    })
}

fn grayscale(step: EngineStep<'_>) -> StepFuture<'_> {
    Box::pin(async move {
        let params: GrayscaleParams = parse(step.params)?;
        each_input(&step, "gray", Rewrite::Grayscale(&params)).await
    })
}

/// One of the rewrites, with its parameters.
enum Rewrite<'a> {
    Compress(&'a CompressParams),
    Pdfa(&'a PdfaParams),
    Grayscale(&'a GrayscaleParams),
}

impl Rewrite<'_> {
    async fn run(&self, config: &GhostscriptConfig, input: &Path, output: &Path) -> Result<Value, ToolError> {
        Ok(match self {
            Self::Compress(params) => json!(ghostscript::compress(config, input, output, params).await?),
            Self::Pdfa(params) => json!(ghostscript::pdfa(config, input, output, params).await?),
            Self::Grayscale(params) => json!(ghostscript::grayscale(config, input, output, params).await?),
        })
    }
}

/// Rewrites each input into `{stem}_{suffix}.pdf`; the step report lists each input's report
/// under `files`, and an error names the file it happened on.
async fn each_input(step: &EngineStep<'_>, suffix: &str, rewrite: Rewrite<'_>) -> Result<StepResult, ToolError> {
    let mut names = UniqueNames::default();
    let mut outputs = Vec::with_capacity(step.inputs.len());
    let mut reports = Vec::with_capacity(step.inputs.len());
    for input in step.inputs {
        let path = step.out_dir.join(names.claim(&format!("{}_{suffix}", safe_stem(&input.filename)), ".pdf"));
        let mut report = rewrite
            .run(step.engines.ghostscript(), &input.path, &path)
            .await
            .map_err(|e| ToolError::new(e.code, format!("{}: {}", input.filename, e.message)))?;
        report["file"] = json!(input.filename);
        reports.push(report);
        outputs.push(pdf_output(path));
    }
    Ok(StepResult { outputs, report: Some(json!({ "files": reports })) })
}
