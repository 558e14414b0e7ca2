//! `merge`: the inputs' pages in one PDF, in the order given.

use super::{About, NativeTool, PDF, Tool, ToolParams, pdf_output};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub(crate) const TOOL: Tool = Tool::native::<MergeParams>(About {
    name: "merge",
    title: "Merge PDFs",
    summary: "Combine PDFs into one, in the order given; each file's bookmarks are kept under a bookmark named after it.",
    group: "organize",
    // One input is allowed: merging a single file is a harmless copy, and a pipeline step may
    // produce just one.
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeParams {
    /// Order of the inputs in the result, as 0-based input indices (e.g. `[2, 0, 1]`).
    /// Absent: the order the inputs were given. Every index must appear exactly once.
    #[serde(default)]
    pub order: Option<Vec<usize>>,
}

impl Validate for MergeParams {
    fn validate(&self) -> Result<(), ToolError> {
        Ok(())
    }
}

impl MergeParams {
    /// The input order to use for `input_count` inputs.
    pub fn resolve_order(&self, input_count: usize) -> Result<Vec<usize>, ToolError> {
        let Some(order) = &self.order else {
            return Ok((0..input_count).collect());
        };
        if order.len() != input_count {
            return Err(ToolError::invalid_param(
                "order",
                format!("lists {} indices but there are {input_count} inputs", order.len()),
            ));
        }
        let mut seen = vec![false; input_count];
        for &index in order {
            if index >= input_count {
                return Err(ToolError::invalid_param(
                    "order",
                    format!("index {index} does not exist (inputs are numbered 0 to {})", input_count - 1),
                ));
            }
            if std::mem::replace(&mut seen[index], true) {
                return Err(ToolError::invalid_param("order", format!("index {index} appears twice")));
            }
        }
        Ok(order.clone())
    }
}

impl ToolParams for MergeParams {}

impl NativeTool for MergeParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        let order = params.resolve_order(inputs.len())?;
        let paths: Vec<PathBuf> = inputs.iter().map(|i| i.path.clone()).collect();
        // Bookmark titles: the user's file names, without the extension.
        let titles: Vec<String> = inputs
            .iter()
            .map(|i| Path::new(&i.filename).file_stem().unwrap_or_default().to_string_lossy().into_owned())
            .collect();
        let out = out_dir.join("merged.pdf");
        let streaming = scanpro_pdf::streaming::is_large(&paths);
        if streaming {
            scanpro_pdf::streaming::merge(&paths, &order, &out)?;
        } else {
            scanpro_pdf::merge_with_titles(&paths, &titles, &order, &out)?;
        }
        Ok(StepResult { outputs: vec![pdf_output(out)], report: Some(serde_json::json!({"streaming": streaming})) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_order_is_a_permutation() {
        let p = MergeParams { order: Some(vec![1, 0]) };
        assert_eq!(p.resolve_order(2).unwrap(), vec![1, 0]);
        assert!(p.resolve_order(3).unwrap_err().message.starts_with("order:"));
        let p = MergeParams { order: Some(vec![0, 0]) };
        assert!(p.resolve_order(2).unwrap_err().message.contains("twice"));
    }
}
