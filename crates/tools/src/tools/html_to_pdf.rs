//! `html_to_pdf`: a web page to PDF in Chromium; LibreOffice where Chromium is not installed.

use super::office::{convert_each, pdfa_level};
use super::web::{LoadFields, PrintFields, Site, pdf_params, render_pdf};
use super::{About, EngineTool, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::Validate;
use scanpro_engines::office::{ConvertOptions, ConvertRequest, TargetFormat};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(crate) const TOOL: Tool = Tool::engine::<HtmlToPdfParams>(
    Engine::Chromium,
    About {
        name: "html_to_pdf",
        title: "HTML to PDF",
        summary: "A web page to PDF, laid out by Chromium: one HTML file, an HTML file with its images, styles, fonts and scripts as further inputs, or a zip of a saved page. Nothing but the inputs is loaded.",
        group: "convert_to_pdf",
        inputs: InputRule { min: 1, max: None, formats: &[] },
    },
);

pdf_params! {
    /// `html_to_pdf`. The page opened is `index.html`, else the first HTML input; inputs named
    /// `header.html` and `footer.html` are the header and footer when the fields are not given.
    pub struct HtmlToPdfParams {
        /// Replace each `{{ toHTML "notes.md" }}` in the page with that Markdown input as HTML.
        #[serde(default)]
        pub expand_markdown: bool,
    }
}

impl Validate for HtmlToPdfParams {
    fn validate(&self) -> Result<(), ToolError> {
        self.check_fields()
    }
}

impl ToolParams for HtmlToPdfParams {}

impl EngineTool for HtmlToPdfParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let site = Site::of(step.inputs, step.out_dir)?;
            if step.engines.chromium().is_err() && step.engines.office().is_ok() && self.fits_libreoffice() {
                let page = Input { path: site.files[&site.main].clone(), filename: site.main.clone() };
                return convert_each(&step, &[page], &office_request(self.landscape, self.pdfa)).await;
            }
            let mut print = self.print().options()?;
            if print.header_html.is_none() {
                print.header_html = site.text_of("header.html")?;
            }
            if print.footer_html.is_none() {
                print.footer_html = site.text_of("footer.html")?;
            }
            let mut site = site;
            if self.expand_markdown {
                site.expand_markdown()?;
            }
            let page = self.load().options(true)?;
            let stem = crate::names::safe_stem(&site.main);
            let output =
                render_pdf(&step, &site.source(), &page, print, self.print().finish(), format!("{stem}.pdf")).await?;
            Ok(StepResult {
                outputs: vec![output],
                report: Some(serde_json::json!({"page": site.main, "engine": "chromium"})),
            })
        })
    }
}

impl HtmlToPdfParams {
    /// Whether LibreOffice can honour every field: only `landscape` and `pdfa` set.
    fn fits_libreoffice(&self) -> bool {
        let Ok(serde_json::Value::Object(mut given)) = serde_json::to_value(self) else { return false };
        let Ok(serde_json::Value::Object(default)) = serde_json::from_str::<Self>("{}").and_then(serde_json::to_value)
        else {
            return false;
        };
        given.retain(|key, value| !matches!(key.as_str(), "landscape" | "pdfa") && default.get(key) != Some(value));
        given.is_empty()
    }
}

/// LibreOffice's request for a page, where Chromium is missing.
pub(super) fn office_request(landscape: bool, pdfa: Option<scanpro_core::params::PdfaLevel>) -> ConvertRequest {
    let options = ConvertOptions { landscape, pdfa: pdfa.map(pdfa_level), ..Default::default() };
    ConvertRequest { to: TargetFormat::Pdf, options }
}
