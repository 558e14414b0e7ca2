//! Checking a rewrite before trusting it. Ghostscript's exit status 0 does not mean success: it
//! writes a blank page for some inputs, drops pages of others, and pdfwrite can lose text. So
//! every output is checked with independent tools against a [`Reference`] taken from the input:
//!
//! 1. `qpdf --check` passes (exit 0, not even warnings);
//! 2. it has as many pages as the input (`qpdf --show-npages`);
//! 3. sampled pages, rendered by poppler (`pdftoppm`) at the same scale, are not blank where the
//!    input's are not, keep their size, and look like the input's: the mean structural
//!    similarity (SSIM) of the sample reaches the caller's floor, and no page falls far below;
//! 4. for a re-drawn output, the words `pdftotext` extracts from the input still extract from it;
//! 5. optionally, no sampled page shows colour.

use super::compare::{Raster, ssim};
use super::inspect::{Source, sample_pages};
use super::programs::{Programs, last_words};
use super::{GhostscriptError, Rejection};
use std::collections::HashSet;
use std::path::Path;

/// Pages compared between the input and each output.
const SAMPLED_PAGES: u32 = 10;
/// Longer side of a rendered page, in pixels (`pdftoppm -scale-to`): about 72 dpi for A4, so
/// pages of any size cost the same.
const RENDER_SIZE: u32 = 800;
/// Longer side of the colour render of the gray check.
const COLOUR_RENDER_SIZE: u32 = 400;
/// An input page with fewer inked pixels than this counts as blank itself.
const MIN_INK: usize = 20;
/// How far below the floor one page of the sample may fall when the mean reaches it.
const PAGE_SLACK: f64 = 0.1;
/// Share of the input's distinct words that must still extract from an output that
/// re-encoded the fonts.
const TEXT_RECALL: f64 = 0.95;
/// Share of pixels that may show colour on a page that should be gray (stray anti-aliasing).
const MAX_COLOURFUL: f64 = 0.0005;

/// What an output must show besides the integrity checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect {
    /// Least mean similarity of the sampled pages to the input's, 0 to 1.
    pub similarity: f64,
    /// The output was re-drawn (Ghostscript): its text is compared too, and it is refused when
    /// no sampled page of the input renders to compare it with.
    pub redrawn: bool,
    /// No colour on any sampled page.
    pub gray: bool,
}

/// An output that passed: its mean similarity to the input (`None` when no sampled page of the
/// input renders).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Passed {
    pub similarity: Option<f64>,
}

/// What the checks made of an output that could be checked.
#[derive(Debug, Clone)]
pub(crate) enum Verdict {
    Passed(Passed),
    Rejected(Rejection),
}

/// The input's side of every comparison, taken once per job.
pub(crate) struct Reference<'a> {
    programs: Programs<'a>,
    source: &'a Source,
    /// The sampled pages and their gray renders (`None`: poppler does not render the page).
    renders: Vec<(u32, Option<Raster>)>,
    /// Distinct words of the input's text, extracted on first need.
    words: tokio::sync::OnceCell<HashSet<String>>,
}

impl<'a> Reference<'a> {
    pub async fn new(programs: Programs<'a>, source: &'a Source) -> Result<Self, GhostscriptError> {
        let mut renders = Vec::new();
        for page in sample_pages(source.pages, SAMPLED_PAGES) {
            renders.push((page, render(programs, &source.path, page, false).await?));
        }
        Ok(Self { programs, source, renders, words: tokio::sync::OnceCell::new() })
    }

    async fn words(&self) -> Result<&HashSet<String>, GhostscriptError> {
        self.words.get_or_try_init(|| extract_words(self.programs, &self.source.path)).await
    }

