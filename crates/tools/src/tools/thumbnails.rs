//! `thumbnails`: small PNG previews of pages, for the web UI.

use super::pdf_to_image::render_inputs;
use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{ThumbnailsParams, page_selection};
use scanpro_pdf::{RasterEncoding, RenderOptions, RenderSize};
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "thumbnails",
    title: "Page thumbnails",
    summary: "Small PNG previews of pages, a given number of pixels wide (200 by default).",
    group: "convert",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<ThumbnailsParams>,
    check: check::<ThumbnailsParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: ThumbnailsParams = parse(params)?;
    let options = RenderOptions {
        size: RenderSize::Width(params.width()),
        encoding: RasterEncoding::Png,
        password: params.password.as_deref(),
    };
    let selection = page_selection("pages", params.pages.as_deref())?;
    render_inputs(inputs, &options, &selection, out_dir, "_thumb", "image/png")
}
