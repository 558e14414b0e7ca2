//! The languages Tesseract has installed (cached per `tesseract` program), the check of a
//! request against them, and the readiness report of the whole engine.

use super::{OcrConfig, OcrError};
use scanpro_core::ToolError;
use scanpro_process::Subprocess;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ASK_TIMEOUT: Duration = Duration::from_secs(30);
/// Tesseract's orientation and script detection data: needed by `rotate_pages`, not a language.
const ORIENTATION_DATA: &str = "osd";

/// What Tesseract has installed: the names of its traineddata files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tessdata(Arc<[String]>);

impl Tessdata {
    /// The languages a document may be written in (everything but the orientation data).
    pub(crate) fn languages(&self) -> Vec<String> {
        self.0.iter().filter(|name| *name != ORIENTATION_DATA).cloned().collect()
    }

    pub(crate) fn has_orientation_data(&self) -> bool {
        self.0.iter().any(|name| name == ORIENTATION_DATA)
    }

    /// Refuses a language that is not installed, naming the installed ones.
    pub(crate) fn check(&self, requested: &[String]) -> Result<(), OcrError> {
        let installed = self.languages();
        match requested.iter().find(|language| !installed.contains(language)) {
            None => Ok(()),
            Some(missing) => Err(OcrError::invalid(
                "languages",
                format!("{missing:?} is not installed; installed languages: {}", installed.join(", ")),
            )),
        }
    }
}

static CACHE: Mutex<BTreeMap<PathBuf, Tessdata>> = Mutex::new(BTreeMap::new());

/// The installed traineddata of `config.tesseract`, asked once per process.
pub(crate) async fn tessdata(config: &OcrConfig) -> Result<Tessdata, OcrError> {
    if let Some(known) = CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&config.tesseract) {
        return Ok(known.clone());
    }
    let out = Subprocess::new(&config.tesseract).arg("--list-langs").timeout(ASK_TIMEOUT).run().await?;
    if !out.status.success() {
        return Err(OcrError::Unavailable(format!("tesseract --list-langs failed: {}", out.stderr_tail.trim())));
    }
    // The first line says where the data is; one name per line follows.
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip_while(|line| !line.starts_with("List of available languages"))
        .skip(1)
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    let found = Tessdata(names.into());
    if found.languages().is_empty() {
        return Err(OcrError::Unavailable("Tesseract has no language installed (install tesseract-ocr-eng)".into()));
    }
    CACHE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(config.tesseract.clone(), found.clone());
    Ok(found)
}

/// The languages OCR can be asked for, sorted (e.g. `deu, eng, fra`): what the `ocr` tool's
/// schema offers. Asked of Tesseract once per process.
pub async fn installed_languages(config: &OcrConfig) -> Result<Vec<String>, ToolError> {
    Ok(tessdata(config).await?.languages())
}

/// [`installed_languages`] for synchronous callers.
pub fn installed_languages_blocking(config: &OcrConfig) -> Result<Vec<String>, ToolError> {
    let config = config.clone();
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(OcrError::from)?;
                runtime.block_on(installed_languages(&config))
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// What the OCR engine runs on, for readiness reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OcrEngineInfo {
    pub ocrmypdf_version: String,
    pub tesseract_version: String,
    pub languages: Vec<String>,
}

/// Checks that OCRmyPDF, Tesseract with a language, and the helpers (`qpdf`, `pdfinfo`,
/// `pdftotext`) are there and start. The error (code `unavailable`) says what is missing.
pub async fn available(config: &OcrConfig) -> Result<OcrEngineInfo, ToolError> {
    let ocrmypdf_version = first_line_of(config.ocrmypdf.clone(), "--version").await?;
    let tesseract_version = first_line_of(config.tesseract.clone(), "--version").await?;
    let languages = installed_languages(config).await?;
    for (helper, flag) in [("qpdf", "--version"), ("pdfinfo", "-v"), ("pdftotext", "-v")] {
        first_line_of(helper.into(), flag).await?;
    }
    Ok(OcrEngineInfo { ocrmypdf_version, tesseract_version, languages })
}

/// The first line `program flag` prints (poppler prints its version on stderr), or why it failed.
async fn first_line_of(program: PathBuf, flag: &str) -> Result<String, OcrError> {
    let name = program.display().to_string();
    let out = Subprocess::new(program).arg(flag).timeout(ASK_TIMEOUT).run().await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let text = if stdout.trim().is_empty() { out.stderr_tail.as_str() } else { &stdout };
    match text.lines().map(str::trim).find(|line| !line.is_empty()) {
        Some(line) if out.status.success() => Ok(line.to_owned()),
        _ => Err(OcrError::Unavailable(format!("{name} {flag} failed ({}): {}", out.status, out.stderr_tail.trim()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_languages_are_named_with_the_installed_ones() {
        let tessdata = Tessdata(["deu", "eng", "osd"].map(String::from).into());
        assert_eq!(tessdata.languages(), ["deu", "eng"]);
        assert!(tessdata.has_orientation_data());
        assert!(tessdata.check(&["eng".into(), "deu".into()]).is_ok());
        let err = tessdata.check(&["eng".into(), "osd".into()]).unwrap_err();
        assert_eq!(err.to_string(), "languages: \"osd\" is not installed; installed languages: deu, eng");
    }
}
