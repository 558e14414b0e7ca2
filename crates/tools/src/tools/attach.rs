//! `attach`: files embedded in PDFs as attachments (associated files, as PDF/A-3 and e-invoices
//! carry them).

use super::{About, NativeTool, Tool, ToolParams, pdf_output};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, StepResult};
use scanpro_core::params::Validate;
use scanpro_core::{ErrorCode, ToolError};
use scanpro_pdf::attachments::{Attachment, attach};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<AttachParams>(About {
    name: "attach",
    title: "Attach files",
    summary: "Embed files in PDFs as attachments: the last inputs (any kind of file) go into each PDF before them.",
    group: "edit",
    inputs: InputRule { min: 2, max: None, formats: &[] },
});

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachParams {
    /// How many of the last inputs are the files to attach (1 by default); every input before
    /// them is a PDF that gets them all.
    #[serde(default = "one")]
    pub files: usize,
    /// Per attached file, by its name: its MIME type and its relationship to the document.
    #[serde(default)]
    pub metadata: BTreeMap<String, AttachmentMetadata>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentMetadata {
    /// e.g. `text/xml`.
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub relationship: Option<Relationship>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
pub enum Relationship {
    Source,
    Data,
    Alternative,
    Supplement,
    Unspecified,
}

fn one() -> usize {
    1
}

impl Validate for AttachParams {
    fn validate(&self) -> Result<(), ToolError> {
        if self.files == 0 {
            return Err(ToolError::invalid_param("files", "at least 1"));
        }
        for (name, meta) in &self.metadata {
            if meta
                .mime_type
                .as_ref()
                .is_some_and(|m| m.len() > 127 || !m.contains('/') || m.chars().any(char::is_whitespace))
            {
                return Err(ToolError::invalid_param("metadata", format!("{name}: not a MIME type")));
            }
        }
        Ok(())
    }
}

impl ToolParams for AttachParams {}

impl NativeTool for AttachParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        if self.files >= inputs.len() {
            return Err(ToolError::invalid_param(
                "files",
                format!("{} of {} inputs leaves no PDF to attach them to", self.files, inputs.len()),
            ));
        }
        let (documents, files) = inputs.split_at(inputs.len() - self.files);
        let attachments: Vec<Attachment<'_>> = files
            .iter()
            .map(|file| {
                let meta = self.metadata.get(&file.filename).cloned().unwrap_or_default();
                Attachment {
                    name: file.filename.clone(),
                    path: &file.path,
                    mime_type: meta.mime_type,
                    relationship: meta.relationship.map(|r| format!("{r:?}")),
                }
            })
            .collect();
        let mut names = UniqueNames::default();
        let mut outputs = Vec::with_capacity(documents.len());
        let mut reports = Vec::with_capacity(documents.len());
        for document in documents {
            let filename = names.claim(&safe_stem(&document.filename), ".pdf");
            let path = out_dir.join(&filename);
            let report = attach(&document.path, &attachments, &path)
                .map_err(|e| ToolError::new(e.code, format!("{}: {}", document.filename, e.message)))?;
            reports.push(serde_json::json!({"file": document.filename, "attachments": report.attachments}));
            outputs.push(pdf_output(path));
        }
        if outputs.is_empty() {
            return Err(ToolError::new(ErrorCode::InvalidParams, "no PDF to attach the files to"));
        }
        Ok(StepResult { outputs, report: Some(serde_json::json!({"documents": reports})) })
    }
}
