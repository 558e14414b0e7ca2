//! `rotate`: turn the selected pages of each input.

use super::{PDF, Runner, Tool, pdf_output};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{RotateParams, page_selection};
use scanpro_pdf::streaming;
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "rotate",
    title: "Rotate pages",
    summary: "Turn pages by 90, 180 or 270 degrees clockwise, on top of their current rotation; each input is rotated separately.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<RotateParams>,
    check: check::<RotateParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: RotateParams = parse(params)?;
    let angle = params.quarter_turns()?;
    let selection = page_selection("pages", params.pages.as_deref())?;
    let mut names = UniqueNames::default();
    let mut outputs = Vec::with_capacity(inputs.len());
    let mut streamed = false;
    for input in inputs {
        let out = out_dir.join(names.claim(&format!("{}_rotated", safe_stem(&input.filename)), ".pdf"));
        let choose = |count| selection.resolve(count).map_err(|e| ToolError::invalid_param("pages", e));
        if streaming::is_large(std::slice::from_ref(&input.path)) {
            streamed = true;
            let pages = choose(streaming::page_count(&input.path)?)?;
            streaming::rotate(&input.path, angle, &pages, &out)?;
        } else {
            scanpro_pdf::rotate_with(&input.path, angle, choose, &out)?;
        }
        outputs.push(pdf_output(out));
    }
    Ok(StepResult { outputs, report: Some(serde_json::json!({"streaming": streamed})) })
}
