//! `pdfa`: archival PDF/A by Ghostscript.

use super::optimize::{Rewrite, each_input};
use super::{About, EngineTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use scanpro_core::params::PdfaParams;

pub(crate) const TOOL: Tool = Tool::engine::<PdfaParams>(
    Engine::Ghostscript,
    About {
        name: "pdfa",
        title: "PDF to PDF/A",
        summary: "Archival PDF/A-1b, 2b or 3b: fonts embedded, colours in sRGB, metadata in XMP.",
        group: "optimize",
        inputs: InputRule { min: 1, max: None, formats: PDF },
    },
);

impl ToolParams for PdfaParams {}

impl EngineTool for PdfaParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let params = self;
            let suffix = format!("pdfa-{}", params.level.as_str());
            each_input(&step, &suffix, Rewrite::Pdfa(&params)).await
        })
    }
}
