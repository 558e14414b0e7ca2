//! Whole-document rewrites through Ghostscript and qpdf: `compress`, `pdfa`, `grayscale`.
//!
//! Ghostscript always runs with `-dSAFER` (it reads only the files named on its command line)
//! inside the sandbox (it can open only the input and the directory of the output), writes to a
//! file in a private scratch directory beside the output, and runs under the deadline its input
//! earns (see [`scanpro_process::budget`]) and the configured memory limit through the one subprocess runner;
//! dropping a tool's future kills whatever it is running. Its exit status is not trusted: every
//! output is checked with qpdf and poppler against the input before it is delivered (see [`verify`]).
//!
//! # Layout
//! - [`config`]: [`GhostscriptConfig`], programs, deadline, memory limit, sRGB profile.
//! - [`error`]: [`GhostscriptError`] and its stable codes; [`Rejection`], why a candidate output is refused.
//! - [`programs`]: how gs, qpdf and poppler are run; [`available`] for readiness.
//! - [`inspect`]: is it a PDF, does it open without a password, pages, raster images.
//! - [`verify`]: the checks every output passes: qpdf, page count, sampled pages rendered and
//!   compared (blank, size, similarity), text, colour.
//! - [`compare`]: pixels: netpbm decoding, SSIM, ink and colour measures.
//! - [`recode`]: raster images re-encoded in place (gray, bilevel CCITT G4, JPEG at a measured
//!   quality), the scan-specific candidate of `compress`.
//! - [`rewrite`]: scratch directory, qpdf's structural pass, delivery of the result.
//! - [`compress`], [`pdfa`], [`grayscale`]: the three tools.

mod compare;
mod compress;
mod config;
mod error;
mod grayscale;
mod inspect;
mod pdfa;
mod programs;
mod recode;
mod rewrite;
mod verify;

pub use compress::{Attempt, CompressMethod, CompressReport, Downsampling, ImageSettings, compress};
pub use config::GhostscriptConfig;
pub use error::{GhostscriptError, Rejection};
pub use grayscale::{GrayscaleReport, grayscale};
pub use pdfa::{PdfaReport, pdfa};
pub use programs::{Versions, available};
pub use recode::{RecodeSettings, RecodeSummary};
pub use rewrite::Rewritten;

use std::future::Future;
use std::path::Path;

/// Runs a tool with its programs confined to `input` and the directory of `output` (where the
/// scratch directory is), on top of what the step already grants.
async fn confined<F: Future>(input: &Path, output: &Path, tool: F) -> F::Output {
    let output_dir = output.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let grants = scanpro_process::sandbox::Grants::ambient().read(input).write(output_dir);
    scanpro_process::sandbox::scope(grants, tool).await
}
