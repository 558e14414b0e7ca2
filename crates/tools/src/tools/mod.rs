//! The registry: every tool, in catalogue order, with the functions behind it.

mod info;
mod merge;
mod rotate;
mod split;

use crate::catalogue::{InputRule, ToolInfo};
use crate::step::{Input, Output, StepResult};
use scanpro_core::ToolError;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One tool: its catalogue entry, and the functions that check and run it.
pub(crate) struct Tool {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) group: &'static str,
    pub(crate) inputs: InputRule,
    pub(crate) schema: fn() -> Value,
    /// Parses and validates the parameters.
    pub(crate) check: fn(&Value) -> Result<(), ToolError>,
    /// Parses the parameters and runs; inputs are already checked against `inputs`.
    pub(crate) run: fn(&Value, &[Input], &Path) -> Result<StepResult, ToolError>,
}

impl Tool {
    pub(crate) fn info(&self) -> ToolInfo {
        ToolInfo {
            name: self.name,
            title: self.title,
            summary: self.summary,
            group: self.group,
            inputs: self.inputs,
            params_schema: (self.schema)(),
        }
    }
}

/// Catalogue order: clients may show tools in this order.
pub(crate) const ALL: &[Tool] = &[merge::TOOL, split::TOOL, rotate::TOOL, info::TOOL];

const PDF: &[&str] = &["pdf"];

fn pdf_output(path: PathBuf) -> Output {
    let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Output { path, filename, content_type: "application/pdf".into() }
}
