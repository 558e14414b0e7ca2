//! Rotate: turn pages by quarter turns, on top of the rotation they already have.
//!
//! The document is otherwise saved as loaded (bookmarks, forms, links, tagging all stay), except
//! that its page tree is rebuilt flat (`page_tree::flatten`): damaged trees are common and
//! readers disagree on them, and a flat tree with each page's inherited attributes on the page
//! is read the same way everywhere.

use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::page_tree::{flatten, page_count, rotation};
use crate::save::save_atomic;
use crate::streams::{prepare_page_contents, reencode_brotli};
use lopdf::{Document, Object, ObjectId};
use scanpro_core::ToolError;
use serde::Serialize;
use std::path::Path;

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotateReport {
    /// Pages in the document.
    pub pages: u32,
    /// The pages turned, 1-based, in document order.
    pub rotated: Vec<u32>,
}

/// Turns `pages` (1-based; empty means every page) of `input` clockwise by `angle` degrees, a
/// multiple of 90 (negative turns anticlockwise), and writes the result to `out`.
pub fn rotate(input: &Path, angle: i32, pages: &[u32], out: &Path) -> Result<RotateReport, ToolError> {
    rotate_with(input, angle, |page_count| selected_pages(pages, page_count), out)
}

/// [`rotate`] with the pages chosen once the page count is known: `choose` gets the page count
/// and returns the 1-based pages to turn (its errors are passed through). The document is read
/// once.
pub fn rotate_with(
    input: &Path,
    angle: i32,
    choose: impl FnOnce(u32) -> Result<Vec<u32>, ToolError>,
    out: &Path,
) -> Result<RotateReport, ToolError> {
    guarded("rotate", || {
        if angle % 90 != 0 {
            return Err(ToolError::invalid_param("angle", format!("{angle} is not a multiple of 90")));
        }
        let mut doc = open_unguarded(input)?;
        let page_ids = flatten(&mut doc);
        let page_count = page_count(page_ids.len())?;
        let selected = selected_pages(&choose(page_count)?, page_count)?;
        reencode_brotli(&mut doc);
        prepare_page_contents(&mut doc, (1..).zip(page_ids.iter().copied()))?;
        for &number in &selected {
            turn_page(&mut doc, page_ids[number as usize - 1], i64::from(angle));
        }
        keep_only_current_trailer(&mut doc);
        if doc.objects.keys().next().is_some_and(|id| id.0 == 0) {
            // Object number 0 is reserved; a damaged file that uses it needs new numbers.
            doc.renumber_objects();
        }
        save_atomic(&mut doc, out)?;
        Ok(RotateReport { pages: page_count, rotated: selected })
    })
}

/// The pages to turn, sorted and without repeats (turning a page twice is not what was meant).
fn selected_pages(pages: &[u32], page_count: u32) -> Result<Vec<u32>, ToolError> {
    if let Some(bad) = pages.iter().find(|&&n| n == 0 || n > page_count) {
        return Err(ToolError::invalid_param(
            "pages",
            format!("page {bad} does not exist (the document has {page_count} pages)"),
        ));
    }
    let mut selected = if pages.is_empty() { (1..=page_count).collect() } else { pages.to_vec() };
    selected.sort_unstable();
    selected.dedup();
    Ok(selected)
}

fn turn_page(doc: &mut Document, page_id: ObjectId, angle: i64) {
    let Ok(page) = doc.get_dictionary(page_id) else { return };
    let turned = (rotation(doc, page) + angle).rem_euclid(360);
    if let Ok(page) = doc.get_dictionary_mut(page_id) {
        page.set("Rotate", Object::Integer(turned));
    }
}

/// Drops trailer entries that described the file as read (`/Prev`, `/XRefStm`, stream keys of
/// an xref stream): the writer produces a fresh single-revision file.
fn keep_only_current_trailer(doc: &mut Document) {
    let kept = [&b"Root"[..], b"Info", b"ID"];
    let stale: Vec<Vec<u8>> =
        doc.trailer.iter().map(|(k, _)| k.clone()).filter(|k| !kept.contains(&k.as_slice())).collect();
    for key in stale {
        doc.trailer.remove(&key);
    }
}
