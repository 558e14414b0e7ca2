//! `unlock`: remove a PDF's encryption, given its password.

use super::page_outputs::each_input;
use super::protect::parse_secret;
use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::params::schema;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::UnlockParams;
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "unlock",
    title: "Remove a password",
    summary: "Decrypt a protected PDF with its password (user or owner), removing the password and every restriction. A file that is not encrypted is passed through unchanged.",
    group: "security",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<UnlockParams>,
    check: |params| parse_secret::<UnlockParams>(params).map(drop),
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: UnlockParams = parse_secret(params)?;
    each_input(inputs, out_dir, "_unlocked", |input, out| scanpro_pdf::unlock(&input.path, &params.password, out))
}
