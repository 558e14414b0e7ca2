//! `merge`: the inputs' pages in one PDF, in the order given.

use super::{PDF, Runner, Tool, pdf_output};
use crate::catalogue::InputRule;
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::MergeParams;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub(crate) const TOOL: Tool = Tool {
    name: "merge",
    title: "Merge PDFs",
    summary: "Combine PDFs into one, in the order given; each file's bookmarks are kept under a bookmark named after it.",
    group: "organize",
    // One input is allowed: merging a single file is a harmless copy, and a pipeline step may
    // produce just one.
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<MergeParams>,
    check: check::<MergeParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: MergeParams = parse(params)?;
    let order = params.resolve_order(inputs.len())?;
    let paths: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
    // Bookmark titles: the user's file names, without the extension.
    let titles: Vec<String> = inputs
        .iter()
        .map(|i| Path::new(&i.filename).file_stem().unwrap_or_default().to_string_lossy().into_owned())
        .collect();
    let out = out_dir.join("merged.pdf");
    let streaming = scanpro_pdf::streaming::is_large(&paths);
    if streaming {
        scanpro_pdf::streaming::merge(&paths, &order, &out)?;
    } else {
        scanpro_pdf::merge_with_titles(&paths, &titles, &order, &out)?;
    }
    Ok(StepResult { outputs: vec![pdf_output(out)], report: Some(serde_json::json!({"streaming": streaming})) })
}
