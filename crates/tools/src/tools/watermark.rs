//! `watermark`: text, or an image given as the last input, drawn on the selected pages of each
//! PDF input.

use super::{Runner, Tool, pdf_output};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Position, WatermarkParams, page_selection};
use scanpro_pdf::stamp::{check_glyphs, image_kind};
use scanpro_pdf::{Anchor, Mark, MarkContent, MarkSize, Placement, StampPlan, TextMark};
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// PDFs to stamp, and PNG or JPEG images to stamp with.
pub(super) const PDF_AND_IMAGES: &[&str] = &["pdf", "png", "jpeg"];

pub(crate) const TOOL: Tool = Tool {
    name: "watermark",
    title: "Add a watermark",
    summary: "Draw a text or an image (PNG or JPEG, given as the last input) on the pages of each PDF: \
              position, size, colour, opacity, rotation, tiling, pages.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF_AND_IMAGES },
    schema: schema::<WatermarkParams>,
    check: check::<WatermarkParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: WatermarkParams = parse(params)?;
    let (documents, image) = split_inputs(inputs)?;
    params.check_kind(image.is_some())?;
    let content = match image {
        Some(image) => MarkContent::Image { data: read_input(image)?, name: image.filename.clone() },
        None => text_content(&params)?,
    };
    let mark = Mark { content: 0, placement: placement(&params) };
    let selection = page_selection("pages", params.pages.as_deref())?;
    let mut names = UniqueNames::default();
    let mut outputs = Vec::with_capacity(documents.len());
    for input in documents {
        let out = out_dir.join(names.claim(&format!("{}_watermarked", safe_stem(&input.filename)), ".pdf"));
        let plan = |count| {
            let pages = selection.resolve(count).map_err(|e| ToolError::invalid_param("pages", e))?;
            Ok(StampPlan {
                contents: vec![content.clone()],
                pages: pages.into_iter().map(|page| (page, vec![mark])).collect(),
            })
        };
        scanpro_pdf::stamp(&input.path, plan, &out)?;
        outputs.push(pdf_output(out));
    }
    Ok(StepResult { outputs, report: None })
}

fn text_content(params: &WatermarkParams) -> Result<MarkContent, ToolError> {
    let text = params.text.clone().unwrap_or_default();
    let font = params.font.unwrap_or_default();
    check_glyphs("text", font, &text)?;
    Ok(MarkContent::Text(TextMark { text, font, font_size: params.font_size_or_default(), color: params.rgb() }))
}

fn placement(params: &WatermarkParams) -> Placement {
    let position = params.position.unwrap_or(Position::Center);
    Placement {
        anchor: Anchor::Position { position, margin: params.margin_or_default() },
        size: if params.text.is_some() { MarkSize::Natural } else { MarkSize::PageWidth(params.scale_or_default()) },
        rotation: params.rotation,
        opacity: params.opacity,
        tile: params.tile_spacing(),
        layer: params.layer,
    }
}

/// The PDFs, and the image watermark if the last input is one. An image anywhere else, or no
/// PDF at all, is refused.
fn split_inputs(inputs: &[Input]) -> Result<(&[Input], Option<&Input>), ToolError> {
    let (documents, image) = match inputs.split_last() {
        Some((last, rest)) if is_image(last)? => (rest, Some(last)),
        _ => (inputs, None),
    };
    if documents.is_empty() {
        return Err(ToolError::invalid_param("inputs", "watermark needs a PDF to mark, then optionally an image"));
    }
    for (index, input) in documents.iter().enumerate() {
        if is_image(input)? {
            return Err(ToolError::invalid_param(
                "inputs",
                format!(
                    "{} (input {index}) is an image; only the last input can be the watermark image",
                    input.filename
                ),
            ));
        }
    }
    Ok((documents, image))
}

/// Whether the input is a PNG or JPEG (anything else reaching a tool has been checked to be a
/// PDF).
pub(super) fn is_image(input: &Input) -> Result<bool, ToolError> {
    let mut head = Vec::with_capacity(8);
    std::fs::File::open(&input.path)
        .and_then(|file| file.take(8).read_to_end(&mut head))
        .map_err(|e| ToolError::internal(format!("cannot read input {}: {e}", input.path.display())))?;
    Ok(image_kind(&head).is_some())
}

pub(super) fn read_input(input: &Input) -> Result<Vec<u8>, ToolError> {
    std::fs::read(&input.path)
        .map_err(|e| ToolError::internal(format!("cannot read input {}: {e}", input.path.display())))
}
