//! `url_to_pdf`: a remote page to PDF in Chromium, where the configuration allows remote
//! fetches (`chromium_allow_remote`); internal addresses are refused on every request.

use super::web::{LoadFields, PrintFields, pdf_params, render_pdf};
use super::{About, EngineTool, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use crate::step::StepResult;
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_engines::chromium::Source;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) const TOOL: Tool = Tool::engine::<UrlToPdfParams>(
    Engine::Chromium,
    About {
        name: "url_to_pdf",
        title: "Web address to PDF",
        summary: "A page on the web to PDF, laid out by Chromium. Only where the server allows remote fetches; internal addresses are always refused.",
        group: "convert_to_pdf",
        inputs: InputRule { min: 0, max: Some(0), formats: &[] },
    },
);

pdf_params! {
    /// `url_to_pdf`: the address, and how the page loads and prints.
    pub struct UrlToPdfParams {
        /// The page's `http://` or `https://` address.
        pub url: String,
    }
}

impl UrlToPdfParams {
    fn address(&self) -> Result<scanpro_engines::chromium::Url, ToolError> {
        parse_address(&self.url)
    }
}

/// An `http(s)` address, at most 2048 characters.
pub(crate) fn parse_address(url: &str) -> Result<scanpro_engines::chromium::Url, ToolError> {
    if url.len() > 2048 {
        return Err(ToolError::invalid_param("url", "at most 2048 characters"));
    }
    let parsed = scanpro_engines::chromium::Url::parse(url)
        .map_err(|e| ToolError::invalid_param("url", format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(ToolError::invalid_param("url", "an http:// or https:// address"));
    }
    Ok(parsed)
}

impl Validate for UrlToPdfParams {
    fn validate(&self) -> Result<(), ToolError> {
        self.address()?;
        self.check_fields()
    }
}

impl ToolParams for UrlToPdfParams {}

impl EngineTool for UrlToPdfParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let source = Source::Url(self.address()?);
            let load = self.load().options(true)?;
            let print = self.print().options()?;
            let output = render_pdf(&step, &source, &load, print, self.print().finish(), "page.pdf".into()).await?;
            Ok(StepResult { outputs: vec![output], report: Some(serde_json::json!({"url": self.url})) })
        })
    }
}
