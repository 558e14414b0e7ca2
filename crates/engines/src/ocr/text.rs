//! `pdf_to_text`: the text layer of born-digital PDFs, by poppler's `pdftotext`; also how OCR
//! reads back the text of pages it left alone and checks its own output.

use super::OcrError;
use super::inspect::{self, Encryption, HELPER_LIMITS, InputFormat};
use scanpro_core::ToolError;
use scanpro_core::params::{PdfToTextParams, Validate, page_selection};
use scanpro_process::Subprocess;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

/// What `pdf_to_text` extracted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TextReport {
    /// Pages extracted.
    pub pages: u32,
    /// Characters of text, whitespace not counted.
    pub characters: u64,
    /// Pages (1-based, as in the document) without any text: likely scans, which need `ocr`.
    pub pages_without_text: Vec<u32>,
}

/// Writes the text of the selected pages of `input` to `output` as UTF-8, each page followed by
/// a form feed.
pub async fn pdf_to_text(input: &Path, output: &Path, params: &PdfToTextParams) -> Result<TextReport, ToolError> {
    params.validate()?;
    let input = std::path::absolute(input).map_err(OcrError::from)?;
    match inspect::sniff(&input) {
        Ok(InputFormat::Pdf) => {}
        Ok(_) => {
            return Err(OcrError::UnsupportedFormat(
                "the input is an image, which has no text layer: use the ocr tool to recognise its text".into(),
            )
            .into());
        }
        Err(_) => return Err(OcrError::UnsupportedFormat("the input is not a PDF".into()).into()),
    }
    if inspect::encryption(&input).await? == Encryption::Password {
        return Err(OcrError::EncryptedInput("the PDF needs a password to open; unlock it first".into()).into());
    }
    let page_count = inspect::pdf_pages(&input).await?;
    let selected = page_selection("pages", params.pages.as_deref())?
        .resolve(page_count)
        .map_err(|e| ToolError::invalid_param("pages", e))?;
    let mut text = String::new();
    let mut pages_without_text = Vec::new();
    for (first, last) in runs(&selected) {
        let pages = extract(&input, first, last, params.layout).await?;
        for (page, page_text) in (first..=last).zip(pages) {
            if page_text.trim().is_empty() {
                pages_without_text.push(page);
            }
            text.push_str(&page_text);
            text.push('\u{c}');
        }
    }
    std::fs::write(output, &text).map_err(OcrError::from)?;
    // Distinct pages of the document: no more than its u32 page count.
    let pages = u32::try_from(selected.len()).unwrap_or(u32::MAX);
    Ok(TextReport { pages, characters: visible_characters(&text), pages_without_text })
}

/// Consecutive ascending pages as `(first, last)` runs, in the order given: one `pdftotext` each.
fn runs(pages: &[u32]) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &page in pages {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == page => *last = page,
            _ => runs.push((page, page)),
        }
    }
    runs
}

/// The text of pages `first..=last`, one string per page.
pub(crate) async fn extract(pdf: &Path, first: u32, last: u32, layout: bool) -> Result<Vec<String>, OcrError> {
    let pages = last - first + 1;
    let timeout = (Duration::from_secs(30) + Duration::from_millis(500) * pages).min(Duration::from_secs(1800));
    let out = Subprocess::new("pdftotext")
        .args(["-enc", "UTF-8", "-eol", "unix"])
        .args(layout.then_some("-layout"))
        .arg("-f")
        .arg(first.to_string())
        .arg("-l")
        .arg(last.to_string())
        .arg(pdf)
        .arg("-")
        .allow_read(pdf)
        .timeout(timeout)
        .limits(HELPER_LIMITS)
        .run()
        .await?;
    if !out.status.success() {
        tracing::warn!(stderr = %out.stderr_tail, status = ?out.status, "pdftotext failed");
        return Err(OcrError::InvalidPdf("the text of the PDF could not be read (the file is damaged)".into()));
    }
    // pdftotext ends every page with a form feed.
    let text = String::from_utf8_lossy(&out.stdout);
    let mut texts: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    texts.truncate(pages as usize);
    texts.resize(pages as usize, String::new());
    Ok(texts)
}

/// Characters other than whitespace: what tells "has text" from "blank".
pub(crate) fn visible_characters(text: &str) -> u64 {
    text.chars().filter(|c| !c.is_whitespace()).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_group_into_ascending_runs() {
        assert_eq!(runs(&[1, 2, 3, 5, 6, 4, 9]), [(1, 3), (5, 6), (4, 4), (9, 9)]);
        assert_eq!(runs(&[3, 2, 1]), [(3, 3), (2, 2), (1, 1)]);
        assert!(runs(&[]).is_empty());
    }
}
