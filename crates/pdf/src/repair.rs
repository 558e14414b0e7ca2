//! Repair: rewrite a damaged PDF so every reader opens it.
//!
//! Three methods, tried in order until one gives a file that opens and has pages:
//! 1. lopdf: lenient parsing (which rebuilds a broken cross-reference table by scanning the
//!    file), a flat page tree, dangling references pointed at `null`, true stream lengths,
//!    page content re-encoded where readers disagree on it; written as one clean revision.
//! 2. `qpdf` (through the subprocess runner): its own reconstruction, which reads some files
//!    lopdf cannot; its output is then rewritten as in 1.
//! 3. Ghostscript's `pdfwrite`, which re-renders the document: the last resort, since it
//!    rebuilds fonts and images and can lose pages (the report compares page counts).
//!
//! When `qpdf` is installed, each result must also pass `qpdf --check` before it is accepted.
//! qpdf and Ghostscript get the deadline the input earns (a few seconds plus time per page the
//! file declares and per megabyte; see [`budget`]), so a tiny damaged file that makes
//! Ghostscript loop fails in seconds with `engine_timeout`, not minutes.
//! Encrypted inputs need `unlock` first; a permissions-only one is repaired and comes out
//! decrypted, like every other tool's output.

use crate::guard::guarded;
use crate::open::{needs_password, open_unguarded};
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::xref::XrefRecovery;
use lopdf::{Document, LoadOptions, Object};
use scanpro_core::{ErrorCode, ToolError};
use scanpro_process::budget::{self, Workload};
use scanpro_process::{ProcessError, ProcessOutput, Subprocess};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// Ceiling of qpdf's deadline.
const QPDF_TIMEOUT: Duration = Duration::from_secs(120);
/// Ceiling of Ghostscript's deadline: it hangs on some broken files.
const GHOSTSCRIPT_TIMEOUT: Duration = Duration::from_secs(180);
/// How many distinct qpdf warnings the report repeats.
const MAX_WARNINGS: usize = 10;
const NO_DAMAGE: &str = "no damage found: the file reads without errors and was rewritten as one clean revision";

/// How the file was repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairMethod {
    Lopdf,
    Qpdf,
    Ghostscript,
}

/// What a repair did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    pub method: RepairMethod,
    /// Pages in the output.
    pub pages: u32,
    /// What was wrong and what was done about it, one finding per entry.
    pub problems: Vec<String>,
}

/// Repairs `input` into `out`. Fails with `invalid_pdf` naming each method's failure when
/// none gives a usable file, `encrypted_input` for a file that needs a password, and
/// `unsupported_format` for what is not a PDF.
pub fn repair(input: &Path, out: &Path) -> Result<RepairReport, ToolError> {
    let input = std::path::absolute(input).map_err(|e| ToolError::internal(format!("repair: {e}")))?;
    let out = std::path::absolute(out).map_err(|e| ToolError::internal(format!("repair: {e}")))?;
    let lopdf_failure = match guarded("repair", || with_lopdf(&input, &out)) {
        Ok(mut report) => match verify(&out) {
            Ok(()) => {
                if report.problems.is_empty() {
                    report.problems.push(NO_DAMAGE.into());
                }
                return Ok(report);
            }
            Err(why) => why,
        },
        Err(e) if e.code == ErrorCode::UnsupportedFormat || needs_password(&e) => return Err(e),
        Err(e) => MethodFailure::Rewrite(e),
    };
    let scratch = tempfile::Builder::new()
        .prefix(".scanpro-repair-")
        .tempdir_in(out.parent().unwrap_or(Path::new("/")))
        .map_err(|e| ToolError::internal(format!("repair: cannot make a scratch directory ({e})")))?;
    let workload = workload(&input);
    let qpdf_failure = match with_qpdf(&input, &out, scratch.path(), &workload) {
        Ok(mut report) => {
            report.problems.insert(0, format!("lopdf could not repair it: {lopdf_failure}"));
            return Ok(report);
        }
        Err(why) => why,
    };
    match with_ghostscript(&input, &out, scratch.path(), &workload) {
        Ok(mut report) => {
            report.problems.splice(0..0, [format!("lopdf: {lopdf_failure}"), format!("qpdf: {qpdf_failure}")]);
            Ok(report)
        }
        Err(gs_failure) => Err(unrepaired(&lopdf_failure, &qpdf_failure, &gs_failure)),
    }
}

