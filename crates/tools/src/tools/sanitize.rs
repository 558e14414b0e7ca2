//! `sanitize`: scripts, embedded files, links out and metadata removed from each PDF, with a
//! report of what each held.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_pdf::sanitize::Sanitize;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<SanitizeParams>(About {
    name: "sanitize",
    title: "Sanitize",
    summary: "Remove what a PDF can run, carry or give away: JavaScript and actions, embedded files, \
              links to web addresses, XMP and document metadata. The report lists what was found.",
    group: "security",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SanitizeParams {
    /// JavaScript, actions that launch programs, submit forms or play media, and the triggers
    /// that run them.
    #[serde(default = "yes")]
    pub scripts: bool,
    /// Files embedded in the document or attached to its pages.
    #[serde(default = "yes")]
    pub embedded_files: bool,
    /// Links to web addresses and other files (links inside the document stay).
    #[serde(default)]
    pub links: bool,
    /// The XMP metadata stream.
    #[serde(default)]
    pub xmp_metadata: bool,
    /// Title, author, dates and the rest of the document information.
    #[serde(default)]
    pub document_metadata: bool,
}

impl Default for SanitizeParams {
    fn default() -> Self {
        Self { scripts: true, embedded_files: true, links: false, xmp_metadata: false, document_metadata: false }
    }
}

impl Validate for SanitizeParams {
    fn validate(&self) -> Result<(), ToolError> {
        let any = self.scripts || self.embedded_files || self.links || self.xmp_metadata || self.document_metadata;
        if any { Ok(()) } else { Err(ToolError::invalid_param("scripts", "choose at least one thing to remove")) }
    }
}

impl ToolParams for SanitizeParams {}

impl NativeTool for SanitizeParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let what = Sanitize {
            scripts: self.scripts,
            embedded_files: self.embedded_files,
            links: self.links,
            xmp_metadata: self.xmp_metadata,
            document_metadata: self.document_metadata,
        };
        each_input(inputs, out_dir, "_sanitized", |input, out| scanpro_pdf::sanitize::sanitize(&input.path, what, out))
    }
}
