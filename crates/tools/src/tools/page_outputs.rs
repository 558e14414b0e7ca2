//! What the page and document tools share: one output per input, named after it, and a report
//! listing each output with what the operation did to it.

use super::pdf_output;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, Output, StepResult};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Runs `operation(input, output path)` for each input, writing `{stem}{suffix}.pdf`, and
/// reports `{"outputs": [{"file", "input", …what the operation reported}]}` in input order.
pub(crate) fn each_input<R: Serialize>(
    inputs: &[Input],
    out_dir: &Path,
    suffix: &str,
    mut operation: impl FnMut(&Input, &Path) -> Result<R, ToolError>,
) -> Result<StepResult, ToolError> {
    let mut names = UniqueNames::default();
    let mut outputs: Vec<Output> = Vec::with_capacity(inputs.len());
    let mut entries = Vec::with_capacity(inputs.len());
    for input in inputs {
        let path: PathBuf = out_dir.join(names.claim(&format!("{}{suffix}", safe_stem(&input.filename)), ".pdf"));
        let report = operation(input, &path).map_err(|e| name_input(e, inputs, input))?;
        let mut entry = json!({ "file": path.file_name().map(|n| n.to_string_lossy()), "input": input.filename });
        if let (Value::Object(entry), Ok(Value::Object(fields))) = (&mut entry, serde_json::to_value(&report)) {
            entry.extend(fields);
        }
        entries.push(entry);
        outputs.push(pdf_output(path));
    }
    Ok(StepResult { outputs, report: Some(json!({ "outputs": entries })) })
}

/// With several inputs, an input's error says which input it is about.
fn name_input(error: ToolError, inputs: &[Input], input: &Input) -> ToolError {
    // A parameter error keeps its field first.
    if inputs.len() > 1 && error.code != ErrorCode::InvalidParams {
        return ToolError::new(error.code, format!("{}: {}", input.filename, error.message));
    }
    error
}
