//! `compress`: the smallest verified rewrite of a PDF.
//!
//! Three kinds of candidate are made, each checked (see [`verify`](super::verify)) before it
//! may win:
//! - *structural*: qpdf's lossless pass (recompressed streams, object streams). Wins on
//!   born-digital files, where Ghostscript's rewrite of fonts and content streams can grow the
//!   file (pgfmanual.pdf doubles under `-dPDFSETTINGS=/ebook`).
//! - *recoded*: the structural pass with each raster image re-encoded in place at a rung of
//!   [`RECODE_LADDER`]: gray pages stored as gray, pages of paper and ink as bilevel CCITT G4,
//!   JPEGs at the lowest quality that keeps the image's measured similarity (see
//!   [`recode`](super::recode)). Wins on scans, whose JPEGs Ghostscript keeps as they are.
//! - *re-encoded*: Ghostscript's `pdfwrite` with the image settings of a rung of [`LADDER`]
//!   (downsampling, JPEG quality), then the structural pass over its output. Wins on
//!   image-heavy pages; it must keep the sampled pages at the rung's similarity floor and the
//!   text extractable.
//!
//! A level tries the structural pass and the rungs of both ladders up to its own, and keeps the smallest
//! candidate that passes, or the input itself. A stronger level tries a superset of what a
//! weaker one tries, so its result is never larger, and no result is larger than the input. A
//! target size climbs further rungs until a result fits. When the document has no raster
//! image, image settings change nothing: one Ghostscript pass stands for every rung. Long
//! documents that are mostly text and drawings skip Ghostscript unless a target size is given
//! (see [`LONG_DOCUMENT_PAGES`]).

use super::confined;
use super::inspect::{Images, Source, image_inventory, inspect, workload};
use super::programs::{Programs, Run, jpeg_distiller_params, last_words};
use super::recode::{RecodeSettings, RecodeSummary, recode_images};
use super::rewrite::{Candidate, Scratch, deliver, deliver_original, pack};
use super::verify::{Expect, Reference, Verdict};
use super::{GhostscriptConfig, GhostscriptError, Rejection};
use scanpro_core::ToolError;
use scanpro_core::params::{CompressLevel, CompressParams, Validate};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Documents with more pages than this, whose raster images make less than
/// [`LONG_DOCUMENT_IMAGE_SHARE`] of their bytes, are not given to Ghostscript without a target
/// size. Of the six such documents of our corpus (117 to 1,321 pages), its rewrite was larger
/// on three (pgfmanual.pdf by 27 %, after 60 to 120 s), lost text on one and saved 0.4 % and
/// 7 % on the other two. Trials on samples of pages did not predict the outcome: Ghostscript
/// re-subsets fonts to the pages it sees and duplicates what the whole document shares.
const LONG_DOCUMENT_PAGES: u32 = 100;
const LONG_DOCUMENT_IMAGE_SHARE: f64 = 0.10;

/// Similarity floor of the structural pass: it does not touch what pages show, so anything
/// below identical means it broke something.
const STRUCTURAL_FLOOR: f64 = 0.99;

/// How Ghostscript resamples colour and gray images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Downsampling {
    /// Bicubic interpolation: best for ratios that are not whole numbers.
    Bicubic,
    /// Box average: sharpest on halving (300 → 150 dpi scans), smallest JPEGs.
    Average,
}

/// Image settings of one Ghostscript re-encoding.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImageSettings {
    /// Colour and gray images above 1.5 × this resolution (dots per inch as placed on the
    /// page) are downsampled to it.
    pub dpi: u32,
    /// Black-and-white images above 1.5 × this resolution are downsampled to it.
    pub mono_dpi: u32,
    /// Quality of the JPEGs Ghostscript writes (IJG scale, 1 to 100).
    pub jpeg_quality: u8,
    /// JPEG images that need no downsampling keep their bytes (no second generation of loss).
    pub keep_jpegs: bool,
    /// Colour JPEGs store colour at half resolution (as most cameras do).
    pub chroma_subsampling: bool,
    pub downsampling: Downsampling,
}

/// One rung: image settings and the least similarity its output must keep.
#[derive(Debug, Clone, Copy)]
struct Rung {
    settings: ImageSettings,
    similarity_floor: f64,
}

