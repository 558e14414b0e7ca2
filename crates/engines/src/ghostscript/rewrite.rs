//! The steps every tool of the engine shares: a scratch directory beside the output, qpdf's
//! structural pass, one checked Ghostscript pass, and delivering the chosen file.

use super::inspect::Source;
use super::programs::{Programs, Run, last_words};
use super::verify::{Expect, Passed, Reference, Verdict};
use super::{GhostscriptError, Rejection};
use std::path::{Path, PathBuf};

/// A private directory beside the output (so the result is renamed into place, never copied
/// half-written), removed with everything left in it when dropped.
pub(crate) struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn beside(output: &Path) -> Result<Self, GhostscriptError> {
        let output = std::path::absolute(output)?;
        let parent = output.parent().unwrap_or(Path::new("/"));
        Ok(Self { dir: tempfile::Builder::new().prefix(".scanpro-gs-").tempdir_in(parent)? })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Moves `chosen` (a scratch file) to `output`.
pub(crate) fn deliver(chosen: &Path, output: &Path) -> Result<(), GhostscriptError> {
    std::fs::rename(chosen, output)?;
    Ok(())
}

/// Writes an unchanged copy of the input to `output` through the scratch directory (nothing
/// when they are the same file).
pub(crate) fn deliver_original(source: &Source, scratch: &Scratch, output: &Path) -> Result<(), GhostscriptError> {
    let same =
        std::fs::canonicalize(output).is_ok_and(|output| std::fs::canonicalize(&source.path).ok() == Some(output));
    if !same {
        let copy = scratch.file("original.pdf");
        std::fs::copy(&source.path, &copy)?;
        deliver(&copy, output)?;
    }
    Ok(())
}

/// A candidate output, once the programs that make it have run.
#[derive(Debug, Clone)]
pub(crate) enum Candidate {
    /// Written at this path, not checked yet.
    Written(PathBuf),
    /// Not written: why.
    Refused(Rejection),
}

/// qpdf's lossless structural pass: decrypted (permissions-only inputs), streams recompressed
/// at the highest level, objects packed into object streams. Pages, fonts and images keep
/// their bytes. [`Candidate::Refused`] when qpdf cannot write the file.
pub(crate) async fn pack(programs: Programs<'_>, input: &Path, output: &Path) -> Result<Candidate, GhostscriptError> {
    let run = programs
        .qpdf()
        .args(["--decrypt", "--object-streams=generate", "--compress-streams=y", "--recompress-flate"])
        .args(["--compression-level=9"])
        .arg(input)
        .arg(output);
    match run.output().await {
        // Exit 3: written with warnings, as for a damaged input qpdf reconstructed; the checks decide.
        Ok(out) if matches!(out.status.code(), Some(0 | 3)) && output.is_file() => {
            Ok(Candidate::Written(output.to_path_buf()))
        }
        Ok(out) => Ok(Candidate::Refused(Rejection::QpdfFailed(last_words(&out, "qpdf", &[input, output])))),
        Err(GhostscriptError::Timeout { program, after }) => {
            Ok(Candidate::Refused(Rejection::TimedOut { program, after }))
        }
        Err(other) => Err(other),
    }
}

/// Runs one Ghostscript pass (`run` writes `written`) and checks its output:
/// [`Verdict::Rejected`] when Ghostscript fails or its output fails a check. A deadline is an
/// error of its own.
pub(crate) async fn redraw(
    run: Run,
    written: &Path,
    reference: &Reference<'_>,
    expect: Expect,
    input: &Path,
) -> Result<Verdict, GhostscriptError> {
    let out = run.output().await?;
    if !out.status.success() {
        let why = last_words(&out, "Ghostscript", &[input, written]);
        return Ok(Verdict::Rejected(Rejection::GhostscriptFailed(why)));
    }
    reference.verify(written, expect).await
}

/// What a rewrite of the whole document (`pdfa`, `grayscale`) delivered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rewritten {
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub pages: u32,
    /// Mean similarity of the output's sampled pages to the input's (1 = identical).
    pub similarity: Option<f64>,
    pub methods: Vec<&'static str>,
    /// The input was protected with permissions only (an empty password); the output carries
    /// no protection.
    pub decrypted: bool,
}

impl Rewritten {
    /// Delivers `chosen` to `output` and says what it is.
    pub(crate) fn deliver(
        source: &Source,
        chosen: &Path,
        output: &Path,
        passed: &Passed,
        methods: Vec<&'static str>,
    ) -> Result<Self, GhostscriptError> {
        let bytes_after = std::fs::metadata(chosen)?.len();
        deliver(chosen, output)?;
        Ok(Self {
            bytes_before: source.bytes,
            bytes_after,
            pages: source.pages,
            similarity: passed.similarity,
            methods,
            decrypted: source.permissions_only,
        })
    }
}
