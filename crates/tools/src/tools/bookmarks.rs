//! `bookmarks`: list a PDF's bookmarks (JSON), or replace them, or add to them.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams, json_answer};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_pdf::outline::{Bookmark, Placement};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<BookmarksParams>(About {
    name: "bookmarks",
    title: "Bookmarks",
    summary: "List a PDF's bookmarks (title, level, page) as JSON, or replace them or add to them: \
              a table of contents the viewer shows beside the pages.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

/// Bookmarks written at most: a real table of contents has hundreds, not hundreds of thousands.
const MAX_BOOKMARKS: usize = 10_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookmarksMode {
    /// The bookmarks as JSON, one file per input (the first input's are the report).
    #[default]
    List,
    /// `bookmarks` become the outline; an empty list removes every bookmark.
    Replace,
    /// `bookmarks` go after the existing ones.
    Add,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BookmarksParams {
    #[serde(default)]
    pub mode: BookmarksMode,
    /// For `replace` and `add`, in order: `[{"title": "Introduction", "page": 1}, {"title":
    /// "Background", "page": 2, "level": 2}]`; a level-2 bookmark goes inside the level-1 one
    /// before it.
    #[serde(default)]
    pub bookmarks: Vec<Bookmark>,
}

impl Validate for BookmarksParams {
    fn validate(&self) -> Result<(), ToolError> {
        match self.mode {
            BookmarksMode::List if !self.bookmarks.is_empty() => {
                Err(ToolError::invalid_param("bookmarks", "only used with mode \"replace\" or \"add\""))
            }
            BookmarksMode::Add if self.bookmarks.is_empty() => {
                Err(ToolError::invalid_param("bookmarks", "give the bookmarks to add"))
            }
            _ if self.bookmarks.len() > MAX_BOOKMARKS => {
                Err(ToolError::invalid_param("bookmarks", format!("at most {MAX_BOOKMARKS}")))
            }
            _ => Ok(()),
        }
    }
}

impl ToolParams for BookmarksParams {}

impl NativeTool for BookmarksParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let placement = match self.mode {
            BookmarksMode::List => return list(inputs, out_dir),
            BookmarksMode::Replace => Placement::Replace,
            BookmarksMode::Add => Placement::Add,
        };
        each_input(inputs, out_dir, "_bookmarks", |input, out| {
            scanpro_pdf::outline::write_bookmarks(&input.path, &self.bookmarks, placement, out)
        })
    }
}

fn list(inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let mut result: Option<StepResult> = None;
    for input in inputs {
        let outline = scanpro_pdf::outline::bookmarks(&input.path)?;
        let step = json_answer(out_dir, format!("{}_bookmarks.json", safe_stem(&input.filename)), &outline)?;
        match &mut result {
            None => result = Some(step),
            Some(result) => result.outputs.extend(step.outputs),
        }
    }
    result.ok_or_else(|| ToolError::internal("bookmarks: no input"))
}