/// The image settings, weakest first. `low`, `recommended` and `extreme` end at rungs 1, 2
/// and 3; the rest are climbed only to reach a target size.
const LADDER: [Rung; 5] = [
    Rung {
        settings: ImageSettings {
            dpi: 300,
            mono_dpi: 600,
            jpeg_quality: 80,
            keep_jpegs: true,
            chroma_subsampling: false,
            downsampling: Downsampling::Bicubic,
        },
        similarity_floor: 0.98,
    },
    Rung {
        settings: ImageSettings {
            dpi: 150,
            mono_dpi: 300,
            jpeg_quality: 62,
            keep_jpegs: true,
            chroma_subsampling: true,
            downsampling: Downsampling::Average,
        },
        similarity_floor: 0.95,
    },
    Rung {
        settings: ImageSettings {
            dpi: 100,
            mono_dpi: 200,
            jpeg_quality: 50,
            keep_jpegs: false,
            chroma_subsampling: true,
            downsampling: Downsampling::Average,
        },
        similarity_floor: 0.90,
    },
    Rung {
        settings: ImageSettings {
            dpi: 72,
            mono_dpi: 150,
            jpeg_quality: 40,
            keep_jpegs: false,
            chroma_subsampling: true,
            downsampling: Downsampling::Average,
        },
        similarity_floor: 0.80,
    },
    Rung {
        settings: ImageSettings {
            dpi: 50,
            mono_dpi: 100,
            jpeg_quality: 25,
            keep_jpegs: false,
            chroma_subsampling: true,
            downsampling: Downsampling::Average,
        },
        similarity_floor: 0.70,
    },
];

/// One rung of image re-encoding: its settings and the least similarity of the pages.
#[derive(Debug, Clone, Copy)]
struct RecodeRung {
    settings: RecodeSettings,
    similarity_floor: f64,
}

/// The image re-encodings, weakest first: `recommended` ends at the first, `extreme` at the
/// second. The similarity of each image is measured at about 100 dpi (see
/// [`recode`](super::recode)); `recommended` keeps it at 0.98 for JPEGs, well above the page
/// floor, and lets a page become bilevel only at 0.96.
const RECODE_LADDER: [RecodeRung; 2] = [
    RecodeRung {
        settings: RecodeSettings { min_quality: 30, max_quality: 85, jpeg_similarity: 0.98, bilevel_similarity: 0.96 },
        similarity_floor: 0.95,
    },
    RecodeRung {
        settings: RecodeSettings { min_quality: 20, max_quality: 75, jpeg_similarity: 0.95, bilevel_similarity: 0.93 },
        similarity_floor: 0.90,
    },
];

/// How many rungs of [`RECODE_LADDER`] a level climbs.
fn recode_rungs(level: CompressLevel) -> usize {
    match level {
        CompressLevel::Lossless | CompressLevel::Low => 0,
        CompressLevel::Recommended => 1,
        CompressLevel::Extreme => 2,
    }
}

/// How many rungs of [`LADDER`] a level climbs.
fn rungs(level: CompressLevel) -> usize {
    match level {
        CompressLevel::Lossless => 0,
        CompressLevel::Low => 1,
        CompressLevel::Recommended => 2,
        CompressLevel::Extreme => 3,
    }
}

/// How a candidate (and so the output) was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompressMethod {
    /// The input, unchanged.
    Original,
    /// qpdf's lossless structural pass.
    Structural,
    /// Raster images re-encoded in place, then the structural pass.
    Recoded,
    /// Ghostscript re-encoded the images (and rewrote fonts and content), then the structural
    /// pass.
    Reencoded,
}

impl CompressMethod {
    /// The programs that made a file of this method, in order.
    fn programs(self) -> Vec<&'static str> {
        match self {
            Self::Original => vec![],
            Self::Structural => vec!["qpdf"],
            Self::Recoded => vec!["scanpro", "qpdf"],
            Self::Reencoded => vec!["ghostscript", "qpdf"],
        }
    }
}

