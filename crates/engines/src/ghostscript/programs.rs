//! The programs the engine runs, each through the one subprocess runner with the configured
//! deadline and memory limit, and how their failures become [`GhostscriptError`]s. Messages that
//! reach the user never hold a path: the names of our scratch files and of the stored input are
//! replaced with "the file".

use super::inspect::Source;
use super::{GhostscriptConfig, GhostscriptError};
use scanpro_process::budget::Workload;
use scanpro_process::{Limits, ProcessError, ProcessOutput, Subprocess};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Options every Ghostscript run starts with: no file access beyond the files named on the
/// command line (`-dSAFER`), no prompts, no chatter.
const GS_BASE: [&str; 4] = ["-dSAFER", "-dNOPAUSE", "-dBATCH", "-dQUIET"];

/// The configured programs, ready to run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Programs<'a> {
    pub config: &'a GhostscriptConfig,
    /// Deadline of each run: the configured one until the input is known, then the one its
    /// [`Workload`] earns.
    pub deadline: Duration,
}

/// A named run: what it is called in messages, and the command.
pub(crate) struct Run {
    label: &'static str,
    command: Subprocess,
}

impl<'a> Programs<'a> {
    pub fn new(config: &'a GhostscriptConfig) -> Self {
        Self { config, deadline: config.timeout }
    }

    /// The same programs, each run with the deadline `workload` earns (see [`budget`](scanpro_process::budget)).
    pub fn bounded(self, workload: &Workload) -> Self {
        Self { deadline: workload.deadline(self.config.timeout), ..self }
    }

    fn prepare(&self, label: &'static str, program: PathBuf) -> Run {
        let limits = Limits { memory_bytes: Some(self.config.memory_bytes), ..Limits::default() };
        Run { label, command: Subprocess::new(program).timeout(self.deadline).limits(limits) }
    }

    /// Ghostscript's `pdfwrite` device rewriting `source` into `output`; the caller adds
    /// options and the inputs.
    ///
    /// Ghostscript stamps its output with the time of the run. It is given the input's creation
    /// date instead (it reads `SOURCE_DATE_EPOCH`), or no date when the input has none: the
    /// document keeps its date, and the same rewrite of the same file has the same size, which
    /// keeps the levels of `compress` in order across runs.
    pub fn pdfwrite(&self, source: &Source, output: &Path) -> Run {
        let run = self.prepare("Ghostscript", self.config.gs.clone()).args(GS_BASE).arg("-sDEVICE=pdfwrite");
        let run = match source.created {
            Some(epoch) => run.env("SOURCE_DATE_EPOCH", epoch.to_string()),
            None => run.arg("-dOmitInfoDate"),
        };
        run.arg(output_file_arg(output))
    }

    pub fn gs(&self) -> Run {
        self.prepare("Ghostscript", self.config.gs.clone())
    }

    pub fn qpdf(&self) -> Run {
        self.prepare("qpdf", self.config.qpdf.clone())
    }

    pub fn poppler(&self, program: &'static str) -> Run {
        self.prepare(program, self.config.poppler(program))
    }
}

impl Run {
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.command = self.command.arg(arg);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.command = self.command.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.command = self.command.env(key, value);
        self
    }

    pub fn label(&self) -> &'static str {
        self.label
    }

    /// Runs to the end. A missing program is `unavailable`; a run past the deadline is
    /// `engine_timeout` (its whole process group is killed, as when this future is dropped).
    pub async fn output(self) -> Result<ProcessOutput, GhostscriptError> {
        let label = self.label;
        self.command.run().await.map_err(|error| match error {
            ProcessError::Timeout { after, .. } => GhostscriptError::Timeout { program: label.into(), after },
            ProcessError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                GhostscriptError::Unavailable(format!("{label} is not installed"))
            }
            other => GhostscriptError::Unavailable(format!("{label} could not run: {other}")),
        })
    }
}

/// `-sOutputFile=…`: `%` in an output name is a page-number template to Ghostscript, `%%` a
/// plain `%`.
fn output_file_arg(path: &Path) -> OsString {
    let mut arg = OsString::from("-sOutputFile=");
    match path.to_str() {
        Some(text) => arg.push(text.replace('%', "%%")),
        None => arg.push(path),
    }
    arg
}

