//! What the API lists and the UI builds its forms from.

use crate::tools::{ALL, Tool};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;

/// One tool as clients see it (`GET /api/v1/tools`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolInfo {
    /// The name used in job steps and URLs; part of the API, never renamed.
    pub name: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    /// Where the UI shows it: `organize`, `info`, …
    pub group: &'static str,
    pub inputs: InputRule,
    /// JSON Schema of the tool's parameters.
    pub params_schema: serde_json::Value,
    /// The external engine the tool runs in; absent for tools ScanPro runs itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<crate::engines::Engine>,
    /// Engines the tool needs for some inputs only (`convert`: LibreOffice for office
    /// documents); it runs the others without them.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub engines_for_some_inputs: &'static [crate::engines::Engine],
}

/// How many input files a tool takes, and of which formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InputRule {
    pub min: usize,
    /// `None`: no upper bound.
    pub max: Option<usize>,
    /// Accepted formats, detected from content: `pdf`, …; empty: any file.
    pub formats: &'static [&'static str],
}

impl InputRule {
    /// Refuses an input count outside the rule, naming the tool.
    pub fn check(&self, tool: &str, count: usize) -> Result<(), ToolError> {
        let problem = match self.max {
            _ if count < self.min => {
                format!("{tool} needs at least {} input{}, got {count}", self.min, plural(self.min))
            }
            Some(max) if count > max => format!("{tool} takes at most {max} input{}, got {count}", plural(max)),
            _ => return Ok(()),
        };
        Err(ToolError::invalid_param("inputs", problem))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Every tool, in a stable order.
pub fn catalogue() -> Vec<ToolInfo> {
    ALL.iter().map(Tool::info).collect()
}

/// The tool called `name`.
pub fn find(name: &str) -> Option<ToolInfo> {
    ALL.iter().find(|tool| tool.name == name).map(Tool::info)
}

/// The registered tool called `name`, or the error a request naming an unknown tool gets.
pub(crate) fn tool(name: &str) -> Result<&'static Tool, ToolError> {
    ALL.iter().find(|tool| tool.name == name).ok_or_else(|| {
        ToolError::new(ErrorCode::InvalidParams, format!("unknown tool \"{name}\"; see GET /api/v1/tools"))
    })
}
