//! Preparing a whole document to be written back as one clean revision: what `protect`,
//! `unlock`, `metadata` and `repair` do before they save (they keep everything the document
//! holds, unlike the page tools, which copy pages into a fresh document).

use crate::page_tree::{flatten, page_count};
use crate::streams::{prepare_page_contents, reencode_brotli};
use lopdf::{Document, Object, ObjectId};
use scanpro_core::ToolError;
use std::collections::HashSet;

/// What [`prepare`] found and changed, for reports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prepared {
    pub(crate) pages: u32,
    /// References to objects the file does not hold, replaced by `null` (what readers assume).
    pub(crate) dangling_references: u32,
    /// Leftovers of the file's cross-reference machinery (object and xref streams) dropped:
    /// the writer makes its own.
    pub(crate) stale_structure: u32,
}

/// Flattens the page tree, makes page content decodable by every reader (or refuses the file
/// as `invalid_pdf`), points dangling references at `null`, drops the old file structure and
/// renumbers when object 0 is used.
pub(crate) fn prepare(doc: &mut Document) -> Result<Prepared, ToolError> {
    let pages = flatten(doc);
    reencode_brotli(doc);
    prepare_page_contents(doc, (1..).zip(pages.iter().copied()))?;
    let stale_structure = drop_stale_structure(doc);
    let dangling_references = null_dangling_references(doc);
    keep_only_current_trailer(doc);
    if doc.objects.keys().next().is_some_and(|id| id.0 == 0) {
        // Object number 0 is reserved; a damaged file that uses it needs new numbers.
        doc.renumber_objects();
    }
    Ok(Prepared { pages: page_count(pages.len())?, dangling_references, stale_structure })
}

/// Removes cross-reference and object streams left among the objects: their contents were
/// loaded as objects of their own, and written again they are dead weight (and, encrypted, a
/// stream no reader expects to decrypt).
fn drop_stale_structure(doc: &mut Document) -> u32 {
    let stale: Vec<ObjectId> = doc
        .objects
        .iter()
        .filter(
            |(_, object)| matches!(object, Object::Stream(s) if s.dict.has_type(b"XRef") || s.dict.has_type(b"ObjStm")),
        )
        .map(|(&id, _)| id)
        .collect();
    for id in &stale {
        doc.objects.remove(id);
    }
    u32::try_from(stale.len()).unwrap_or(u32::MAX)
}

/// Replaces references to objects that are not in the document with `null`; returns how many.
fn null_dangling_references(doc: &mut Document) -> u32 {
    let present: HashSet<ObjectId> = doc.objects.keys().copied().collect();
    let mut count = 0;
    for object in doc.objects.values_mut() {
        count += null_missing(object, &present);
    }
    for (_, value) in doc.trailer.iter_mut() {
        count += null_missing(value, &present);
    }
    count
}

fn null_missing(object: &mut Object, present: &HashSet<ObjectId>) -> u32 {
    // An explicit stack: hostile files nest arrays deeply.
    let mut count = 0;
    let mut stack = vec![object];
    while let Some(object) = stack.pop() {
        match object {
            Object::Reference(id) if !present.contains(id) => {
                *object = Object::Null;
                count += 1;
            }
            Object::Array(items) => stack.extend(items.iter_mut()),
            Object::Dictionary(dict) => stack.extend(dict.iter_mut().map(|(_, v)| v)),
            Object::Stream(stream) => stack.extend(stream.dict.iter_mut().map(|(_, v)| v)),
            _ => {}
        }
    }
    count
}

/// Drops trailer entries that described the file as read (`/Prev`, `/XRefStm`, stream keys of
/// an xref stream) and a `null` `/Info`: the writer produces a fresh single-revision file.
fn keep_only_current_trailer(doc: &mut Document) {
    let kept = [&b"Root"[..], b"Info", b"ID"];
    let stale: Vec<Vec<u8>> = doc
        .trailer
        .iter()
        .filter(|(key, value)| !kept.contains(&key.as_slice()) || matches!(value, Object::Null))
        .map(|(key, _)| key.clone())
        .collect();
    for key in stale {
        doc.trailer.remove(&key);
    }
}
