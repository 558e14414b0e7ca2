//! One OCR request from input to checked output.

use super::command::{PLUGIN_SOURCE, PluginLine, Target, ocrmypdf_args};
use super::inspect::{self, Encryption, InputFormat};
use super::languages::tessdata;
use super::text::{extract, visible_characters};
use super::{OcrConfig, OcrError};
use scanpro_core::ToolError;
use scanpro_core::params::{OcrOutput, OcrParams, Validate};
use scanpro_process::progress::ProgressFn;
use scanpro_process::sandbox::{self, Grants};
use scanpro_process::{Limits, ProcessOutput, Subprocess};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What an OCR run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OcrReport {
    /// What the input was.
    pub input: InputFormat,
    /// Pages of the document (and of the output).
    pub pages: u32,
    /// Pages whose text Tesseract recognised.
    pub pages_ocred: u32,
    /// Pages left as they were: they had text already (`skip_text`), or only vector graphics.
    pub pages_skipped: u32,
    pub languages: Vec<String>,
    pub output: OcrOutput,
    /// Characters of text in the output, whitespace not counted; 0 when nothing was recognised
    /// (a blank page, a photo, or the wrong language).
    pub characters: u64,
}

/// Recognises the text of `input` (a PDF, or a PNG, JPEG or TIFF image) and writes what
/// `params.output` asks to `output`: a searchable PDF, a PDF/A, or plain text (give `output` the
/// extension of [`OcrOutput::extension`]). `progress` is called as pages finish.
///
/// Dropping the future stops the run: OCRmyPDF and every Tesseract it started are killed.
pub async fn ocr(
    config: &OcrConfig,
    input: &Path,
    output: &Path,
    params: &OcrParams,
    progress: ProgressFn,
) -> Result<OcrReport, ToolError> {
    let output_dir = output.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let grants = Grants::ambient().read(input).write(output_dir);
    sandbox::scope(grants, recognise(config, input, output, params, progress)).await
}

async fn recognise(
    config: &OcrConfig,
    input: &Path,
    output: &Path,
    params: &OcrParams,
    progress: ProgressFn,
) -> Result<OcrReport, ToolError> {
    params.validate()?;
    let tessdata = tessdata(config).await?;
    tessdata.check(&params.languages)?;
    if params.rotate_pages && !tessdata.has_orientation_data() {
        return Err(OcrError::invalid(
            "rotate_pages",
            "needs Tesseract's orientation data (osd), which is not installed on this server",
        )
        .into());
    }
    let input = std::path::absolute(input).map_err(OcrError::from)?;
    let format = inspect::sniff(&input)?;
    let pages = match format {
        InputFormat::Pdf => {
            // OCRmyPDF refuses every encrypted PDF, even one that opens without a password.
            if inspect::encryption(&input).await? != Encryption::None {
                return Err(OcrError::EncryptedInput(
                    "the PDF is encrypted; remove its password or restrictions first with the unlock tool".into(),
                )
                .into());
            }
            inspect::pdf_pages(&input).await?
        }
        image => inspect::image_pages(&input, image)?,
    };
    let run = Run::prepare(config, &input, format, pages)?;
    // OCRmyPDF and its helpers work in the run's directory, beside the step's own files.
    let grants = Grants::ambient().read(&input).write(run.dir.path());
    Ok(sandbox::scope(grants, run.execute(output, params, progress)).await?)
}

/// A run's private directory: the plugin, a link to the input, OCRmyPDF's output. Removed when
/// the run ends, however it ends.
struct Run<'a> {
    config: &'a OcrConfig,
    dir: tempfile::TempDir,
    input: PathBuf,
    format: InputFormat,
    pages: u32,
}

