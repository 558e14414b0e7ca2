//! `rotate`: turn the selected pages of each input.

use super::{About, NativeTool, PDF, Tool, ToolParams, pdf_output};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, page_selection, page_selection_field};
use scanpro_pdf::streaming;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<RotateParams>(About {
    name: "rotate",
    title: "Rotate pages",
    summary: "Turn pages by 90, 180 or 270 degrees clockwise, on top of their current rotation; each input is rotated separately.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateParams {
    /// Clockwise rotation in degrees: 90, 180 or 270 (-90 means 270). Added to any existing rotation.
    pub angle: i32,
    /// Pages to rotate (e.g. `1-3,even,last`). Absent: every page.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
    pub pages: Option<String>,
}

impl Validate for RotateParams {
    fn validate(&self) -> Result<(), ToolError> {
        self.quarter_turns()?;
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

impl RotateParams {
    /// The angle normalised to 90, 180 or 270.
    pub fn quarter_turns(&self) -> Result<i32, ToolError> {
        match self.angle.rem_euclid(360) {
            a @ (90 | 180 | 270) if self.angle % 90 == 0 => Ok(a),
            _ => Err(ToolError::invalid_param("angle", format!("{} is not 90, 180 or 270", self.angle))),
        }
    }
}

impl ToolParams for RotateParams {}

impl NativeTool for RotateParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        let angle = params.quarter_turns()?;
        let selection = page_selection("pages", params.pages.as_deref())?;
        let mut names = UniqueNames::default();
        let mut outputs = Vec::with_capacity(inputs.len());
        let mut streamed = false;
        for input in inputs {
            let out = out_dir.join(names.claim(&format!("{}_rotated", safe_stem(&input.filename)), ".pdf"));
            let choose = |count| selection.resolve(count).map_err(|e| ToolError::invalid_param("pages", e));
            if streaming::is_large(std::slice::from_ref(&input.path)) {
                streamed = true;
                let pages = choose(streaming::page_count(&input.path)?)?;
                streaming::rotate(&input.path, angle, &pages, &out)?;
            } else {
                scanpro_pdf::rotate_with(&input.path, angle, choose, &out)?;
            }
            outputs.push(pdf_output(out));
        }
        Ok(StepResult { outputs, report: Some(serde_json::json!({"streaming": streamed})) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotate_angles() {
        let r = |angle| RotateParams { angle, pages: None }.quarter_turns();
        assert_eq!(r(-90).unwrap(), 270);
        assert_eq!(r(450).unwrap(), 90);
        assert!(r(45).is_err());
        assert!(r(0).is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<RotateParams>(r#"{"angle":90,"page":"1"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `page`"), "{err}");
    }
}