/// One candidate tried, and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub method: CompressMethod,
    /// The image settings of a re-encoding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<ImageSettings>,
    /// The settings of an in-place image re-encoding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recoding: Option<RecodeSettings>,
    /// What an in-place re-encoding did to the images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<RecodeSummary>,
    /// Size of the candidate, when one was written.
    pub bytes: Option<u64>,
    /// Mean similarity of its sampled pages to the input's (1 = identical), when checked.
    pub similarity: Option<f64>,
    /// Whether it passed every check (it may still lose to a smaller one).
    pub passed: bool,
    /// Why it failed, was refused or was not checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Attempt {
    fn new(method: CompressMethod, settings: Option<ImageSettings>) -> Self {
        Self {
            method,
            settings,
            recoding: None,
            images: None,
            bytes: None,
            similarity: None,
            passed: false,
            note: None,
        }
    }

    fn noting(self, note: impl std::fmt::Display) -> Self {
        Self { note: Some(note.to_string()), ..self }
    }
}

/// What `compress` did.
#[derive(Debug, Clone, Serialize)]
pub struct CompressReport {
    pub level: CompressLevel,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// `bytes_after / bytes_before`.
    pub ratio: f64,
    pub pages: u32,
    /// How the output was made.
    pub method: CompressMethod,
    /// The programs that made the output, in order (none when it is the input).
    pub methods: Vec<&'static str>,
    /// The image settings of a re-encoded output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<ImageSettings>,
    /// The settings of an output whose images were re-encoded in place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recoding: Option<RecodeSettings>,
    /// What that re-encoding did to the images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<RecodeSummary>,
    /// Mean similarity of the output's sampled pages to the input's (1 = identical).
    pub similarity: Option<f64>,
    /// The output is the input, unchanged: nothing smaller passed the checks.
    pub returned_original: bool,
    /// The input was protected with permissions only (an empty password) and the output, a
    /// rewrite, carries no protection.
    pub decrypted: bool,
    pub target_bytes: Option<u64>,
    /// Whether the output fits `target_bytes` (absent without a target).
    pub target_met: Option<bool>,
    /// Every candidate, in the order tried.
    pub attempts: Vec<Attempt>,
    /// What the user should know, in plain words.
    pub notes: Vec<String>,
}

/// Compresses `input` into `output` (see the module documentation). `output` is always
/// written, with the input itself when nothing smaller passes.
pub async fn compress(
    config: &GhostscriptConfig,
    input: &Path,
    output: &Path,
    params: &CompressParams,
) -> Result<CompressReport, ToolError> {
    params.validate()?;
    let target = params.target_bytes()?;
    Ok(confined(input, output, run(config, input, output, params.level, target)).await?)
}

/// The best candidate so far.
struct Best {
    path: Option<PathBuf>,
    bytes: u64,
    method: CompressMethod,
    settings: Option<ImageSettings>,
    recoding: Option<RecodeSettings>,
    images: Option<RecodeSummary>,
    similarity: Option<f64>,
}

struct Search<'a> {
    programs: Programs<'a>,
    source: &'a Source,
    reference: Reference<'a>,
    scratch: Scratch,
    best: Best,
    attempts: Vec<Attempt>,
    /// The raster images, as `pdfimages -list` reads them (`None` when it cannot).
    images: Option<Images>,
    /// The structural pass's output (decrypted, every object readable), whether or not it won:
    /// the input of the image re-encoding.
    packed: Option<PathBuf>,
    /// Set when Ghostscript ran past its deadline: it would on the next rung too.
    ghostscript_gave_up: Option<Rejection>,
}

