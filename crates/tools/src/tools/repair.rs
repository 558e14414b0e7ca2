//! `repair`: rewrite a damaged PDF so every reader opens it, saying what was wrong.

use super::page_outputs::each_input;
use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::RepairParams;
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "repair",
    title: "Repair a PDF",
    summary: "Rebuild a damaged PDF (broken cross-reference table, page tree, stream lengths, missing objects) with lopdf, else qpdf, else Ghostscript; the report says which worked and what was wrong.",
    group: "optimize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<RepairParams>,
    check: check::<RepairParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let _: RepairParams = parse(params)?;
    each_input(inputs, out_dir, "_repaired", |input, out| scanpro_pdf::repair(&input.path, out))
}