    /// Checks `candidate`: [`Verdict::Rejected`] when it fails a check, `Err` when a checking
    /// program is missing.
    pub async fn verify(&self, candidate: &Path, expect: Expect) -> Result<Verdict, GhostscriptError> {
        let rejected = |why| Ok(Verdict::Rejected(why));
        let programs = self.programs;
        if std::fs::metadata(candidate).map_or(0, |meta| meta.len()) == 0 {
            return rejected(Rejection::Empty);
        }
        let check = match programs.qpdf().arg("--check").arg(candidate).output().await {
            Ok(check) => check,
            Err(GhostscriptError::Timeout { .. }) => return rejected(Rejection::CheckTimedOut),
            Err(other) => return Err(other),
        };
        if check.status.code() != Some(0) {
            return rejected(Rejection::FailsCheck(last_words(&check, "qpdf", &[candidate])));
        }
        let counted = programs.qpdf().arg("--show-npages").arg(candidate).output().await?;
        let pages: u32 = String::from_utf8_lossy(&counted.stdout).trim().parse().unwrap_or(0);
        if pages != self.source.pages {
            return rejected(Rejection::PageCount { found: pages, expected: self.source.pages });
        }

        let mut similarities = Vec::new();
        for (page, reference) in &self.renders {
            let Some(reference) = reference else { continue };
            let Some(rendered) = render(programs, candidate, *page, false).await? else {
                return rejected(Rejection::Unrendered(*page));
            };
            if reference.inked_pixels() >= MIN_INK && rendered.inked_pixels() == 0 {
                return rejected(Rejection::Blank(*page));
            }
            let (reference, rendered) = (reference.clone(), rendered);
            let similarity = tokio::task::spawn_blocking(move || ssim(&reference, &rendered))
                .await
                .map_err(|e| GhostscriptError::Failed(format!("comparing pages failed: {e}")))?;
            let Some(similarity) = similarity else {
                return rejected(Rejection::Resized(*page));
            };
            if similarity < expect.similarity - PAGE_SLACK {
                return rejected(Rejection::PageDiffers { page: *page, similarity });
            }
            if expect.gray {
                match render(programs, candidate, *page, true).await? {
                    Some(colour) if colour.colourful_share() > MAX_COLOURFUL => {
                        return rejected(Rejection::Colour(*page));
                    }
                    Some(_) => {}
                    None => return rejected(Rejection::UnrenderedInColour(*page)),
                }
            }
            similarities.push(similarity);
        }
        let similarity =
            (!similarities.is_empty()).then(|| similarities.iter().sum::<f64>() / similarities.len() as f64);
        match similarity {
            Some(mean) if mean < expect.similarity => {
                return rejected(Rejection::Dissimilar { mean, wanted: expect.similarity });
            }
            // Nothing of the input renders: a rewrite that re-draws pages cannot be compared.
            None if expect.redrawn => return rejected(Rejection::NothingToCompare),
            _ => {}
        }

        if expect.redrawn {
            let before = self.words().await?;
            if !before.is_empty() {
                let after = extract_words(programs, candidate).await?;
                let kept = before.iter().filter(|word| after.contains(*word)).count() as f64 / before.len() as f64;
                if kept < TEXT_RECALL {
                    return rejected(Rejection::TextLost { kept });
                }
            }
        }
        Ok(Verdict::Passed(Passed { similarity }))
    }
}

/// One page rendered by poppler, gray or RGB, scaled to [`RENDER_SIZE`]; `None` when poppler
/// cannot render it.
async fn render(
    programs: Programs<'_>,
    pdf: &Path,
    page: u32,
    colour: bool,
) -> Result<Option<Raster>, GhostscriptError> {
    let page = page.to_string();
    let size = if colour { COLOUR_RENDER_SIZE } else { RENDER_SIZE }.to_string();
    // The crop box: what viewers show, and what Ghostscript keeps when it rewrites page boxes.
    let mut run =
        programs.poppler("pdftoppm").args(["-cropbox", "-f", &page, "-l", &page, "-scale-to", &size, "-singlefile"]);
    if !colour {
        run = run.arg("-gray");
    }
    match run.arg(pdf).output().await {
        Ok(out) if out.status.success() => Ok(Raster::from_netpbm(&out.stdout).ok()),
        Ok(_) | Err(GhostscriptError::Timeout { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// The distinct words poppler extracts from the whole document (none when it cannot).
async fn extract_words(programs: Programs<'_>, pdf: &Path) -> Result<HashSet<String>, GhostscriptError> {
    match programs.poppler("pdftotext").args(["-q", "-enc", "UTF-8"]).arg(pdf).arg("-").output().await {
        Ok(out) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect())
        }
        Ok(_) | Err(GhostscriptError::Timeout { .. }) => Ok(HashSet::new()),
        Err(other) => Err(other),
    }
}