/// PostScript for Ghostscript's `-c` that sets the quality of every JPEG it writes (IJG scale,
/// 1 to 100, as a QFactor) and whether colour is stored at half resolution, whether it picks
/// JPEG itself (the `ACS` dictionaries) or is told to. JPEG quality has no command-line switch.
pub(crate) fn jpeg_distiller_params(quality: u8, chroma_subsampling: bool) -> String {
    let q = f64::from(quality.clamp(1, 100));
    // IJG quality to a quantisation scale: 50 is the standard tables (QFactor 1).
    let qfactor = if q < 50.0 { 50.0 / q } else { (200.0 - 2.0 * q) / 100.0 };
    let samples = if chroma_subsampling { "[2 1 1 2]" } else { "[1 1 1 1]" };
    let dict = format!("<< /QFactor {qfactor:.2} /Blend 1 /HSamples {samples} /VSamples {samples} >>");
    format!(
        "<< /ColorACSImageDict {dict} /GrayACSImageDict {dict} /ColorImageDict {dict} /GrayImageDict {dict} >> setdistillerparams"
    )
}

/// The last line of a program's stderr that says something, without paths.
pub(crate) fn last_words(output: &ProcessOutput, label: &str, paths: &[&Path]) -> String {
    let line = output
        .stderr_tail
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .map(|line| scrub(line, paths))
        .unwrap_or_else(|| format!("{label} exited with {} and said nothing", output.status));
    line.chars().take(300).collect()
}

/// `text` with every one of `paths` (and the directories they sit in) replaced by "the file".
pub(crate) fn scrub(text: &str, paths: &[&Path]) -> String {
    let mut text = text.to_owned();
    for path in paths {
        if let Some(path) = path.to_str() {
            text = text.replace(path, "the file");
        }
        if let Some(dir) = path.parent().and_then(Path::to_str).filter(|dir| dir.len() > 1) {
            text = text.replace(dir, "…");
        }
    }
    text
}

/// Versions of the programs the engine needs, for readiness reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Versions {
    pub ghostscript: String,
    pub qpdf: String,
    pub poppler: String,
}

impl std::fmt::Display for Versions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ghostscript {}, qpdf {}, poppler {}", self.ghostscript, self.qpdf, self.poppler)
    }
}

/// Whether every program the engine runs is installed and starts: their versions, or why not
/// (the text of a [`GhostscriptError`], as readiness reports show it).
pub async fn available(config: &GhostscriptConfig) -> Result<Versions, String> {
    versions(config).await.map_err(|e| e.to_string())
}

/// The version of every program the engine runs; `unavailable` when one is missing or fails.
async fn versions(config: &GhostscriptConfig) -> Result<Versions, GhostscriptError> {
    let programs = Programs::new(config);
    let version = |run: Run| async move {
        let label = run.label();
        let out = run.output().await?;
        // pdftoppm prints its version on stderr, the others on stdout.
        let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), out.stderr_tail);
        let version = text
            .split_whitespace()
            .find(|word| word.starts_with(|c: char| c.is_ascii_digit()) && word.contains('.'))
            .map(str::to_owned);
        match version {
            Some(version) if out.status.success() => Ok(version),
            _ => Err(GhostscriptError::Unavailable(format!("{label} does not run: {}", last_words(&out, label, &[])))),
        }
    };
    Ok(Versions {
        ghostscript: version(programs.gs().arg("--version")).await?,
        qpdf: version(programs.qpdf().arg("--version")).await?,
        poppler: version(programs.poppler("pdftoppm").arg("-v")).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_escape_percent_signs() {
        assert_eq!(output_file_arg(Path::new("/tmp/a%d.pdf")), OsString::from("-sOutputFile=/tmp/a%%d.pdf"));
    }

    #[test]
    fn jpeg_quality_becomes_a_qfactor() {
        assert!(jpeg_distiller_params(75, true).contains("/QFactor 0.50 /Blend 1 /HSamples [2 1 1 2]"));
        let params = jpeg_distiller_params(25, false);
        assert!(params.contains("/QFactor 2.00 ") && params.contains("/HSamples [1 1 1 1]"), "{params}");
        assert!(params.ends_with(">> setdistillerparams"));
    }

    #[test]
    fn scrub_hides_paths() {
        let input = Path::new("/srv/blobs/ab/cd.pdf");
        let said = scrub("qpdf: /srv/blobs/ab/cd.pdf: invalid password (see /srv/blobs/ab/x)", &[input]);
        assert_eq!(said, "qpdf: the file: invalid password (see …/x)");
    }
}
