//! `remove_pages`: the document without the selected pages.

use super::page_outputs::each_input;
use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::RemovePagesParams;
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "remove_pages",
    title: "Remove pages",
    summary: "Delete the selected pages (\"2,5-7,last\"); links, bookmarks and annotations of the remaining pages are kept.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<RemovePagesParams>,
    check: check::<RemovePagesParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: RemovePagesParams = parse(params)?;
    each_input(inputs, out_dir, "_removed", |input, out| {
        scanpro_pdf::select_pages(&input.path, |count| params.kept_pages(count), out)
    })
}
