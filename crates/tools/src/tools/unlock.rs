//! `unlock`: remove a PDF's encryption, given its password.

use super::page_outputs::each_input;
use super::protect::{hidden, parse_secret};
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<UnlockParams>(About {
    name: "unlock",
    title: "Remove a password",
    summary: "Decrypt a protected PDF with its password (user or owner), removing the password and every restriction. A file that is not encrypted is passed through unchanged.",
    group: "security",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockParams {
    /// The password that opens the document (user or owner password). Absent or empty: the
    /// document must open without one (only its permissions are then removed).
    #[serde(default)]
    pub password: String,
}

impl Validate for UnlockParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl fmt::Debug for UnlockParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnlockParams").field("password", &hidden(&self.password)).finish()
    }
}

impl ToolParams for UnlockParams {
    fn parse(params: &Value) -> Result<Self, ToolError> {
        parse_secret(params)
    }
}

impl NativeTool for UnlockParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        each_input(inputs, out_dir, "_unlocked", |input, out| scanpro_pdf::unlock(&input.path, &params.password, out))
    }
}