async fn run(
    config: &GhostscriptConfig,
    input: &Path,
    output: &Path,
    level: CompressLevel,
    target: Option<u64>,
) -> Result<CompressReport, GhostscriptError> {
    let programs = Programs::new(config);
    let source = inspect(programs, input).await?;
    let (workload, images) = workload(programs, &source).await?;
    let programs = programs.bounded(&workload);
    let scratch = Scratch::beside(output)?;
    let reference = Reference::new(programs, &source).await?;
    let best = Best {
        path: None,
        bytes: source.bytes,
        method: CompressMethod::Original,
        settings: None,
        recoding: None,
        images: None,
        similarity: Some(1.0),
    };
    let mut search = Search {
        programs,
        source: &source,
        reference,
        scratch,
        best,
        attempts: Vec::new(),
        images,
        packed: None,
        ghostscript_gave_up: None,
    };
    let mut notes = Vec::new();

    search.structural().await?;
    search.recode(recode_rungs(level), target).await?;
    search.climb(rungs(level), target, &mut notes).await?;
    if let Some(why) = &search.ghostscript_gave_up {
        notes.push(format!("{why}, so the stronger image settings were not tried"));
    }

    let Search { best, attempts, scratch, .. } = search;
    match &best.path {
        Some(path) => deliver(path, output)?,
        None => {
            deliver_original(&source, &scratch, output)?;
            notes.push(
                "no rewrite came out smaller than the input and passed the checks: the output is the input".into(),
            );
        }
    }
    if source.tagged && best.method == CompressMethod::Reencoded {
        notes.push("the input's structure tags (accessibility) did not survive the Ghostscript rewrite".into());
    }
    let target_met = target.map(|target| best.bytes <= target);
    if let (Some(target), Some(false)) = (target, target_met) {
        notes.push(format!(
            "the target of {target} bytes was not met: the smallest result that keeps the pages legible is {} bytes",
            best.bytes
        ));
    }
    Ok(CompressReport {
        level,
        bytes_before: source.bytes,
        bytes_after: best.bytes,
        ratio: best.bytes as f64 / source.bytes.max(1) as f64,
        pages: source.pages,
        method: best.method,
        methods: best.method.programs(),
        settings: best.settings,
        recoding: best.recoding,
        images: best.images,
        similarity: best.similarity,
        returned_original: best.method == CompressMethod::Original,
        decrypted: source.permissions_only && best.method != CompressMethod::Original,
        target_bytes: target,
        target_met,
        attempts,
        notes,
    })
}

