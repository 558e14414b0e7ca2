//! A document's words with their boxes, as poppler's `pdftotext -bbox` reads them: what
//! `compare` diffs and `redact` searches.

use scanpro_core::{ErrorCode, ToolError};
use scanpro_process::{Limits, Subprocess};
use std::path::Path;
use std::time::Duration;

const POPPLER_READER_TIMEOUT: Duration = Duration::from_secs(300);
/// A poppler reader's address space: room for a long document's words.
const POPPLER_READER_MEMORY: u64 = 2 * 1024 * 1024 * 1024;

/// What a poppler text reader (pdftotext, pdftohtml) may take of a whole document: time, and an
/// address space with room for a long document's words.
pub(crate) fn poppler_reader(program: &str) -> Subprocess {
    Subprocess::new(program).timeout(POPPLER_READER_TIMEOUT).limits(Limits {
        memory_bytes: Some(POPPLER_READER_MEMORY),
        cpu_seconds: Some(POPPLER_READER_TIMEOUT.as_secs()),
        file_bytes: None,
    })
}

/// Words read at most per document.
pub const MAX_WORDS: usize = 2_000_000;

/// A word and where it is: its page (0-based) and box in points from the displayed page's
/// bottom left, `[left, bottom, right, top]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    pub(crate) text: String,
    pub(crate) page: usize,
    pub(crate) rect: [f64; 4],
}

/// A document's words, as pdftotext reads them.
pub(crate) struct TextLayer {
    pub(crate) pages: usize,
    pub(crate) words: Vec<Word>,
}

/// Every word of `pdf`.
pub(crate) fn words(pdf: &Path) -> Result<TextLayer, ToolError> {
    crate::open::open(pdf)?;
    let absolute = std::path::absolute(pdf).map_err(|e| ToolError::internal(format!("{}: {e}", pdf.display())))?;
    let output = poppler_reader("pdftotext")
        // Boxes measured on the crop box, the page as displayed (poppler's default is the media box).
        .args(["-bbox", "-cropbox", "-enc", "UTF-8", "-q"])
        .arg(&absolute)
        .arg("-")
        .allow_read(&absolute)
        .run_blocking()
        .map_err(|e| ToolError::internal(format!("pdftotext: {e}")))?;
    if !output.status.success() {
        let why = output.stderr_tail.lines().last().unwrap_or("unreadable").to_owned();
        return Err(ToolError::new(ErrorCode::InvalidPdf, format!("the PDF's text cannot be read: {why}")));
    }
    parse_bbox(&String::from_utf8_lossy(&output.stdout))
}

/// Reads pdftotext's `-bbox` XHTML: `<page width=… height=…>` and `<word xMin=… yMin=… xMax=…
/// yMax=…>text</word>`, boxes measured from the top left.
fn parse_bbox(xhtml: &str) -> Result<TextLayer, ToolError> {
    let mut heights: Vec<f64> = Vec::new();
    let mut words = Vec::new();
    for tag in xhtml.split('<').skip(1) {
        let attribute = |name: &str| -> f64 {
            tag.split(&format!("{name}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0.0)
        };
        if tag.starts_with("page ") {
            heights.push(attribute("height"));
        } else if tag.starts_with("word ") {
            let Some(&height) = heights.last() else { continue };
            let text = unescape(tag.split_once('>').map_or("", |(_, text)| text));
            let (x0, top, x1, bottom) = (attribute("xMin"), attribute("yMin"), attribute("xMax"), attribute("yMax"));
            words.push(Word { text, page: heights.len() - 1, rect: [x0, height - bottom, x1, height - top] });
            if words.len() > MAX_WORDS {
                return Err(ToolError::new(
                    ErrorCode::ResourceLimit,
                    format!("more than {MAX_WORDS} words to compare"),
                ));
            }
        }
    }
    Ok(TextLayer { pages: heights.len(), words })
}

/// Poppler's XML escapes undone (pdftotext's `-bbox` and pdftohtml's `-xml` output).
pub(crate) fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}