impl<'a> Run<'a> {
    fn prepare(config: &'a OcrConfig, input: &Path, format: InputFormat, pages: u32) -> Result<Self, OcrError> {
        let dir = tempfile::Builder::new().prefix("scanpro-ocr-").tempdir_in(&config.work_dir)?;
        std::fs::write(dir.path().join("scanpro_plugin.py"), PLUGIN_SOURCE)?;
        // OCRmyPDF sees only names we made (a user's file name could look like an option).
        let link = dir.path().join(format!("input.{}", format.extension()));
        std::os::unix::fs::symlink(input, &link)?;
        Ok(Self { config, dir, input: link, format, pages })
    }

    async fn execute(self, output: &Path, params: &OcrParams, progress: ProgressFn) -> Result<OcrReport, OcrError> {
        let result = self.dir.path().join(format!("result.{}", params.output.extension()));
        let target = match params.output {
            OcrOutput::Pdf => Target::Pdf(&result),
            OcrOutput::Pdfa => Target::Pdfa(&result),
            OcrOutput::Text => Target::Sidecar(&result),
        };
        let plugin = self.dir.path().join("scanpro_plugin.py");
        let told = Arc::new(Mutex::new(Told::default()));
        let listener = told.clone();
        let timeout = self.config.timeout_for(self.pages);
        let out = Subprocess::new(&self.config.ocrmypdf)
            .args(ocrmypdf_args(params, self.config.jobs, &plugin, &self.input, target))
            // Parallel pages, one Tesseract thread each: threads on top of pages slow it down.
            .env("OMP_THREAD_LIMIT", "1")
            .timeout(timeout)
            .limits(Limits { memory_bytes: self.config.memory_limit_bytes, ..Limits::default() })
            .on_stderr_line(move |line| match PluginLine::parse(line) {
                Some(PluginLine::Progress(pages)) => progress(pages),
                Some(line) => listener.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).note(line),
                None => {}
            })
            .run()
            .await?;
        let Told { ocred, exception } = std::mem::take(&mut *told.lock().unwrap_or_else(|p| p.into_inner()));
        self.check_exit(&out, exception.as_deref())?;
        let characters = match params.output {
            OcrOutput::Pdf | OcrOutput::Pdfa => self.check_pdf(&result, params.output).await?,
            OcrOutput::Text => self.complete_text(&result, &ocred).await?,
        };
        if characters == 0 {
            tracing::info!(pages = self.pages, "OCR recognised no text");
        }
        move_file(&result, output)?;
        let pages_ocred = u32::try_from(ocred.len()).unwrap_or(u32::MAX);
        Ok(OcrReport {
            input: self.format,
            pages: self.pages,
            pages_ocred,
            pages_skipped: self.pages.saturating_sub(pages_ocred),
            languages: params.languages.clone(),
            output: params.output,
            characters,
        })
    }

    /// OCRmyPDF's exit status as an error (its codes are `ocrmypdf.exceptions.ExitCode`), with
    /// the type of the exception it logged when it has no code of its own.
    fn check_exit(&self, out: &ProcessOutput, exception: Option<&str>) -> Result<(), OcrError> {
        let code = out.status.code();
        if code == Some(0) {
            return Ok(());
        }
        tracing::warn!(status = ?out.status, exception, stderr = %out.stderr_tail, "ocrmypdf failed");
        Err(match (code, exception) {
            (_, Some("DecompressionBombError")) => {
                OcrError::ResourceLimit("a page holds an image too large to OCR (over 500 megapixels)".into())
            }
            (_, Some("MemoryError")) => OcrError::ResourceLimit("OCR ran out of memory on this document".into()),
            (code, _) => self.exit_error(code, out),
        })
    }

    fn exit_error(&self, code: Option<i32>, out: &ProcessOutput) -> OcrError {
        match code {
            Some(2) if self.format.is_image() => OcrError::UnsupportedFormat(
                "the image could not be prepared for OCR (images with transparency or an unusual encoding are \
                 refused); convert it to PDF first with images_to_pdf"
                    .into(),
            ),
            Some(2) => OcrError::InvalidPdf(
                "the PDF could not be read for OCR: it is damaged or truncated (try the repair tool)".into(),
            ),
            Some(3) => OcrError::Unavailable("a program OCRmyPDF needs is missing; run scripts/install-deps".into()),
            // Only without a mode flag, and one is always given.
            Some(6) => OcrError::invalid("mode", "the document already has text; choose skip_text, force or redo"),
            Some(8) => OcrError::EncryptedInput(
                "the PDF is encrypted; remove its password or restrictions first with the unlock tool".into(),
            ),
            Some(10) => OcrError::Failed("the OCRed document could not be made PDF/A; ask for output \"pdf\"".into()),
            Some(code) => OcrError::Failed(format!("OCRmyPDF failed (exit status {code})")),
            None => OcrError::Failed(format!("OCRmyPDF was killed by signal {}", out.signal().unwrap_or_default())),
        }
    }

    /// The searchable PDF has the input's pages (and a PDF/A identification when asked);
    /// returns its characters of text.
    async fn check_pdf(&self, pdf: &Path, output: OcrOutput) -> Result<u64, OcrError> {
        let pages = inspect::pdf_pages(pdf).await.map_err(|e| OcrError::Failed(format!("OCRmyPDF's output: {e}")))?;
        if pages != self.pages {
            return Err(OcrError::Failed(format!("OCRmyPDF's output has {pages} pages instead of {}", self.pages)));
        }
        if output == OcrOutput::Pdfa && !inspect::claims_pdfa(pdf).await? {
            return Err(OcrError::Failed("OCRmyPDF's output does not identify itself as PDF/A".into()));
        }
        let text = extract(pdf, 1, pages, false).await?;
        Ok(text.iter().map(|page| visible_characters(page)).sum())
    }

    /// Rewrites the sidecar as the text of every page: Tesseract's for the pages it OCRed, the
    /// input's own for the others (the sidecar holds one placeholder for each run of those).
    /// Returns its characters of text.
    async fn complete_text(&self, sidecar: &Path, ocred: &BTreeSet<u32>) -> Result<u64, OcrError> {
        let recognised = std::fs::read_to_string(sidecar)?;
        let mut segments = recognised.split('\u{c}');
        let mut text = String::new();
        let mut page = 1;
        let mismatch = || OcrError::Failed("OCRmyPDF's text does not match the document's pages".into());
        while page <= self.pages {
            if ocred.contains(&page) {
                text.push_str(segments.next().ok_or_else(mismatch)?);
                text.push('\u{c}');
                page += 1;
                continue;
            }
            segments.next().ok_or_else(mismatch)?;
            let first = page;
            while page <= self.pages && !ocred.contains(&page) {
                page += 1;
            }
            for existing in extract(&self.input, first, page - 1, false).await? {
                text.push_str(&existing);
                text.push('\u{c}');
            }
        }
        if segments.next().is_some() {
            return Err(mismatch());
        }
        std::fs::write(sidecar, &text)?;
        Ok(visible_characters(&text))
    }
}

/// What the plugin told about a run, besides progress.
#[derive(Debug, Default)]
struct Told {
    /// Pages handed to Tesseract.
    ocred: BTreeSet<u32>,
    /// The last exception OCRmyPDF logged.
    exception: Option<String>,
}

impl Told {
    fn note(&mut self, line: PluginLine<'_>) {
        match line {
            PluginLine::PageOcr(page) => {
                self.ocred.insert(page);
            }
            PluginLine::Exception(name) => self.exception = Some(name.to_owned()),
            PluginLine::Progress(_) => {}
        }
    }
}

/// Renames `from` to `to`, copying across file systems.
fn move_file(from: &Path, to: &Path) -> Result<(), OcrError> {
    if std::fs::rename(from, to).is_err() {
        std::fs::copy(from, to)?;
    }
    Ok(())
}