impl Search<'_> {
    /// Re-encodes with the first `rungs` rungs of the ladder, and more while the best result
    /// misses `target`.
    async fn climb(
        &mut self,
        rungs: usize,
        target: Option<u64>,
        notes: &mut Vec<String>,
    ) -> Result<(), GhostscriptError> {
        let misses_target = |best: &Best| target.is_some_and(|target| best.bytes > target);
        if rungs == 0 && !misses_target(&self.best) {
            return Ok(());
        }
        let source = self.source;
        let images = self.images.as_ref().map(|images| (images.count, images.bytes));
        let image_share = images.map(|(_, bytes)| bytes as f64 / source.bytes.max(1) as f64);
        if target.is_none()
            && source.pages > LONG_DOCUMENT_PAGES
            && let Some(share) = image_share.filter(|share| *share < LONG_DOCUMENT_IMAGE_SHARE)
        {
            let why = format!("not tried: {} pages, {:.0} % of the bytes in images", source.pages, share * 100.0);
            for rung in &LADDER[..rungs] {
                self.attempts.push(Attempt::new(CompressMethod::Reencoded, Some(rung.settings)).noting(why.clone()));
            }
            notes.push(
                "Ghostscript was not run: on long documents that are mostly text and drawings its rewrite takes up \
                 to minutes and rarely gives a smaller file; pass a target size to try it anyway"
                    .into(),
            );
            return Ok(());
        }
        if images.is_some_and(|(count, _)| count == 0) {
            // Image settings change nothing: one pass, held to the floor of the strongest rung
            // the level reaches (the same file passes at every level that accepts it).
            notes.push("the document has no raster images: one Ghostscript pass stands for every image setting".into());
            let strongest = &LADDER[rungs.max(1) - 1];
            return self.reencode(0, &LADDER[0].settings, strongest.similarity_floor).await;
        }
        for (index, rung) in LADDER.iter().enumerate() {
            if index >= rungs && !misses_target(&self.best) {
                break;
            }
            self.reencode(index, &rung.settings, rung.similarity_floor).await?;
        }
        Ok(())
    }

    /// The structural pass over the input.
    async fn structural(&mut self) -> Result<(), GhostscriptError> {
        let attempt = Attempt::new(CompressMethod::Structural, None);
        let packed = match pack(self.programs, &self.source.path, &self.scratch.file("structural.pdf")).await? {
            Candidate::Written(packed) => packed,
            Candidate::Refused(why) => {
                self.attempts.push(attempt.noting(why));
                return Ok(());
            }
        };
        self.packed = Some(packed.clone());
        let expect = Expect { similarity: STRUCTURAL_FLOOR, redrawn: false, gray: false };
        self.consider(packed, attempt, expect).await
    }

    /// Re-encodes the images in place with the first `rungs` rungs of [`RECODE_LADDER`], and
    /// more while the best result misses `target`; each result packed, then checked.
    async fn recode(&mut self, rungs: usize, target: Option<u64>) -> Result<(), GhostscriptError> {
        let misses_target = |best: &Best| target.is_some_and(|target| best.bytes > target);
        let has_images = self.images.as_ref().is_some_and(|images| images.count > 0);
        if !has_images || rungs == 0 && !misses_target(&self.best) {
            return Ok(());
        }
        // The packed file is decrypted; a permissions-only input that qpdf could not pack is
        // not re-encoded.
        let input = match (&self.packed, self.source.permissions_only) {
            (Some(packed), _) => packed.clone(),
            (None, false) => self.source.path.clone(),
            (None, true) => return Ok(()),
        };
        // Where each image sits on its pages, by its object number in the file re-encoded.
        let resolution = image_inventory(self.programs, &input).await?.map(|images| images.resolution);
        let resolution = std::sync::Arc::new(resolution.unwrap_or_default());
        for (index, rung) in RECODE_LADDER.iter().enumerate() {
            if index >= rungs && !misses_target(&self.best) {
                break;
            }
            let mut attempt = Attempt { recoding: Some(rung.settings), ..Attempt::new(CompressMethod::Recoded, None) };
            let written = self.scratch.file(&format!("recoded{index}.pdf"));
            let (from, to, settings, resolution) = (input.clone(), written.clone(), rung.settings, resolution.clone());
            let recoded = tokio::task::spawn_blocking(move || recode_images(&from, &to, &settings, &resolution))
                .await
                .map_err(|e| GhostscriptError::Failed(format!("re-encoding the images failed: {e}")))?;
            let summary = match recoded {
                Ok(summary) => summary,
                Err(why) => {
                    self.attempts.push(attempt.noting(why));
                    continue;
                }
            };
            attempt.images = Some(summary);
            let candidate = match pack(self.programs, &written, &written.with_extension("packed.pdf")).await? {
                Candidate::Written(packed) if file_size(&packed) < file_size(&written) => packed,
                _ => written,
            };
            let expect = Expect { similarity: rung.similarity_floor, redrawn: true, gray: false };
            self.consider(candidate, attempt, expect).await?;
        }
        Ok(())
    }

    /// Ghostscript with `settings`, then the structural pass over its output; it must keep the
    /// sampled pages at `floor`.
    async fn reencode(&mut self, index: usize, settings: &ImageSettings, floor: f64) -> Result<(), GhostscriptError> {
        let attempt = Attempt::new(CompressMethod::Reencoded, Some(*settings));
        let written = self.scratch.file(&format!("rung{index}.pdf"));
        let expect = Expect { similarity: floor, redrawn: true, gray: false };
        match self.reencoded(settings, &self.source.path, &written).await? {
            Candidate::Written(candidate) => self.consider(candidate, attempt, expect).await,
            Candidate::Refused(why) => {
                self.attempts.push(attempt.noting(why));
                Ok(())
            }
        }
    }

    /// `input` re-encoded into `written` and packed: the smaller of the two files, or why
    /// there is none. A deadline passed makes Ghostscript give up on the document for good.
    async fn reencoded(
        &mut self,
        settings: &ImageSettings,
        input: &Path,
        written: &Path,
    ) -> Result<Candidate, GhostscriptError> {
        if let Some(why) = &self.ghostscript_gave_up {
            return Ok(Candidate::Refused(Rejection::NotTried(Box::new(why.clone()))));
        }
        let out = match reencode_run(self.programs, settings, self.source, input, written).output().await {
            Ok(out) => out,
            Err(GhostscriptError::Timeout { program, after }) => {
                let why = Rejection::TimedOut { program, after };
                self.ghostscript_gave_up = Some(why.clone());
                return Ok(Candidate::Refused(why));
            }
            Err(other) => return Err(other),
        };
        if !out.status.success() || !written.is_file() {
            let why = last_words(&out, "Ghostscript", &[input, written]);
            return Ok(Candidate::Refused(Rejection::GhostscriptFailed(why)));
        }
        // gs writes neither object streams nor maximal compression: the structural pass
        // usually takes another 5 to 40 % off. Keep whichever is smaller.
        match pack(self.programs, written, &written.with_extension("packed.pdf")).await? {
            Candidate::Written(packed) if file_size(&packed) < file_size(written) => Ok(Candidate::Written(packed)),
            _ => Ok(Candidate::Written(written.to_path_buf())),
        }
    }

    /// Checks a candidate that is smaller than the best so far and makes it the best if it
    /// passes; a larger one cannot win and is not checked.
    async fn consider(&mut self, candidate: PathBuf, attempt: Attempt, expect: Expect) -> Result<(), GhostscriptError> {
        let bytes = file_size(&candidate);
        let mut attempt = Attempt { bytes: Some(bytes), ..attempt };
        if bytes >= self.best.bytes {
            attempt.note = Some(format!("not smaller than the best so far ({} bytes)", self.best.bytes));
            self.attempts.push(attempt);
            return Ok(());
        }
        match self.reference.verify(&candidate, expect).await? {
            Verdict::Passed(passed) => {
                attempt.passed = true;
                attempt.similarity = passed.similarity;
                self.best = Best {
                    path: Some(candidate),
                    bytes,
                    method: attempt.method,
                    settings: attempt.settings,
                    recoding: attempt.recoding,
                    images: attempt.images,
                    similarity: passed.similarity,
                };
            }
            Verdict::Rejected(why) => attempt.note = Some(why.to_string()),
        }
        self.attempts.push(attempt);
        Ok(())
    }
}

