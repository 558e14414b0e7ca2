//! `verify_signatures`: each signature of a PDF checked (intact, changed after, time, signer,
//! trusted by the server's trust store), as JSON.

use super::{About, NativeTool, PDF, Tool, ToolParams, json_answer};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::signing::settings;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_pdf::signatures::{certificates_from_pem, verify};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<VerifySignaturesParams>(About {
    name: "verify_signatures",
    title: "Check signatures",
    summary: "Check the digital signatures of a PDF: who signed and when, whether the document changed \
              after each signature, time stamps, and whether the certificate is trusted.",
    group: "security",
    inputs: InputRule { min: 1, max: Some(1), formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifySignaturesParams {}

impl Validate for VerifySignaturesParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl ToolParams for VerifySignaturesParams {}

impl NativeTool for VerifySignaturesParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let input = &inputs[0];
        let trusted = match settings().trust_store_pem {
            Some(pem) => certificates_from_pem(&pem)
                .map_err(|e| ToolError::internal(format!("the configured signature_trust_store: {e}")))?,
            None => Vec::new(),
        };
        let report = verify(&input.path, &trusted)?;
        json_answer(out_dir, format!("{}_signatures.json", safe_stem(&input.filename)), &report)
    }
}
