//! `pdfa`: PDF/A-1b, -2b or -3b through Ghostscript's `pdfwrite` (`-dPDFA=N`).
//!
//! PDF/A needs an output intent with an ICC profile. Ghostscript's sample `PDFA_def.ps` looks
//! for `srgb.icc` in the working directory; the engine writes its own prefix file into the
//! job's scratch directory instead, naming the installed sRGB profile, and lets Ghostscript
//! read that one file besides its inputs (`--permit-file-read`). Colours become sRGB; features
//! PDF/A forbids are dropped rather than failing the job (`-dPDFACompatibilityPolicy=1`). The
//! output must pass the usual checks and carry `pdfaid:part` in its XMP metadata.

use super::GhostscriptConfig;
use super::GhostscriptError;
use super::confined;
use super::inspect::{inspect, workload};
use super::programs::{Programs, jpeg_distiller_params, last_words};
use super::rewrite::{Rewritten, Scratch, redraw};
use super::verify::{Expect, Reference, Verdict};
use scanpro_core::ToolError;
use scanpro_core::params::{PdfaLevel, PdfaParams, Validate};
use serde::Serialize;
use std::path::Path;

/// Least similarity of the sampled pages: conversion to sRGB moves colours a little, dropped
/// features (transparency groups in PDF/A-1) may move more, but pages must stay themselves.
const SIMILARITY_FLOOR: f64 = 0.85;

/// Quality of the JPEGs written for images whose colours were converted.
const JPEG_QUALITY: u8 = 90;

/// What `pdfa` did.
#[derive(Debug, Clone, Serialize)]
pub struct PdfaReport {
    pub level: PdfaLevel,
    /// The `pdfaid:part` the output declares.
    pub part: u8,
    #[serde(flatten)]
    pub rewritten: Rewritten,
}

/// Converts `input` to PDF/A at `params.level` into `output`.
pub async fn pdfa(
    config: &GhostscriptConfig,
    input: &Path,
    output: &Path,
    params: &PdfaParams,
) -> Result<PdfaReport, ToolError> {
    params.validate()?;
    Ok(confined(input, output, run(config, input, output, params.level)).await?)
}

async fn run(
    config: &GhostscriptConfig,
    input: &Path,
    output: &Path,
    level: PdfaLevel,
) -> Result<PdfaReport, GhostscriptError> {
    let programs = Programs::new(config);
    let profile = config.srgb_profile().ok_or_else(|| {
        GhostscriptError::Unavailable("no sRGB ICC profile is installed for the PDF/A output intent".into())
    })?;
    let source = inspect(programs, input).await?;
    let (workload, _) = workload(programs, &source).await?;
    let programs = programs.bounded(&workload);
    let scratch = Scratch::beside(output)?;
    let prefix = scratch.file("PDFA_def.ps");
    std::fs::write(&prefix, pdfa_prefix(&profile))?;
    let reference = Reference::new(programs, &source).await?;

    let written = scratch.file("pdfa.pdf");
    let mut permit = std::ffi::OsString::from("--permit-file-read=");
    permit.push(&profile);
    let mut run = programs.pdfwrite(&source, &written).args([
        format!("-dPDFA={}", level.part()),
        "-dPDFACompatibilityPolicy=1".into(),
        "-sColorConversionStrategy=RGB".into(),
        "-dAutoRotatePages=/None".into(),
    ]);
    if level == PdfaLevel::A1b {
        run = run.arg("-dCompatibilityLevel=1.4");
    }
    // Colour conversion re-encodes JPEGs: at archival quality, not Ghostscript's default.
    let run = run.arg(permit).arg("-c").arg(jpeg_distiller_params(JPEG_QUALITY, false)).arg("-f");
    let run = run.arg(&prefix).arg(&source.path);
    let expect = Expect { similarity: SIMILARITY_FLOOR, redrawn: true, gray: false };
    let passed = match redraw(run, &written, &reference, expect, &source.path).await? {
        Verdict::Passed(passed) => passed,
        Verdict::Rejected(why) => return Err(GhostscriptError::FailedChecks { conversion: "PDF/A conversion", why }),
    };

    let declared = declared_part(programs, &written).await?;
    if declared != Some(level.part()) {
        let found = declared.map_or("none".to_owned(), |part| part.to_string());
        return Err(GhostscriptError::Failed(format!(
            "the PDF/A conversion does not declare PDF/A-{} in its metadata (pdfaid:part: {found})",
            level.part()
        )));
    }
    let rewritten = Rewritten::deliver(&source, &written, output, &passed, vec!["ghostscript"])?;
    Ok(PdfaReport { level, part: level.part(), rewritten })
}

