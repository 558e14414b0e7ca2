//! `page_numbers`: a number (in a template such as "Page {n} of {total}") on the selected
//! pages of each input.

use super::{PDF, Runner, Tool, pdf_output};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::params::{check, parse, schema};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{Layer, PageNumbersParams};
use scanpro_pdf::stamp::check_glyphs;
use scanpro_pdf::{Anchor, Mark, MarkContent, MarkSize, Placement, StampPlan, TextMark};
use serde_json::Value;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool {
    name: "page_numbers",
    title: "Add page numbers",
    summary: "Number the pages of each PDF: position, arabic / roman / letters, start, template \
              (\"Page {n} of {total}\"), font, size, colour, margin, pages, skip the first page.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF },
    schema: schema::<PageNumbersParams>,
    check: check::<PageNumbersParams>,
    runner: Runner::Native(run),
};

fn run(params: &Value, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
    let params: PageNumbersParams = parse(params)?;
    check_fonts(&params)?;
    let mut names = UniqueNames::default();
    let mut outputs = Vec::with_capacity(inputs.len());
    for input in inputs {
        let out = out_dir.join(names.claim(&format!("{}_numbered", safe_stem(&input.filename)), ".pdf"));
        scanpro_pdf::stamp(&input.path, |count| plan(&params, count), &out)?;
        outputs.push(pdf_output(out));
    }
    Ok(StepResult { outputs, report: None })
}

/// One label per numbered page, each placed on its page.
fn plan(params: &PageNumbersParams, page_count: u32) -> Result<StampPlan, ToolError> {
    let pages = params.numbered_pages(page_count)?;
    // Distinct pages of the document: no more than its u32 page count.
    let numbered = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let placement = Placement {
        anchor: Anchor::Position { position: params.position, margin: params.margin_or_default() },
        size: MarkSize::Natural,
        rotation: 0.0,
        opacity: params.opacity,
        tile: None,
        layer: Layer::Over,
    };
    let label = |index: u32| {
        MarkContent::Text(TextMark {
            text: params.label(index, numbered),
            font: params.font,
            font_size: params.font_size,
            color: params.rgb(),
        })
    };
    Ok(StampPlan {
        contents: (0..numbered).map(label).collect(),
        pages: pages
            .into_iter()
            .enumerate()
            .map(|(index, page)| (page, vec![Mark { content: index, placement }]))
            .collect(),
    })
}

/// The text around the numbers must have glyphs in the font (the numerals always do).
fn check_fonts(params: &PageNumbersParams) -> Result<(), ToolError> {
    let fixed =
        [("template", Some(&params.template)), ("prefix", params.prefix.as_ref()), ("suffix", params.suffix.as_ref())];
    for (field, text) in fixed {
        if let Some(text) = text {
            check_glyphs(field, params.font, text)?;
        }
    }
    Ok(())
}