/// The error when no method gave a file: `invalid_pdf` naming each failure, or
/// `engine_timeout` when Ghostscript ran past its deadline (the engine's limit, not proof that
/// the file is beyond repair).
fn unrepaired(lopdf_failure: &MethodFailure, qpdf_failure: &MethodFailure, gs_failure: &MethodFailure) -> ToolError {
    let code =
        if matches!(gs_failure, MethodFailure::TimedOut(_)) { ErrorCode::EngineTimeout } else { ErrorCode::InvalidPdf };
    ToolError::new(
        code,
        format!(
            "the PDF could not be repaired: lopdf: {lopdf_failure}; qpdf: {qpdf_failure}; Ghostscript: {gs_failure}"
        ),
    )
}

/// What the damaged file holds, for deadlines: its size and the pages it declares (the page
/// tree may be unreadable; its page dictionaries are still counted). Image sizes are not read
/// from a damaged file: they earn no time.
pub fn workload(input: &Path) -> Workload {
    let bytes = std::fs::read(input).unwrap_or_default();
    Workload { pages: budget::declared_pages(&bytes), bytes: bytes.len() as u64, pixels: 0 }
}

/// Why one method gave no usable file.
#[derive(Debug, thiserror::Error)]
enum MethodFailure {
    #[error("{program} is not installed")]
    NotInstalled {
        program: &'static str,
        #[source]
        source: ProcessError,
    },
    #[error("{0}")]
    DidNotRun(#[source] ProcessError),
    /// Ghostscript ran past its deadline and was stopped.
    #[error("did not finish within {0:?}, the deadline of a file of this size and page count")]
    TimedOut(Duration),
    /// The program failed: its last line (see [`last_line`]), without the input's path.
    #[error("{0}")]
    Failed(String),
    #[error("Ghostscript recovered nothing but blank pages")]
    BlankPages,
    /// lopdf could not read or rewrite the file (the input, or a program's output).
    #[error("{}", .0.message)]
    Rewrite(#[source] ToolError),
    #[error("the rewritten file does not open ({})", .0.message)]
    Unreadable(#[source] ToolError),
    /// `qpdf --check` found errors or warnings: its last line.
    #[error("the rewritten file fails qpdf --check ({0})")]
    FailsCheck(String),
    #[error("qpdf --check did not run ({0})")]
    CheckDidNotRun(#[source] ProcessError),
}

/// Method 1, also the last step of method 2: load leniently, fix what is found, rewrite.
fn with_lopdf(input: &Path, out: &Path) -> Result<RepairReport, ToolError> {
    let mut problems = strict_parse_problem(input).into_iter().collect::<Vec<_>>();
    let mut doc = open_unguarded(input)?;
    problems.extend(load_findings(&doc));
    let declared_pages = declared_page_count(&doc);
    let wrong_lengths = wrong_stream_lengths(&doc);
    let prepared = prepare(&mut doc)?;
    if declared_pages != Some(i64::from(prepared.pages)) {
        problems.push(format!(
            "page tree rebuilt: it declares {} pages, {} were found",
            declared_pages.map_or("no count of".to_owned(), |n| n.to_string()),
            prepared.pages
        ));
    }
    if wrong_lengths > 0 {
        problems.push(format!("{wrong_lengths} stream lengths corrected"));
    }
    if prepared.dangling_references > 0 {
        problems.push(format!("{} references to missing objects replaced by null", prepared.dangling_references));
    }
    save_atomic(&mut doc, out)?;
    Ok(RepairReport { method: RepairMethod::Lopdf, pages: prepared.pages, problems })
}

/// Method 2: qpdf rewrites the file, then lopdf cleans its output up.
fn with_qpdf(input: &Path, out: &Path, scratch: &Path, workload: &Workload) -> Result<RepairReport, MethodFailure> {
    let rewritten = scratch.join("qpdf.pdf");
    let deadline = workload.deadline(QPDF_TIMEOUT);
    let run = Subprocess::new("qpdf")
        .arg(input)
        .arg(&rewritten)
        .allow_read(input)
        .allow_write(scratch)
        .timeout(deadline)
        .run_blocking();
    let output = run.map_err(|e| process_failure("qpdf", e))?;
    // qpdf exits 3 when it succeeded with warnings: the usual case for a damaged file.
    if !matches!(output.status.code(), Some(0 | 3)) {
        return Err(MethodFailure::Failed(scrub(&last_line(&output, "qpdf"), input)));
    }
    let warnings = qpdf_warnings(&output.stderr_tail, input);
    let mut report = guarded("repair", || with_lopdf(&rewritten, out)).map_err(MethodFailure::Rewrite)?;
    verify(out)?;
    report.method = RepairMethod::Qpdf;
    report.problems.splice(0..0, warnings);
    Ok(report)
}

/// Method 3: Ghostscript re-renders the document; the page count is compared with the one qpdf
/// reads, when it reads one.
fn with_ghostscript(
    input: &Path,
    out: &Path,
    scratch: &Path,
    workload: &Workload,
) -> Result<RepairReport, MethodFailure> {
    let rendered = scratch.join("gs.pdf");
    // `%` in an output name is a page-number template to Ghostscript; `%%` is a plain `%`.
    let mut output_arg = std::ffi::OsString::from("-sOutputFile=");
    match rendered.to_str() {
        Some(path) => output_arg.push(path.replace('%', "%%")),
        None => output_arg.push(&rendered),
    }
    let run = Subprocess::new("gs")
        .args(["-dSAFER", "-dBATCH", "-dNOPAUSE", "-dQUIET", "-sDEVICE=pdfwrite"])
        .arg(output_arg)
        .arg(input)
        .allow_read(input)
        .allow_write(scratch)
        .timeout(workload.deadline(GHOSTSCRIPT_TIMEOUT))
        .run_blocking();
    let output = run.map_err(|e| match e {
        ProcessError::Timeout { after, .. } => MethodFailure::TimedOut(after),
        other => process_failure("Ghostscript", other),
    })?;
    if !output.status.success() || !rendered.is_file() {
        return Err(MethodFailure::Failed(scrub(&last_line(&output, "Ghostscript"), input)));
    }
    // Ghostscript turns even an empty file into a blank page, with exit status 0.
    let painted = guarded("repair", || open_unguarded(&rendered).map(|doc| paints_anything(&doc)));
    if !painted.map_err(MethodFailure::Rewrite)? {
        return Err(MethodFailure::BlankPages);
    }
    let mut report = guarded("repair", || with_lopdf(&rendered, out)).map_err(MethodFailure::Rewrite)?;
    verify(out)?;
    report.method = RepairMethod::Ghostscript;
    report.problems = vec!["neither lopdf nor qpdf could read the file; Ghostscript re-rendered what it could".into()];
    match qpdf_page_count(input, workload.deadline(QPDF_TIMEOUT)) {
        Some(expected) if expected > report.pages => {
            report.problems.push(format!("only {} of the {expected} pages could be recovered", report.pages))
        }
        Some(0) => report.problems.push(format!("the page tree was unreadable; pages recovered: {}", report.pages)),
        _ => {}
    }
    Ok(report)
}

/// Whether any page draws something: strokes, fills, text, images or shadings.
fn paints_anything(doc: &Document) -> bool {
    const PAINTING: [&str; 16] =
        ["S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "Tj", "TJ", "'", "\"", "Do", "sh", "EI"];
    doc.page_iter().any(|page| {
        let content = doc.get_page_content(page);
        lopdf::content::Content::decode(&content)
            .map(|content| content.operations.iter().any(|op| PAINTING.contains(&op.operator.as_str())))
            .unwrap_or(true)
    })
}

/// Whether `out` opens with pages, and, when qpdf is installed, passes `qpdf --check`.
fn verify(out: &Path) -> Result<(), MethodFailure> {
    open_unguarded(out).map_err(MethodFailure::Unreadable)?;
    match Subprocess::new("qpdf").arg("--check").arg(out).allow_read(out).timeout(QPDF_TIMEOUT).run_blocking() {
        Ok(check) if check.status.code() == Some(0) => Ok(()),
        Ok(check) => Err(MethodFailure::FailsCheck(last_line(&check, "qpdf"))),
        Err(e) if not_installed(&e) => Ok(()),
        Err(e) => Err(MethodFailure::CheckDidNotRun(e)),
    }
}

/// The page count qpdf reads, if it reads the file at all.
fn qpdf_page_count(input: &Path, deadline: Duration) -> Option<u32> {
    let output = Subprocess::new("qpdf")
        .arg("--show-npages")
        .arg(input)
        .allow_read(input)
        .timeout(deadline)
        .run_blocking()
        .ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok().filter(|_| matches!(output.status.code(), Some(0 | 3)))
}

/// How strict parsing fails, as a finding: what lenient parsing had to tolerate.
fn strict_parse_problem(input: &Path) -> Option<String> {
    let bytes = std::fs::read(input).ok()?;
    let strict = LoadOptions { strict: true, ..LoadOptions::default() };
    match Document::load_mem_with_options(&bytes, strict) {
        Ok(_) => None,
        Err(lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_)) => None,
        Err(e) => Some(format!("the file does not follow the PDF syntax ({e})")),
    }
}

fn load_findings(doc: &Document) -> Vec<String> {
    let mut findings = Vec::new();
    match doc.xref_recovery {
        Some(XrefRecovery::Reconstructed) => {
            findings.push("xref table rebuilt by scanning the file for objects".into())
        }
        Some(XrefRecovery::OffsetCorrected) => {
            findings.push("xref offsets pointed to the wrong place and were corrected".into())
        }
        _ => {}
    }
    if doc.was_encrypted() {
        findings.push("the input was encrypted with permissions only; the output is not encrypted".into());
    }
    findings
}

/// The `/Count` the root of the page tree declares.
fn declared_page_count(doc: &Document) -> Option<i64> {
    let root = doc.catalog().ok()?.get(b"Pages").ok()?.as_reference().ok()?;
    doc.get_dictionary(root).ok()?.get(b"Count").ok()?.as_i64().ok()
}

/// Streams whose `/Length` is missing or differs from the data they hold.
fn wrong_stream_lengths(doc: &Document) -> usize {
    doc.objects
        .values()
        .filter_map(|object| object.as_stream().ok())
        .filter(|stream| {
            let declared = match stream.dict.get(b"Length") {
                Ok(Object::Reference(id)) => doc.objects.get(id).and_then(|o| o.as_i64().ok()),
                Ok(direct) => direct.as_i64().ok(),
                Err(_) => None,
            };
            declared != Some(stream.content.len() as i64)
        })
        .count()
}

/// `text` without the input's path (a storage path, meaningless to the user).
fn scrub(text: &str, input: &Path) -> String {
    let name = input.display().to_string();
    text.replace(&format!("{name}: "), "").replace(&name, "the file")
}

/// qpdf's warnings, without the file name, each once, at most [`MAX_WARNINGS`] of them.
fn qpdf_warnings(stderr: &str, input: &Path) -> Vec<String> {
    let mut warnings: Vec<String> = Vec::new();
    let mut more = 0;
    for line in stderr.lines().filter_map(|l| l.strip_prefix("WARNING: ")) {
        let line = format!("qpdf: {}", scrub(line, input).trim());
        if warnings.contains(&line) {
            continue;
        }
        if warnings.len() < MAX_WARNINGS {
            warnings.push(line);
        } else {
            more += 1;
        }
    }
    if more > 0 {
        warnings.push(format!("qpdf: … and {more} more warnings"));
    }
    warnings
}

fn process_failure(program: &'static str, error: ProcessError) -> MethodFailure {
    if not_installed(&error) {
        MethodFailure::NotInstalled { program, source: error }
    } else {
        MethodFailure::DidNotRun(error)
    }
}

fn not_installed(error: &ProcessError) -> bool {
    matches!(error, ProcessError::Spawn { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

/// The last line a failed program wrote, as its reason.
fn last_line(output: &ProcessOutput, program: &str) -> String {
    let said = output.stderr_tail.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    match output.status.code() {
        Some(code) if said.is_empty() => format!("{program} exited with status {code}"),
        Some(code) => format!("{program} exited with status {code}: {said}"),
        None => format!("{program} was stopped by a signal"),
    }
}

#[cfg(test)]
/// Tests that need the corpus, qpdf and Ghostscript.
mod with_engines {
    use super::*;
    use scanpro_testkit::corpus::corpus;

    /// The corpus has no file that lopdf cannot read and qpdf can, so the qpdf method is run on
    /// its own here.
    #[test]
    fn qpdf_method_rewrites_and_summarises_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let input = corpus("pdf-broken/pdfjs_xref_command_missing.pdf");
        let out = dir.path().join("fixed.pdf");
        let report = with_qpdf(&input, &out, dir.path(), &workload(&input)).unwrap();
        assert_eq!(report.method, RepairMethod::Qpdf);
        assert_eq!(report.pages, 1);
        let warnings: Vec<&String> = report.problems.iter().filter(|p| p.starts_with("qpdf: ")).collect();
        assert!(warnings.iter().any(|w| w.contains("xref not found")), "{:?}", report.problems);
        assert!(warnings.iter().all(|w| !w.contains(&*input.to_string_lossy())), "paths are scrubbed: {warnings:?}");
        verify(&out).unwrap();
    }

    /// The corpus has no file that neither lopdf nor qpdf reads and Ghostscript loops on, so
    /// the Ghostscript method is run on its own on one it loops on.
    #[test]
    fn a_tiny_file_ghostscript_loops_on_fails_within_the_deadline_it_earns() {
        // A Type 3 font that draws itself: Ghostscript runs until it is killed.
        let input = corpus("pdf-broken/pdfjs_ContentStreamCycleType3insideType3.pdf");
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fixed.pdf");

        let earned = workload(&input);
        assert_eq!((earned.pages, earned.bytes), (1, std::fs::metadata(&input).unwrap().len()));
        let deadline = earned.deadline(GHOSTSCRIPT_TIMEOUT);
        // One page and 2 KB earn the floor and one page, not the 180 s ceiling.
        assert!(deadline <= budget::BASE + budget::PER_PAGE + budget::PER_MEGABYTE / 100, "{deadline:?}");
        let Err(failure) = with_ghostscript(&input, &out, dir.path(), &earned) else { panic!("Ghostscript finished") };
        assert!(matches!(failure, MethodFailure::TimedOut(_)), "{failure}");
        assert!(failure.to_string().contains(&format!("did not finish within {deadline:?}")), "{failure}");
        let (lopdf, qpdf) = (MethodFailure::Failed("lopdf failed".into()), MethodFailure::Failed("qpdf failed".into()));
        let err = unrepaired(&lopdf, &qpdf, &failure);
        assert_eq!(err.code, ErrorCode::EngineTimeout, "{err}");
        assert!(err.message.contains(&format!("Ghostscript: did not finish within {deadline:?}")), "{err}");
        assert!(!out.exists());
    }

    #[test]
    fn blank_renderings_are_recognised() {
        let drawn = open_unguarded(&corpus("pdf-text/lscape.pdf")).unwrap();
        assert!(paints_anything(&drawn));
        let mut blank = Document::with_version("1.4");
        let pages = blank.new_object_id();
        let content =
            blank.add_object(lopdf::Stream::new(lopdf::Dictionary::new(), b"q 0.1 0 0 0.1 0 0 cm\nQ\n".to_vec()));
        let page = blank.add_object(lopdf::dictionary! { "Type" => "Page", "Parent" => pages, "Contents" => content });
        blank.objects.insert(
            pages,
            Object::Dictionary(lopdf::dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
        );
        let catalog = blank.add_object(lopdf::dictionary! { "Type" => "Catalog", "Pages" => pages });
        blank.trailer.set("Root", catalog);
        assert!(!paints_anything(&blank));
    }

    #[test]
    fn warnings_are_deduplicated_and_bounded() {
        let input = Path::new("/data/blobs/ab/cd");
        let stderr: String = (0..15)
            .map(|i| {
                format!("WARNING: /data/blobs/ab/cd (offset {i}): bad\nWARNING: /data/blobs/ab/cd: file is damaged\n")
            })
            .collect();
        let warnings = qpdf_warnings(&stderr, input);
        assert_eq!(warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(warnings[0], "qpdf: the file (offset 0): bad");
        assert_eq!(warnings[1], "qpdf: file is damaged");
        assert_eq!(warnings[MAX_WARNINGS], "qpdf: … and 6 more warnings");
    }
}
