//! `sign`: a visual signature — text, today's date and images placed on pages of one PDF. The
//! PDF is input 0; images (PNG or JPEG) follow and are chosen by input index.

use super::watermark::{PDF_AND_IMAGES, is_image, read_input};
use super::{Runner, Tool, pdf_output};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use chrono::{FixedOffset, Utc};
use scanpro_core::ToolError;
use scanpro_core::params::{ElementPlace, Layer, SignElement, SignElementKind, SignParams};
use scanpro_pdf::stamp::check_glyphs;
use scanpro_pdf::{Anchor, Mark, MarkContent, MarkSize, Placement, StampPlan, TextMark};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "sign",
    title: "Sign visually",
    summary: "Place a signature on a PDF: text (a name), the date, or images (PNG or JPEG inputs after \
              the PDF), each at a position or coordinates on chosen pages. Not a digital signature.",
    group: "security",
    inputs: InputRule { min: 1, max: None, formats: PDF_AND_IMAGES },
    schema: schema::<SignParams>,
    check: check::<SignParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: SignParams = parse(params)?;
    check_inputs(&params, inputs)?;
    let (contents, marks) = elements(&params, inputs)?;
    let document = &inputs[0];
    let out = out_dir.join(format!("{}_signed.pdf", safe_stem(&document.filename)));
    let plan = |count| {
        let mut pages = std::collections::BTreeMap::<u32, Vec<Mark>>::new();
        for (element_index, (element, mark)) in params.elements.iter().zip(&marks).enumerate() {
            let field = format!("elements[{element_index}].page");
            let selected =
                element.page_selection(&field)?.resolve(count).map_err(|e| ToolError::invalid_param(&field, e))?;
            for page in selected {
                pages.entry(page).or_default().push(*mark);
            }
        }
        Ok(StampPlan { contents, pages })
    };
    scanpro_pdf::stamp(&document.path, plan, &out)?;
    Ok(StepResult { outputs: vec![pdf_output(out)], report: None })
}

/// Input 0 is the PDF; every later input is an image that some element uses.
fn check_inputs(params: &SignParams, inputs: &[Input]) -> Result<(), ToolError> {
    if is_image(&inputs[0])? {
        return Err(ToolError::invalid_param(
            "inputs",
            format!("input 0 ({}) must be the PDF to sign", inputs[0].filename),
        ));
    }
    for (index, element) in params.elements.iter().enumerate() {
        let Some(image) = element.image else { continue };
        let field = format!("elements[{index}].image");
        let input = inputs.get(image).ok_or_else(|| {
            ToolError::invalid_param(
                &field,
                format!("input {image} does not exist (inputs are numbered 0 to {})", inputs.len() - 1),
            )
        })?;
        if !is_image(input)? {
            return Err(ToolError::invalid_param(
                &field,
                format!("input {image} ({}) is not a PNG or JPEG image", input.filename),
            ));
        }
    }
    for (index, input) in inputs.iter().enumerate().skip(1) {
        if !params.elements.iter().any(|e| e.image == Some(index)) {
            return Err(ToolError::invalid_param(
                "inputs",
                format!("input {index} ({}) is not used by any element", input.filename),
            ));
        }
    }
    Ok(())
}

/// The distinct contents (each image once), and each element's mark.
fn elements(params: &SignParams, inputs: &[Input]) -> Result<(Vec<MarkContent>, Vec<Mark>), ToolError> {
    let mut contents = Vec::new();
    let mut images = HashMap::new();
    let mut marks = Vec::with_capacity(params.elements.len());
    for (index, element) in params.elements.iter().enumerate() {
        let content = match (element.kind(), element.image) {
            (SignElementKind::Image, Some(image)) => match images.get(&image) {
                Some(&content) => content,
                None => {
                    contents.push(MarkContent::Image {
                        data: read_input(&inputs[image])?,
                        name: inputs[image].filename.clone(),
                    });
                    images.insert(image, contents.len() - 1);
                    contents.len() - 1
                }
            },
            _ => {
                contents.push(text_content(element, &format!("elements[{index}]"))?);
                contents.len() - 1
            }
        };
        marks.push(Mark { content, placement: placement(element) });
    }
    Ok((contents, marks))
}

fn text_content(element: &SignElement, at: &str) -> Result<MarkContent, ToolError> {
    let (text, field) = match element.kind() {
        SignElementKind::Date => (today(element, at)?, format!("{at}.date_format")),
        _ => (element.text.clone().unwrap_or_default(), format!("{at}.text")),
    };
    let font = element.font.unwrap_or_default();
    check_glyphs(&field, font, &text)?;
    Ok(MarkContent::Text(TextMark { text, font, font_size: element.font_size_or_default(), color: element.rgb() }))
}

/// The current date where the element's UTC offset says, written with its format.
fn today(element: &SignElement, at: &str) -> Result<String, ToolError> {
    let offset = element.utc_offset_seconds(&format!("{at}.utc_offset"))?;
    let zone = FixedOffset::east_opt(offset)
        .ok_or_else(|| ToolError::invalid_param(&format!("{at}.utc_offset"), "out of range"))?;
    let format = element.date_format_or_default();
    let mut text = String::new();
    std::fmt::Write::write_fmt(&mut text, format_args!("{}", Utc::now().with_timezone(&zone).format(format))).map_err(
        |_| {
            ToolError::invalid_param(
                &format!("{at}.date_format"),
                format!("{format:?} cannot be written for this date"),
            )
        },
    )?;
    Ok(text)
}

fn placement(element: &SignElement) -> Placement {
    let anchor = match element.place() {
        ElementPlace::At { x, y } => Anchor::At { x, y },
        ElementPlace::Anchored { position, margin } => Anchor::Position { position, margin },
    };
    let size = match element.kind() {
        SignElementKind::Image => {
            let (width, height) = element.image_box();
            MarkSize::Fit { width, height, grow: true }
        }
        _ if element.width.is_none() && element.height.is_none() => MarkSize::Natural,
        // A box with no font size: the text fills it; with one, it is only shrunk to fit.
        _ => MarkSize::Fit { width: element.width, height: element.height, grow: element.font_size.is_none() },
    };
    Placement { anchor, size, rotation: element.rotation, opacity: element.opacity, tile: None, layer: Layer::Over }
}
