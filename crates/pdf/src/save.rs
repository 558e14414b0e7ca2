//! Atomic writes: an output appears complete under its name or not at all, so a crash or a
//! kill mid-write never leaves a truncated PDF for the worker to upload.

use lopdf::Document;
use scanpro_core::ToolError;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `doc` to a temp file beside `out`, then renames it over `out`.
///
/// Plain save (no object streams): it is the fastest writer and every reader accepts it.
pub(crate) fn save_atomic(doc: &mut Document, out: &Path) -> Result<(), ToolError> {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let write_error = |e: &dyn std::fmt::Display| ToolError::internal(format!("cannot write {}: {e}", out.display()));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".scanpro-").suffix(".part");
    // Temp files are private by default; an output is an ordinary file.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let temp = builder
        .tempfile_in(dir)
        .map_err(|e| write_error(&e))?;
    let mut writer = BufWriter::with_capacity(256 * 1024, temp.as_file());
    doc.save_to(&mut writer).map_err(|e| write_error(&e))?;
    writer.flush().map_err(|e| write_error(&e))?;
    drop(writer);
    temp.persist(out).map_err(|e| write_error(&e.error))?;
    Ok(())
}
