//! `markdown_to_pdf`: Markdown rendered to a plain HTML page, then printed by Chromium
//! (LibreOffice where Chromium is not installed).

use super::html_to_pdf::office_request;
use super::office::convert_each;
use super::web::{LoadFields, PrintFields, pdf_params, render_pdf};
use super::{About, EngineTool, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_engines::chromium::Source;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) const TOOL: Tool = Tool::engine::<MarkdownToPdfParams>(
    Engine::Chromium,
    About {
        name: "markdown_to_pdf",
        title: "Markdown to PDF",
        summary: "Markdown (CommonMark with tables, task lists and strikethrough) to PDF, one per file. Remote images are never fetched.",
        group: "convert_to_pdf",
        inputs: InputRule { min: 1, max: None, formats: &["txt"] },
    },
);

pdf_params! {
    /// `markdown_to_pdf`: how each page loads and prints.
    pub struct MarkdownToPdfParams {}
}

impl Validate for MarkdownToPdfParams {
    fn validate(&self) -> Result<(), ToolError> {
        self.check_fields()
    }
}

impl ToolParams for MarkdownToPdfParams {}

impl EngineTool for MarkdownToPdfParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let scratch = tempfile::Builder::new()
                .prefix(".markdown-")
                .tempdir_in(step.out_dir)
                .map_err(|e| ToolError::internal(format!("scratch directory: {e}")))?;
            let mut pages = Vec::with_capacity(step.inputs.len());
            for (index, input) in step.inputs.iter().enumerate() {
                let markdown = std::fs::read(&input.path)
                    .map_err(|e| ToolError::internal(format!("cannot read {}: {e}", input.filename)))?;
                let path = scratch.path().join(format!("{index}.html"));
                std::fs::write(&path, markdown_page(&String::from_utf8_lossy(&markdown)))
                    .map_err(|e| ToolError::internal(format!("scratch file: {e}")))?;
                pages.push(Input { path, filename: input.filename.clone() });
            }
            if step.engines.chromium().is_err() && step.engines.office().is_ok() {
                return convert_each(&step, &pages, &office_request(self.landscape, self.pdfa)).await;
            }
            let load = self.load().options(true)?;
            let mut names = UniqueNames::default();
            let mut outputs = Vec::with_capacity(pages.len());
            for page in &pages {
                let filename = names.claim(&safe_stem(&page.filename), ".pdf");
                let source = Source::Files {
                    files: BTreeMap::from([("index.html".to_owned(), page.path.clone())]),
                    main: "index.html".into(),
                };
                let print = self.print().options()?;
                let output = render_pdf(&step, &source, &load, print, self.print().finish(), filename)
                    .await
                    .map_err(|e| ToolError::new(e.code, format!("{}: {}", page.filename, e.message)))?;
                outputs.push(output);
            }
            Ok(StepResult { outputs, report: Some(serde_json::json!({"engine": "chromium"})) })
        })
    }
}

/// A Markdown text as HTML, without a page around it.
pub(crate) fn markdown_html(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut body = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut body, Parser::new_ext(markdown, options));
    body
}

/// A Markdown text as a standalone HTML page with a plain, print-friendly style.
fn markdown_page(markdown: &str) -> String {
    let body = markdown_html(markdown);
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>{MARKDOWN_STYLE}</style></head><body>\n{body}</body></html>\n"
    )
}

const MARKDOWN_STYLE: &str = "body{font-family:'DejaVu Sans',sans-serif;font-size:11pt;line-height:1.4}\
pre,code{font-family:'DejaVu Sans Mono',monospace;font-size:9.5pt}pre{background:#f4f4f4;padding:6pt}\
table{border-collapse:collapse}th,td{border:1px solid #999;padding:3pt 6pt}\
blockquote{color:#555;border-left:3pt solid #ccc;padding-left:8pt}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_a_complete_page() {
        let page = markdown_page("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ and `code`\n");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<h1>Title</h1>"));
        assert!(page.contains("<table>"));
        assert!(page.contains("<del>gone</del>"));
        assert!(page.contains("<code>code</code>"));
    }
}
