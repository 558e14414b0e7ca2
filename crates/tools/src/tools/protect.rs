//! `protect`: AES-256 encryption with a user and an owner password and permissions.

use super::page_outputs::each_input;
use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::params::{parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::params::{Allowed, ProtectParams, Validate};
use scanpro_core::{ErrorCode, ToolError};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "protect",
    title: "Protect with a password",
    summary: "Encrypt with AES-256: a password to open (optional) and an owner password, with permissions for printing, copying, changes, annotations and forms.",
    group: "security",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<ProtectParams>,
    check: |params| parse_secret::<ProtectParams>(params).map(drop),
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: ProtectParams = parse_secret(params)?;
    let permissions = pdf_permissions(params.allowed());
    each_input(inputs, out_dir, "_protected", |input, out| {
        scanpro_pdf::protect(&input.path, &params.user_password, &params.owner_password, permissions, out)
    })
}

fn pdf_permissions(allowed: Allowed) -> scanpro_pdf::Permissions {
    scanpro_pdf::Permissions {
        print: allowed.print,
        copy: allowed.copy,
        modify: allowed.modify,
        annotate: allowed.annotate,
        fill_forms: allowed.fill_forms,
    }
}

/// [`parse`] whose errors never quote a password: serde names the value it did not expect
/// (`invalid type: integer `1234``), so a password field's type error is reworded.
pub(super) fn parse_secret<P: DeserializeOwned + Validate>(params: &Value) -> Result<P, ToolError> {
    parse(params).map_err(|error| {
        let field = ["owner_password", "user_password", "password"]
            .into_iter()
            .find(|field| error.message.starts_with(&format!("{field}: invalid")));
        match field {
            Some(field) if error.code == ErrorCode::InvalidParams => {
                ToolError::invalid_param(field, "must be a string")
            }
            _ => error,
        }
    })
}
