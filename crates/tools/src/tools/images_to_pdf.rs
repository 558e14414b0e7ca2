//! `images_to_pdf`: one PDF with a page per image (per frame of a multi-page TIFF).

use super::{About, NativeTool, Tool, ToolParams, pdf_output};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::ImagesToPdfParams;
use scanpro_pdf::ImageInput;
use serde_json::{Value, json};
use std::path::Path;

const IMAGES: &[&str] = &["jpeg", "png", "webp", "tiff"];

pub(crate) const TOOL: Tool = Tool::native::<ImagesToPdfParams>(About {
    name: "images_to_pdf",
    title: "Images to PDF",
    summary: "Turn JPEG, PNG, WebP and TIFF images into one PDF, a page per image in the order given (every frame of a multi-page TIFF). JPEGs are embedded unchanged.",
    group: "convert",
    inputs: InputRule { min: 1, max: None, formats: IMAGES },
});

impl ToolParams for ImagesToPdfParams {}

impl NativeTool for ImagesToPdfParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        let images: Vec<ImageInput<'_>> =
            inputs.iter().map(|input| ImageInput { path: &input.path, name: &input.filename }).collect();
        // One image keeps its name; several make an album.
        let stem = match inputs {
            [only] => safe_stem(&only.filename),
            _ => "images".to_owned(),
        };
        let out = out_dir.join(format!("{stem}.pdf"));
        let pages = scanpro_pdf::images_to_pdf(&images, &params, &out)?;
        let pages: Vec<Value> = pages
            .iter()
            .map(|p| {
                json!({
                    "input": inputs[p.input].filename, "frame": p.frame, "width_pt": p.width_pt,
                    "height_pt": p.height_pt, "dpi": p.dpi, "orientation": p.orientation,
                })
            })
            .collect();
        Ok(StepResult { outputs: vec![pdf_output(out)], report: Some(json!({ "pages": pages })) })
    }
}
