//! The registry: every tool, in catalogue order, with the functions behind it.

mod extract_pages;
mod images_to_pdf;
mod info;
mod merge;
mod metadata;
mod page_numbers;
mod page_outputs;
mod pdf_to_image;
mod protect;
mod remove_pages;
mod reorder;
mod repair;
mod rotate;
mod sign;
mod split;
mod thumbnails;
mod unlock;
mod watermark;

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
pub(crate) const ALL: &[Tool] = &[
    merge::TOOL,
    split::TOOL,
    rotate::TOOL,
    info::TOOL,
    images_to_pdf::TOOL,
    pdf_to_image::TOOL,
    thumbnails::TOOL,
    watermark::TOOL,
    page_numbers::TOOL,
    sign::TOOL,
    remove_pages::TOOL,
    extract_pages::TOOL,
    reorder::TOOL,
    protect::TOOL,
    unlock::TOOL,
    metadata::TOOL,
    repair::TOOL,
];

const PDF: &[&str] = &["pdf"];

fn pdf_output(path: PathBuf) -> Output {
    let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Output { path, filename, content_type: "application/pdf".into() }
}
