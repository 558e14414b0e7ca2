//! What the Ghostscript tools ([`compress`](super::compress), [`pdfa`](super::pdfa),
//! [`grayscale`](super::grayscale)) share: each input is rewritten on its own and every output is
//! checked (pages, text, blank pages) before it is trusted.

use super::pdf_output;
use scanpro_core::params::{CompressParams, GrayscaleParams, PdfaParams};

use crate::engines::EngineStep;

use crate::names::{UniqueNames, safe_stem};

use crate::step::StepResult;

use scanpro_core::ToolError;

use scanpro_engines::ghostscript::{self, GhostscriptConfig};

use serde_json::{Value, json};

use std::path::Path;

/// One of the rewrites, with its parameters.
pub(super) enum Rewrite<'a> {
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
pub(super) async fn each_input(
    step: &EngineStep<'_>,
    suffix: &str,
    rewrite: Rewrite<'_>,
) -> Result<StepResult, ToolError> {
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
