//! `reorder`: the same pages in a new order.

use super::page_outputs::each_input;
use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::ReorderParams;
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "reorder",
    title: "Reorder pages",
    summary: "Put the pages in a new order, naming every page once (\"3,1,2\" or [3, 1, 2]); bookmarks follow their pages.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<ReorderParams>,
    check: check::<ReorderParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: ReorderParams = parse(params)?;
    each_input(inputs, out_dir, "_reordered", |input, out| {
        scanpro_pdf::select_pages(&input.path, |count| params.resolve_order(count), out)
    })
}
