//! `split`: one PDF per range, per N pages, or per page, of each input.

use super::{PDF, Tool, pdf_output};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{SplitMode, SplitParams, page_selection};
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "split",
    title: "Split a PDF",
    summary: "Cut a PDF into several: one file per page range (\"1-3,5,8-\"), per N pages, or per page.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<SplitParams>,
    check: check::<SplitParams>,
    run,
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: SplitParams = parse(params)?;
    let mut stems = UniqueNames::default();
    let mut outputs = Vec::new();
    for input in inputs {
        // Unique stems keep the parts of two inputs with the same name apart.
        let stem = stems.claim(&safe_stem(&input.filename), "");
        let parts = scanpro_pdf::split_with(&input.path, |count| groups(&params, count), out_dir, &stem)?;
        outputs.extend(parts.into_iter().map(pdf_output));
    }
    Ok(StepResult { outputs, report: None })
}

/// The page groups of a `page_count`-page document, one per output file.
fn groups(params: &SplitParams, page_count: u32) -> Result<Vec<Vec<u32>>, ToolError> {
    match params.mode {
        SplitMode::Ranges => page_selection("ranges", params.ranges.as_deref())?
            .resolve_groups(page_count)
            .map_err(|e| ToolError::invalid_param("ranges", e)),
        SplitMode::Every => {
            let every = params.every.unwrap_or(1).max(1) as usize;
            let pages: Vec<u32> = (1..=page_count).collect();
            Ok(pages.chunks(every).map(<[u32]>::to_vec).collect())
        }
        SplitMode::Each => Ok((1..=page_count).map(|page| vec![page]).collect()),
    }
}
