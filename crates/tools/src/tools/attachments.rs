//! `attachments`: list the files embedded in a PDF (JSON), or extract them.

use super::{About, NativeTool, PDF, Tool, ToolParams, json_answer};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, Output, StepResult, detect_content_type};
use scanpro_core::params::Validate;
use scanpro_core::{ErrorCode, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<AttachmentsParams>(About {
    name: "attachments",
    title: "Embedded files",
    summary: "List the files embedded in a PDF (name, size, type, the page a file is pinned to) \
              as JSON, or extract them. Add files with Attach files.",
    group: "edit",
    // One answer per step: the list, or the files of one document.
    inputs: InputRule { min: 1, max: Some(1), formats: PDF },
});

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentsMode {
    /// The embedded files as JSON.
    #[default]
    List,
    /// The embedded files themselves, each as an output.
    Extract,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentsParams {
    #[serde(default)]
    pub mode: AttachmentsMode,
}

impl Validate for AttachmentsParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for AttachmentsParams {}

impl NativeTool for AttachmentsParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let input = &inputs[0];
        if self.mode == AttachmentsMode::List {
            let report = scanpro_pdf::attachments::list_attachments(&input.path)?;
            return json_answer(out_dir, format!("{}_attachments.json", safe_stem(&input.filename)), &report);
        }
        let mut names = UniqueNames::default();
        let mut outputs = Vec::new();
        let report = scanpro_pdf::attachments::extract_attachments(&input.path, |file, bytes| {
            // The names come from the document: only a clean stem and extension reach the disk.
            let filename = names.claim(&safe_stem(&file.name), &safe_extension(&file.name));
            let path = out_dir.join(&filename);
            std::fs::write(&path, bytes).map_err(|e| ToolError::internal(format!("cannot write {filename}: {e}")))?;
            let content_type = detect_content_type(&bytes[..bytes.len().min(4096)]).to_owned();
            outputs.push(Output { path, filename, content_type });
            Ok(())
        })?;
        if outputs.is_empty() {
            return Err(ToolError::new(
                ErrorCode::InvalidParams,
                format!("mode: {} has no embedded files to extract", input.filename),
            ));
        }
        let report = serde_json::to_value(&report).map_err(|e| ToolError::internal(format!("attachments: {e}")))?;
        Ok(StepResult { outputs, report: Some(report) })
    }
}

/// `.xml` from `"invoice.xml"`: letters and digits only, at most 10; none when there are none.
fn safe_extension(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    match base.rsplit_once('.') {
        Some((stem, extension))
            if !stem.is_empty()
                && (1..=10).contains(&extension.len())
                && extension.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            format!(".{}", extension.to_ascii_lowercase())
        }
        _ => String::new(),
    }
}
