//! Comparing two PDFs by their text. poppler's `pdftotext -bbox` gives every word with its box;
//! the two documents' words are diffed as one sequence each (text that moves to the next page
//! is no change), and the changes are reported with their pages and drawn: each sheet shows an
//! old page beside the new page of the same number, deleted words marked red, inserted words
//! green.

use crate::impose::{Cell, Highlight, Sheet, Slot, impose};
use crate::merge::merge;
use scanpro_core::{ErrorCode, ToolError};
use scanpro_process::{Limits, Subprocess};
use serde::Serialize;
use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::path::{Path, PathBuf};
use std::time::Duration;

const PDFTOTEXT_TIMEOUT: Duration = Duration::from_secs(300);
/// pdftotext's address space: room for a long document's words.
const PDFTOTEXT_MEMORY: u64 = 2 * 1024 * 1024 * 1024;
/// Words compared at most per document: beyond this the diff's time is not bounded usefully.
pub const MAX_WORDS: usize = 2_000_000;
/// Changes listed in the report at most; the counts cover them all.
const MAX_LISTED_CHANGES: usize = 10_000;
const RED: [f64; 3] = [1.0, 0.35, 0.35];
const GREEN: [f64; 3] = [0.35, 0.9, 0.35];

/// A word and where it is: its page (0-based) and box in points from the displayed page's
/// bottom left.
#[derive(Debug, Clone, PartialEq)]
struct Word {
    text: String,
    page: usize,
    rect: [f64; 4],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Deleted,
    Inserted,
    Replaced,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// The first old page the change touches (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_page: Option<u32>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub old_text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub new_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompareReport {
    pub old_pages: u32,
    pub new_pages: u32,
    pub identical: bool,
    pub words_deleted: u64,
    pub words_inserted: u64,
    /// Each change, in reading order (the first 10,000).
    pub changes: Vec<Change>,
}

/// Compares `old` with `new`; writes the sheets showing the changes to `out`.
pub fn compare(old: &Path, new: &Path, out: &Path) -> Result<CompareReport, ToolError> {
    let TextLayer { pages: old_pages, words: old_words } = words(old)?;
    let TextLayer { pages: new_pages, words: new_words } = words(new)?;
    let old_texts: Vec<&str> = old_words.iter().map(|w| w.text.as_str()).collect();
    let new_texts: Vec<&str> = new_words.iter().map(|w| w.text.as_str()).collect();
    let ops = capture_diff_slices(Algorithm::Myers, &old_texts, &new_texts);
    let mut report = CompareReport {
        old_pages: count(old_pages),
        new_pages: count(new_pages),
        identical: true,
        words_deleted: 0,
        words_inserted: 0,
        changes: Vec::new(),
    };
    let mut old_marks: Vec<Vec<Highlight>> = vec![Vec::new(); old_pages];
    let mut new_marks: Vec<Vec<Highlight>> = vec![Vec::new(); new_pages];
    for op in ops {
        let (deleted, inserted, kind) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete { old_index, old_len, .. } => (old_index..old_index + old_len, 0..0, ChangeKind::Deleted),
            DiffOp::Insert { new_index, new_len, .. } => (0..0, new_index..new_index + new_len, ChangeKind::Inserted),
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                (old_index..old_index + old_len, new_index..new_index + new_len, ChangeKind::Replaced)
            }
        };
        report.identical = false;
        report.words_deleted += deleted.len() as u64;
        report.words_inserted += inserted.len() as u64;
        for word in &old_words[deleted.clone()] {
            old_marks[word.page].push(Highlight { rect: word.rect, rgb: RED });
        }
        for word in &new_words[inserted.clone()] {
            new_marks[word.page].push(Highlight { rect: word.rect, rgb: GREEN });
        }
        if report.changes.len() < MAX_LISTED_CHANGES {
            let text = |words: &[Word]| words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            let page = |words: &[Word]| words.first().map(|w| count(w.page + 1));
            report.changes.push(Change {
                kind,
                old_page: page(&old_words[deleted.clone()]),
                new_page: page(&new_words[inserted.clone()]),
                old_text: text(&old_words[deleted]),
                new_text: text(&new_words[inserted]),
            });
        }
    }
    side_by_side(old, new, old_marks, new_marks, out)?;
    Ok(report)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Old page n beside new page n on each sheet (a missing one leaves its half empty).
fn side_by_side(
    old: &Path,
    new: &Path,
    mut old_marks: Vec<Vec<Highlight>>,
    mut new_marks: Vec<Vec<Highlight>>,
    out: &Path,
) -> Result<(), ToolError> {
    let both = out.with_extension("both.pdf");
    let inputs: [PathBuf; 2] = [old.to_owned(), new.to_owned()];
    let merged = merge(&inputs, &[0, 1], &both);
    let old_count = old_marks.len();
    let result = merged.and_then(|_| {
        impose(&both, out, true, |frames| {
            let new_count = frames.len().saturating_sub(old_count);
            let sheets = (0..old_count.max(new_count))
                .map(|n| {
                    let old_frame = (n < old_count).then(|| frames[n]);
                    let new_frame = (n < new_count).then(|| frames[old_count + n]);
                    let width = old_frame.map_or(0.0, |f| f.width).max(new_frame.map_or(0.0, |f| f.width));
                    let height = old_frame.map_or(0.0, |f| f.height).max(new_frame.map_or(0.0, |f| f.height));
                    let left = Cell { x: 0.0, y: 0.0, width, height };
                    let right = Cell { x: width, ..left };
                    let slot = |cell, page: Option<usize>, marks: &mut Vec<Vec<Highlight>>, index: usize| Slot {
                        cell,
                        page,
                        highlights: marks.get_mut(index).map(std::mem::take).unwrap_or_default(),
                    };
                    Sheet {
                        width: 2.0 * width,
                        height,
                        slots: vec![
                            slot(left, old_frame.map(|_| n), &mut old_marks, n),
                            slot(right, new_frame.map(|_| old_count + n), &mut new_marks, n),
                        ],
                    }
                })
                .collect();
            Ok((sheets, 0))
        })
    });
    let _ = std::fs::remove_file(&both);
    result.map(drop)
}

/// A document's words, as pdftotext reads them.
struct TextLayer {
    pages: usize,
    words: Vec<Word>,
}

/// Every word of `pdf`.
fn words(pdf: &Path) -> Result<TextLayer, ToolError> {
    crate::open::open(pdf)?;
    let absolute = std::path::absolute(pdf).map_err(|e| ToolError::internal(format!("{}: {e}", pdf.display())))?;
    let output = Subprocess::new("pdftotext")
        .args(["-bbox", "-enc", "UTF-8", "-q"])
        .arg(&absolute)
        .arg("-")
        .allow_read(&absolute)
        .timeout(PDFTOTEXT_TIMEOUT)
        .limits(Limits {
            memory_bytes: Some(PDFTOTEXT_MEMORY),
            cpu_seconds: Some(PDFTOTEXT_TIMEOUT.as_secs()),
            file_bytes: None,
        })
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

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}
