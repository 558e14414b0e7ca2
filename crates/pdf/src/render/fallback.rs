//! The fallback renderer: poppler's `pdftoppm`, for pages hayro fails on and documents it cannot
//! open. It runs through the one subprocess runner, with a deadline and a memory cap.

use super::{RenderSize, encode::RasterEncoding};
use scanpro_process::{Limits, ProcessError, Subprocess};
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

/// Longest one page may take.
const PAGE_TIMEOUT: Duration = Duration::from_secs(120);
/// Address space for pdftoppm: room for a 100-megapixel page and its encoder.
const MEMORY_BYTES: u64 = 3 << 30;

/// Why pdftoppm gave no page.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PdftoppmError {
    /// A path could not be made absolute.
    #[error("{0}")]
    Path(#[source] std::io::Error),
    #[error("{0}")]
    Run(#[from] ProcessError),
    /// pdftoppm failed: its exit status and stderr.
    #[error("pdftoppm failed ({status}): {said}")]
    Failed { status: ExitStatus, said: String },
    #[error("pdftoppm wrote an unreadable image: {0}")]
    Unreadable(#[source] image::ImageError),
}

/// Renders 1-based `page` of `input` into `out` (whose extension must match `encoding`);
/// returns its pixel size.
pub(crate) fn render_page(
    input: &Path,
    page: u32,
    size: RenderSize,
    encoding: RasterEncoding,
    out: &Path,
) -> Result<(u32, u32), PdftoppmError> {
    // The child runs in a private directory: paths must be absolute. pdftoppm appends the
    // extension to the output root it is given.
    let input = std::path::absolute(input).map_err(PdftoppmError::Path)?;
    let out = std::path::absolute(out).map_err(PdftoppmError::Path)?;
    let root = out.with_extension("");
    let page = page.to_string();
    let mut command = Subprocess::new("pdftoppm")
        .args(["-f", &page, "-l", &page, "-singlefile", "-cropbox"])
        .timeout(PAGE_TIMEOUT)
        .limits(Limits {
            memory_bytes: Some(MEMORY_BYTES),
            cpu_seconds: Some(PAGE_TIMEOUT.as_secs()),
            file_bytes: None,
        });
    command = match encoding {
        RasterEncoding::Png => command.arg("-png"),
        RasterEncoding::Jpeg { quality } => command.args(["-jpeg", "-jpegopt", &format!("quality={quality}")]),
    };
    command = match size {
        RenderSize::Dpi(dpi) => command.args(["-r", &dpi.to_string()]),
        RenderSize::Width(width) => command.args(["-scale-to-x", &width.to_string(), "-scale-to-y", "-1"]),
    };
    let out_dir = out.parent().unwrap_or(Path::new("/"));
    let output = command.arg(&input).arg(&root).allow_read(&input).allow_write(out_dir).run_blocking()?;
    if !output.status.success() || !out.is_file() {
        let _ = std::fs::remove_file(&out);
        return Err(PdftoppmError::Failed { status: output.status, said: output.stderr_tail.trim().to_owned() });
    }
    image::image_dimensions(&out).map_err(PdftoppmError::Unreadable)
}
