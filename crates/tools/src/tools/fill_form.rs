//! `fill_form`: write values into a PDF form's fields by name, with appearances every viewer
//! shows; optionally flattened into the pages.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_pdf::forms::FieldValue;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<FillFormParams>(About {
    name: "fill_form",
    title: "Fill in a form",
    summary: "Fill a PDF form's fields by name: text, checkboxes, radio buttons, lists and drop-downs \
              (List form fields shows the names and options). Optionally flatten the result so it \
              can no longer be changed.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

/// More values than any form has fields is a mistake, or an attack on the step's time.
const MAX_VALUES: usize = 10_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FillFormParams {
    /// Values by field name, e.g. `{"name": "Ada Lovelace", "subscribe": true, "size": "L",
    /// "toppings": ["ham", "olives"]}`: a string for text fields, radio groups and choices,
    /// `true`/`false` for checkboxes, a list of strings for a list that allows several choices.
    pub values: BTreeMap<String, FieldValue>,
    /// Draw the filled form into its pages, so it can no longer be changed.
    #[serde(default)]
    pub flatten: bool,
}

impl Validate for FillFormParams {
    fn validate(&self) -> Result<(), ToolError> {
        if self.values.is_empty() {
            return Err(ToolError::invalid_param("values", "give at least one field's value"));
        }
        if self.values.len() > MAX_VALUES {
            return Err(ToolError::invalid_param("values", format!("at most {MAX_VALUES} fields")));
        }
        Ok(())
    }
}

impl ToolParams for FillFormParams {}

impl NativeTool for FillFormParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        each_input(inputs, out_dir, "_filled", |input, out| {
            scanpro_pdf::forms::fill_form(&input.path, &self.values, self.flatten, out)
        })
    }
}