/// The Ghostscript command that re-encodes `input` (the source or a sample of it) into
/// `output` with `settings`. Pages are never rotated and colours never converted: only images
/// change.
fn reencode_run(programs: Programs<'_>, settings: &ImageSettings, source: &Source, input: &Path, output: &Path) -> Run {
    let downsampling = match settings.downsampling {
        Downsampling::Bicubic => "/Bicubic",
        Downsampling::Average => "/Average",
    };
    let mut run = programs.pdfwrite(source, output).args([
        "-dAutoRotatePages=/None",
        "-sColorConversionStrategy=LeaveColorUnchanged",
        "-dDetectDuplicateImages=true",
    ]);
    run = run.arg(format!("-dPassThroughJPEGImages={}", settings.keep_jpegs));
    for kind in ["Color", "Gray"] {
        run = run.args([
            format!("-dDownsample{kind}Images=true"),
            format!("-d{kind}ImageResolution={}", settings.dpi),
            format!("-d{kind}ImageDownsampleThreshold=1.5"),
            format!("-d{kind}ImageDownsampleType={downsampling}"),
        ]);
    }
    run = run.args([
        "-dDownsampleMonoImages=true".to_owned(),
        format!("-dMonoImageResolution={}", settings.mono_dpi),
        "-dMonoImageDownsampleThreshold=1.5".to_owned(),
        "-dMonoImageDownsampleType=/Subsample".to_owned(),
    ]);
    // JPEG quality is a distiller parameter without a command-line switch.
    run.arg("-c").arg(jpeg_distiller_params(settings.jpeg_quality, settings.chroma_subsampling)).arg("-f").arg(input)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(u64::MAX, |meta| meta.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_weakens_nothing_as_it_climbs() {
        for pair in LADDER.windows(2) {
            let (weaker, stronger) = (&pair[0], &pair[1]);
            assert!(stronger.settings.dpi < weaker.settings.dpi);
            assert!(stronger.settings.mono_dpi < weaker.settings.mono_dpi);
            assert!(stronger.settings.jpeg_quality < weaker.settings.jpeg_quality);
            assert!(stronger.similarity_floor < weaker.similarity_floor);
        }
        assert!(CompressLevel::ALL.windows(2).all(|pair| rungs(pair[0]) < rungs(pair[1])));
        assert!(rungs(CompressLevel::Extreme) <= LADDER.len());
        for pair in RECODE_LADDER.windows(2) {
            let (weaker, stronger) = (&pair[0], &pair[1]);
            assert!(stronger.settings.min_quality < weaker.settings.min_quality);
            assert!(stronger.settings.jpeg_similarity < weaker.settings.jpeg_similarity);
            assert!(stronger.settings.bilevel_similarity < weaker.settings.bilevel_similarity);
            assert!(stronger.similarity_floor < weaker.similarity_floor);
        }
        assert!(CompressLevel::ALL.windows(2).all(|pair| recode_rungs(pair[0]) <= recode_rungs(pair[1])));
        assert_eq!(recode_rungs(CompressLevel::Extreme), RECODE_LADDER.len());
    }
}
