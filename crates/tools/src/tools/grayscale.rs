//! `grayscale`: every colour to shades of gray, by Ghostscript.

use super::optimize::{Rewrite, each_input};
use super::{About, EngineTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use scanpro_core::params::GrayscaleParams;

pub(crate) const TOOL: Tool = Tool::engine::<GrayscaleParams>(
    Engine::Ghostscript,
    About {
        name: "grayscale",
        title: "Grayscale PDF",
        summary: "Every colour, image and drawing turned to shades of gray, for cheaper printing.",
        group: "optimize",
        inputs: InputRule { min: 1, max: None, formats: PDF },
    },
);

impl ToolParams for GrayscaleParams {}

impl EngineTool for GrayscaleParams {
    fn run(self, step: EngineStep<'_>) -> StepFuture<'_> {
        Box::pin(async move {
            let params = self;
            each_input(&step, "gray", Rewrite::Grayscale(&params)).await
        })
    }
}
