//! `extract_pages`: a new document of the selected pages, in the order written.

use super::page_outputs::each_input;
use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::ExtractPagesParams;
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "extract_pages",
    title: "Extract pages",
    summary: "A new PDF of the selected pages in the order written (\"5,1-3\" puts page 5 first), with their links, annotations and bookmarks.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<ExtractPagesParams>,
    check: check::<ExtractPagesParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: ExtractPagesParams = parse(params)?;
    each_input(inputs, out_dir, "_extract", |input, out| {
        scanpro_pdf::select_pages(&input.path, |count| params.selected_pages(count), out)
    })
}