/// The PostScript prefix that gives the output its sRGB output intent.
fn pdfa_prefix(profile: &Path) -> String {
    format!(
        "%!\n\
         % The PDF/A output intent: an sRGB profile (ScanPro's PDFA_def.ps).\n\
         /ICCProfile ({}) def\n\
         [/_objdef {{icc_PDFA}} /type /stream /OBJ pdfmark\n\
         [{{icc_PDFA}} << /N 3 >> /PUT pdfmark\n\
         [{{icc_PDFA}} ICCProfile (r) file /PUT pdfmark\n\
         [/_objdef {{OutputIntent_PDFA}} /type /dict /OBJ pdfmark\n\
         [{{OutputIntent_PDFA}} <<\n  \
           /Type /OutputIntent\n  \
           /S /GTS_PDFA1\n  \
           /DestOutputProfile {{icc_PDFA}}\n  \
           /OutputConditionIdentifier (sRGB)\n\
         >> /PUT pdfmark\n\
         [{{Catalog}} << /OutputIntents [ {{OutputIntent_PDFA}} ] >> /PUT pdfmark\n",
        postscript_string(&profile.to_string_lossy())
    )
}

/// `text` escaped for a PostScript `( … )` string.
fn postscript_string(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect()
}

/// The `pdfaid:part` in the output's XMP metadata, read by poppler.
async fn declared_part(programs: Programs<'_>, pdf: &Path) -> Result<Option<u8>, GhostscriptError> {
    let out = programs.poppler("pdfinfo").arg("-meta").arg(pdf).output().await?;
    if !out.status.success() {
        return Err(GhostscriptError::Failed(format!(
            "pdfinfo cannot read the PDF/A conversion: {}",
            last_words(&out, "pdfinfo", &[pdf])
        )));
    }
    Ok(pdfaid_part(&String::from_utf8_lossy(&out.stdout)))
}

/// `pdfaid:part` from XMP, as an element (`<pdfaid:part>2</pdfaid:part>`) or an attribute
/// (`pdfaid:part="2"`).
fn pdfaid_part(xmp: &str) -> Option<u8> {
    let at = xmp.find("pdfaid:part")? + "pdfaid:part".len();
    let digits: String =
        xmp[at..].trim_start_matches(['>', '=', '"', '\'', ' ']).chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pdfaid_part_in_both_spellings() {
        assert_eq!(pdfaid_part("<rdf:Description><pdfaid:part>2</pdfaid:part>"), Some(2));
        assert_eq!(pdfaid_part(r#"<rdf:Description pdfaid:part="3" pdfaid:conformance="B"/>"#), Some(3));
        assert_eq!(pdfaid_part("<x:xmpmeta/>"), None);
    }

    #[test]
    fn prefix_escapes_the_profile_path() {
        let prefix = pdfa_prefix(Path::new("/opt/icc (v2)/s\\rgb.icc"));
        assert!(prefix.contains(r"/ICCProfile (/opt/icc \(v2\)/s\\rgb.icc) def"), "{prefix}");
        assert!(prefix.contains("[{icc_PDFA} ICCProfile (r) file /PUT pdfmark"));
    }
}
