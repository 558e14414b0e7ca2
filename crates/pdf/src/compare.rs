//! Comparing two PDFs by their text. poppler's `pdftotext -bbox` gives every word with its box;
//! the two documents' words are diffed as one sequence each (text that moves to the next page
//! is no change), and the changes are reported with their pages and drawn: each sheet shows an
//! old page beside the new page of the same number, deleted words marked red, inserted words
//! green.

use crate::impose::{Cell, Highlight, Sheet, Slot, impose};
use crate::merge::merge;
use crate::text_layer::{TextLayer, Word, words};
use scanpro_core::ToolError;
use serde::Serialize;
use similar::{Algorithm, DiffOp, capture_diff_slices};
use std::path::{Path, PathBuf};

/// Changes listed in the report at most; the counts cover them all.
const MAX_LISTED_CHANGES: usize = 10_000;
const RED: [f64; 3] = [1.0, 0.35, 0.35];
const GREEN: [f64; 3] = [0.35, 0.9, 0.35];

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
