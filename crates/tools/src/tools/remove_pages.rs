//! `remove_pages`: the document without the selected pages.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, page_selection, page_selection_field, resolve_pages};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<RemovePagesParams>(About {
    name: "remove_pages",
    title: "Remove pages",
    summary: "Delete the selected pages (\"2,5-7,last\"); links, bookmarks and annotations of the remaining pages are kept.",
    group: "organize",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovePagesParams {
    /// Pages to remove (e.g. `2,5-7,last`). At least one page must remain.
    #[schemars(transform = page_selection_field)]
    pub pages: String,
}

impl Validate for RemovePagesParams {
    fn validate(&self) -> Result<(), ToolError> {
        page_selection("pages", Some(&self.pages)).map(drop)
    }
}

impl RemovePagesParams {
    /// The pages that stay, 1-based, in document order.
    pub fn kept_pages(&self, page_count: u32) -> Result<Vec<u32>, ToolError> {
        let removed = resolve_pages("pages", &self.pages, page_count)?;
        if removed.len() >= page_count as usize {
            return Err(ToolError::invalid_param(
                "pages",
                format!("\"{}\" removes every page ({page_count}); at least one page must remain", self.pages.trim()),
            ));
        }
        let mut gone = vec![false; page_count as usize + 1];
        for page in removed {
            gone[page as usize] = true;
        }
        Ok((1..=page_count).filter(|&page| !gone[page as usize]).collect())
    }
}

impl ToolParams for RemovePagesParams {}

impl NativeTool for RemovePagesParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        each_input(inputs, out_dir, "_removed", |input, out| {
            scanpro_pdf::select_pages(&input.path, |count| params.kept_pages(count), out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_keeps_the_rest_and_never_everything() {
        let remove = |pages: &str| RemovePagesParams { pages: pages.into() };
        assert_eq!(remove("2,4-5").kept_pages(6).unwrap(), [1, 3, 6]);
        assert_eq!(remove("last").kept_pages(3).unwrap(), [1, 2]);
        let err = remove("1-3").kept_pages(3).unwrap_err();
        assert!(err.message.starts_with("pages: \"1-3\" removes every page (3)"), "{err}");
        assert!(remove("odd,even").kept_pages(4).is_err());
        assert!(remove("9").kept_pages(3).unwrap_err().message.starts_with("pages: \"9\""));
    }
}
