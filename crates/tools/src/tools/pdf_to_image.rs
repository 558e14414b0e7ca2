//! `pdf_to_image`: each selected page of each input as a PNG or JPEG file.

use super::{PDF, Runner, Tool};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::params::{check, parse, schema};
use crate::step::{Input, Output, StepResult};
use scanpro_core::ToolError;
use scanpro_core::pages::PageSelection;
use scanpro_core::params::{PdfToImageParams, RasterFormat, page_selection};
use scanpro_pdf::{RasterEncoding, RenderOptions, RenderSize, Renderer};
use serde_json::{Value, json};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "pdf_to_image",
    title: "PDF to images",
    summary: "Render pages as PNG or JPEG images at a chosen resolution: one image per page, named in page order.",
    group: "convert",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<PdfToImageParams>,
    check: check::<PdfToImageParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: PdfToImageParams = parse(params)?;
    let encoding = match params.format {
        RasterFormat::Png => RasterEncoding::Png,
        RasterFormat::Jpg => RasterEncoding::Jpeg { quality: params.quality() },
    };
    let options = RenderOptions { size: RenderSize::Dpi(params.dpi()), encoding, password: params.password.as_deref() };
    let selection = page_selection("pages", params.pages.as_deref())?;
    render_inputs(inputs, &options, &selection, out_dir, "", params.format.content_type())
}

/// Renders the selected pages of every input, each input under its own unique stem (plus
/// `suffix`); the report lists every page and which renderer made it.
pub(super) fn render_inputs(
    inputs: &[Input],
    options: &RenderOptions<'_>,
    selection: &PageSelection,
    out_dir: &Path,
    suffix: &str,
    content_type: &str,
) -> Result<StepResult, ToolError> {
    let mut stems = UniqueNames::default();
    let mut outputs = Vec::new();
    let mut pages = Vec::new();
    for input in inputs {
        let stem = stems.claim(&format!("{}{suffix}", safe_stem(&input.filename)), "");
        let choose = |count| selection.resolve(count).map_err(|e| ToolError::invalid_param("pages", e));
        for page in scanpro_pdf::render_pages(&input.path, options, choose, out_dir, &stem)? {
            let filename = page.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            pages.push(json!({
                "input": input.filename, "page": page.page, "filename": filename,
                "width": page.width, "height": page.height, "renderer": page.renderer,
            }));
            outputs.push(Output { path: page.path, filename, content_type: content_type.into() });
        }
    }
    let fallback: Vec<&Value> = pages.iter().filter(|p| p["renderer"] == json!(Renderer::Pdftoppm)).collect();
    let report = json!({ "fallback_pages": fallback, "pages": pages });
    Ok(StepResult { outputs, report: Some(report) })
}
