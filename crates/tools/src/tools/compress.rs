//! `compress`: smaller PDFs by Ghostscript, never larger than the input, text kept searchable.

use super::optimize::{Rewrite, each_input};
use super::{About, EngineTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use scanpro_core::params::CompressParams;

pub(crate) const TOOL: Tool = Tool::engine::<CompressParams>(
    Engine::Ghostscript,
    About {
        name: "compress",
        title: "Compress PDF",
        summary: "Smaller PDFs at four levels (lossless, low, recommended, extreme) or to a target size; text stays searchable and the result is never larger than the input.",
        group: "optimize",
        inputs: InputRule { min: 1, max: None, formats: PDF },
    },
);

impl ToolParams for CompressParams {}

impl EngineTool for CompressParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let params = self;
            each_input(&step, "compressed", Rewrite::Compress(&params)).await
        })
    }
}
