//! The streaming path for large inputs: `qpdf` reads objects as it needs them, where lopdf holds
//! the whole parsed document (about 25× the file size). Above [`large_input_bytes`] the
//! structural tools (`merge`, `split`, `rotate`) hand their work to `qpdf` through the one
//! subprocess runner, so peak memory stays near the input's size plus a fixed overhead.
//!
//! The trade: qpdf keeps fewer things than our own copier in some respects (no bookmark per
//! merged input) and more in others (it carries forms), and it is slower on small files.

use scanpro_core::{ErrorCode, ToolError};
use scanpro_process::Subprocess;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Inputs larger than this take the streaming path unless configured otherwise.
pub const DEFAULT_LARGE_INPUT_BYTES: u64 = 16 * 1024 * 1024;

static LARGE_INPUT_BYTES: OnceLock<u64> = OnceLock::new();

/// Sets the size above which inputs take the streaming path, once per process (the step process
/// and the CLI set it from the configuration before running anything).
pub fn set_large_input_bytes(bytes: u64) {
    let _ = LARGE_INPUT_BYTES.set(bytes);
}

pub fn large_input_bytes() -> u64 {
    *LARGE_INPUT_BYTES.get().unwrap_or(&DEFAULT_LARGE_INPUT_BYTES)
}

/// Whether any of `inputs` is large enough for the streaming path.
pub fn is_large(inputs: &[PathBuf]) -> bool {
    let limit = large_input_bytes();
    inputs.iter().any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > limit))
}

const QPDF_TIMEOUT: Duration = Duration::from_secs(3600);

/// Draws every annotation and form field into its page as it looks (appearances generated where
/// a field lacks one) and removes them: the form can no longer be filled or changed.
pub fn flatten(input: &Path, out: &Path) -> Result<(), ToolError> {
    let args = vec!["--generate-appearances".into(), "--flatten-annotations=all".into(), input.into(), out.into()];
    qpdf(args, &[input], Some(out)).map(|_| ())
}

/// Gives the text and choice fields of a form that asks for it (`NeedAppearances`) appearance
/// streams showing their values, in place; with `flatten`, then draws every annotation into its
/// page as [`flatten`] does.
pub fn generate_appearances(path: &Path, flatten: bool) -> Result<(), ToolError> {
    let mut args: Vec<std::ffi::OsString> = vec!["--generate-appearances".into()];
    if flatten {
        args.push("--flatten-annotations=all".into());
    }
    args.extend([path.into(), "--replace-input".into()]);
    qpdf(args, &[path], Some(path)).map(|_| ())
}

/// Runs qpdf with `args`; it may read `inputs` and write beside `out`.
fn qpdf(args: Vec<std::ffi::OsString>, inputs: &[&Path], out: Option<&Path>) -> Result<String, ToolError> {
    let mut command = Subprocess::new("qpdf").args(args).timeout(QPDF_TIMEOUT);
    for input in inputs {
        command = command.allow_read(*input);
    }
    if let Some(out) = out {
        command = command.allow_write(parent_dir(out));
    }
    let output = command.run_blocking().map_err(|e| ToolError::internal(format!("qpdf: {e}")))?;
    match output.status.code() {
        // 3: success with warnings (a damaged file read leniently).
        Some(0 | 3) => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
        _ => {
            let why = output.stderr_tail.lines().last().unwrap_or("unreadable").to_owned();
            Err(ToolError::new(ErrorCode::InvalidPdf, format!("the PDF cannot be read: {}", scrub(&why))))
        }
    }
}

/// The directory a file is written in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// qpdf names the file in its messages; the user knows which file it was.
fn scrub(message: &str) -> String {
    message.rsplit_once(": ").map_or(message, |(_, why)| why).to_owned()
}

/// Refuses encrypted inputs the way [`crate::open()`] does.
fn refuse_encrypted(input: &Path) -> Result<(), ToolError> {
    let encrypted =
        Subprocess::new("qpdf").arg("--is-encrypted").arg(input).allow_read(input).timeout(QPDF_TIMEOUT).run_blocking();
    match encrypted.map(|o| o.status.code()) {
        Ok(Some(0)) => Err(ToolError::new(
            ErrorCode::EncryptedInput,
            "the PDF is encrypted; run the unlock tool with its password first",
        )),
        _ => Ok(()),
    }
}

pub fn page_count(input: &Path) -> Result<u32, ToolError> {
    refuse_encrypted(input)?;
    let text = qpdf(vec!["--show-npages".into(), input.into()], &[input], None)?;
    text.trim().parse().map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "the PDF has no readable page count"))
}

/// `1,3,5-9` for qpdf's page ranges.
fn ranges(pages: &[u32]) -> String {
    pages.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Concatenates `inputs` in `order`.
pub fn merge(inputs: &[PathBuf], order: &[usize], out: &Path) -> Result<(), ToolError> {
    let mut args: Vec<std::ffi::OsString> =
        vec!["--empty".into(), "--remove-unreferenced-resources=no".into(), "--pages".into()];
    for &index in order {
        refuse_encrypted(&inputs[index])?;
        args.push(inputs[index].clone().into());
    }
    args.extend(["--".into(), out.into()]);
    let reads: Vec<&Path> = order.iter().map(|&index| inputs[index].as_path()).collect();
    qpdf(args, &reads, Some(out)).map(drop)
}

/// Writes the `pages` of `input`, in that order, to `out`.
pub fn select(input: &Path, pages: &[u32], out: &Path) -> Result<(), ToolError> {
    let args = vec![
        input.into(),
        "--remove-unreferenced-resources=yes".into(),
        "--pages".into(),
        ".".into(),
        ranges(pages).into(),
        "--".into(),
        out.into(),
    ];
    qpdf(args, &[input], Some(out)).map(drop)
}

/// Adds `angle` (90, 180, 270) to the rotation of `pages` (all when empty).
pub fn rotate(input: &Path, angle: i32, pages: &[u32], out: &Path) -> Result<(), ToolError> {
    refuse_encrypted(input)?;
    let spec = if pages.is_empty() { format!("+{angle}") } else { format!("+{angle}:{}", ranges(pages)) };
    qpdf(vec![format!("--rotate={spec}").into(), input.into(), out.into()], &[input], Some(out)).map(drop)
}

/// Draws pages of `overlay` over (or, with `under`, beneath) the pages `to` (1-based) of
/// `input`: its first page on each, or with `match_pages` its page n on page n and its last page
/// on the pages after. qpdf shrinks an overlay page larger than the page to fit, centred.
pub fn overlay(
    input: &Path,
    overlay: &Path,
    under: bool,
    to: &[u32],
    match_pages: bool,
    out: &Path,
) -> Result<(), ToolError> {
    refuse_encrypted(input)?;
    refuse_encrypted(overlay)?;
    let (from, repeat) = if match_pages { ("1-z", "z") } else { ("", "1") };
    let args = vec![
        input.into(),
        if under { "--underlay" } else { "--overlay" }.into(),
        overlay.into(),
        format!("--to={}", ranges(to)).into(),
        format!("--from={from}").into(),
        format!("--repeat={repeat}").into(),
        "--".into(),
        out.into(),
    ];
    qpdf(args, &[input, overlay], Some(out)).map(|_| ())
}
