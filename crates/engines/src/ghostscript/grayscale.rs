//! `grayscale`: every colour of the document converted to gray by Ghostscript
//! (`-sColorConversionStrategy=Gray`), then qpdf's structural pass when it makes the file
//! smaller. The output must pass the usual checks and show no colour on any sampled page.

use super::GhostscriptConfig;
use super::GhostscriptError;
use super::confined;
use super::inspect::{inspect, workload};
use super::programs::{Programs, jpeg_distiller_params, last_words};
use super::rewrite::{Candidate, Rewritten, Scratch, pack};
use super::verify::{Expect, Reference, Verdict};
use scanpro_core::ToolError;
use scanpro_core::params::{GrayscaleParams, Validate};
use std::path::Path;

/// Least similarity of the sampled pages, rendered gray on both sides: Ghostscript's and
/// poppler's colour-to-gray formulas differ a little.
const SIMILARITY_FLOOR: f64 = 0.85;
/// Quality of the JPEGs written for images that had to be re-encoded in gray.
const JPEG_QUALITY: u8 = 85;

/// What `grayscale` did.
pub type GrayscaleReport = Rewritten;

/// Converts `input` to grayscale into `output`.
pub async fn grayscale(
    config: &GhostscriptConfig,
    input: &Path,
    output: &Path,
    params: &GrayscaleParams,
) -> Result<GrayscaleReport, ToolError> {
    params.validate()?;
    Ok(confined(input, output, run(config, input, output)).await?)
}

async fn run(config: &GhostscriptConfig, input: &Path, output: &Path) -> Result<GrayscaleReport, GhostscriptError> {
    let programs = Programs::new(config);
    let source = inspect(programs, input).await?;
    let (workload, _) = workload(programs, &source).await?;
    let programs = programs.bounded(&workload);
    let scratch = Scratch::beside(output)?;
    let reference = Reference::new(programs, &source).await?;

    let written = scratch.file("gray.pdf");
    let out = programs
        .pdfwrite(&source, &written)
        .args(["-sColorConversionStrategy=Gray", "-dProcessColorModel=/DeviceGray", "-dAutoRotatePages=/None"])
        .arg("-c")
        .arg(jpeg_distiller_params(JPEG_QUALITY, false))
        .arg("-f")
        .arg(&source.path)
        .output()
        .await?;
    if !out.status.success() || !written.is_file() {
        let why = last_words(&out, "Ghostscript", &[&source.path, &written]);
        return Err(GhostscriptError::Failed(format!("Ghostscript could not convert the document: {why}")));
    }

    // The packed file first when it is smaller; Ghostscript's own if it fails a check.
    let size = |path: &Path| std::fs::metadata(path).map_or(u64::MAX, |meta| meta.len());
    let expect = Expect { similarity: SIMILARITY_FLOOR, redrawn: true, gray: true };
    if let Candidate::Written(packed) = pack(programs, &written, &scratch.file("gray-packed.pdf")).await?
        && size(&packed) < size(&written)
        && let Verdict::Passed(passed) = reference.verify(&packed, expect).await?
    {
        return Rewritten::deliver(&source, &packed, output, &passed, vec!["ghostscript", "qpdf"]);
    }
    match reference.verify(&written, expect).await? {
        Verdict::Passed(passed) => Rewritten::deliver(&source, &written, output, &passed, vec!["ghostscript"]),
        Verdict::Rejected(why) => Err(GhostscriptError::FailedChecks { conversion: "grayscale conversion", why }),
    }
}
