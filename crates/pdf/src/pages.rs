//! Remove, extract and reorder pages: one output holding chosen source pages in a chosen order.
//!
//! Built like a split part: a fresh document receives only the objects its pages reach (moved
//! out of the source, which is read once), with named destinations resolved and links to pages
//! left out removed. On top of a split part it keeps:
//! - the bookmarks whose targets survive (an item whose page is gone is dropped, unless items
//!   below it survive: it then stays as a heading without a target);
//! - the catalog's `Lang`, `ViewerPreferences`, `PageLayout`, `PageMode` and XMP `Metadata`;
//! - the `Info` dictionary.
//!
//! Dropped, as by split: interactive forms (`AcroForm`; widgets keep their appearance), the
//! structure tree (tagging), article threads, page labels, document JavaScript, embedded-file
//! lists and the open action.

use crate::copy::Copier;
use crate::dests::{NamedDests, deref};
use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::output::{OutputDoc, sane_version};
use crate::page_tree::page_count;
use crate::save::save_atomic;
use crate::streams::{prepare_page_contents, reencode_brotli};
use lopdf::{Dictionary, Document, Object, ObjectId};
use scanpro_core::ToolError;
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;

/// Catalog entries that describe the document as a whole and survive any choice of pages.
const CARRIED_CATALOG_KEYS: [&[u8]; 5] = [b"Lang", b"ViewerPreferences", b"PageLayout", b"PageMode", b"Metadata"];

/// Outlines nested deeper than this are hostile; the deeper items are dropped.
const MAX_OUTLINE_DEPTH: usize = 64;

/// Longest sibling chain followed: a longer (or cyclic) `/Next` chain is cut.
const MAX_SIBLINGS: usize = 100_000;

/// What a page selection produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PagesReport {
    /// Pages in the output.
    pub pages: u32,
    /// Pages in the input.
    pub source_pages: u32,
    /// The source page (1-based) of each output page, in output order.
    pub source_order: Vec<u32>,
    /// Bookmarks kept.
    pub bookmarks: u32,
    /// Bookmarks dropped because their page is not in the output.
    pub bookmarks_dropped: u32,
}

/// Writes to `out` the pages of `input` that `choose` picks, in the order it gives them:
/// `choose` gets the page count and returns 1-based page numbers (its errors pass through).
pub fn select_pages(
    input: &Path,
    choose: impl FnOnce(u32) -> Result<Vec<u32>, ToolError>,
    out: &Path,
) -> Result<PagesReport, ToolError> {
    guarded("pages", || {
        let mut doc = open_unguarded(input)?;
        let page_ids: Vec<ObjectId> = doc.page_iter().collect();
        let page_count = page_count(page_ids.len())?;
        let order = choose(page_count)?;
        check_order(&order, page_count)?;
        reencode_brotli(&mut doc);
        prepare_page_contents(&mut doc, order.iter().map(|&n| (n, page_ids[n as usize - 1])))?;
        let chosen: Vec<ObjectId> = order.iter().map(|&n| page_ids[n as usize - 1]).collect();
        let (mut document, outline) = build(doc, &chosen);
        save_atomic(&mut document, out)?;
        Ok(PagesReport {
            pages: u32::try_from(order.len()).unwrap_or(u32::MAX),
            source_pages: page_count,
            source_order: order,
            bookmarks: outline.kept,
            bookmarks_dropped: outline.dropped,
        })
    })
}

fn check_order(order: &[u32], page_count: u32) -> Result<(), ToolError> {
    if order.is_empty() {
        return Err(ToolError::invalid_param("pages", "the selection leaves no pages"));
    }
    match order.iter().find(|&&n| n == 0 || n > page_count) {
        Some(n) => Err(ToolError::invalid_param(
            "pages",
            format!("page {n} does not exist (the document has {page_count} pages)"),
        )),
        None => Ok(()),
    }
}

/// Moves `pages` (source ids, in output order) and what survives with them into a new document.
fn build(source: Document, pages: &[ObjectId]) -> (Document, OutlineCount) {
    let names = NamedDests::collect(&source);
    let mut output = OutputDoc::new(sane_version(&source.version));
    if let Some(version) = catalog_version(&source) {
        output.raise_version(&version);
    }
    let catalog = source.catalog().cloned().unwrap_or_default();
    let outline_root = catalog.get(b"Outlines").ok().and_then(|o| o.as_reference().ok());
    let info = source.trailer.get(b"Info").ok().cloned();
    let pages_id = output.pages_id();
    let mut copier = Copier::new(source, &mut output.doc, &names, pages_id);
    copier.register_pages(pages);
    let kids: Vec<ObjectId> = pages.iter().map(|&page| copier.copy_page(page)).collect();
    let outline = outline_root.and_then(|root| copier.copy(Object::Reference(root)).as_reference().ok());
    let carried: Vec<(&[u8], Object)> = CARRIED_CATALOG_KEYS
        .iter()
        .filter_map(|&key| catalog.get(key).ok().map(|value| (key, copier.copy(value.clone()))))
        .collect();
    let info = info.map(|info| copier.copy(info)).filter(|info| !matches!(info, Object::Null));
    drop(copier);

    let count = outline.map(|root| prune_outline(&mut output.doc, root)).unwrap_or_default();
    let mut extra = Dictionary::new();
    for (key, value) in carried {
        extra.set(key, value);
    }
    match outline {
        Some(root) if count.kept > 0 => extra.set("Outlines", Object::Reference(root)),
        _ => {
            if matches!(extra.get(b"PageMode"), Ok(Object::Name(mode)) if mode == b"UseOutlines") {
                extra.remove(b"PageMode");
            }
        }
    }
    (output.finish(&kids, extra, info), count)
}

/// The catalog's `/Version`, which overrides an earlier header version.
fn catalog_version(doc: &Document) -> Option<String> {
    let catalog = doc.catalog().ok()?;
    match deref(doc, catalog.get(b"Version").ok())? {
        Object::Name(version) => Some(String::from_utf8_lossy(version).into_owned()),
        _ => None,
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct OutlineCount {
    kept: u32,
    dropped: u32,
}

/// Drops the outline items (already copied into `doc`) that lead nowhere: no destination or
/// action left (the copier removes those whose page is not in the output) and no item below
/// that survives. Relinks siblings and recomputes the counts. An outline left empty is removed.
fn prune_outline(doc: &mut Document, root: ObjectId) -> OutlineCount {
    let mut count = OutlineCount::default();
    let mut seen = HashSet::from([root]);
    let visible = prune_children(doc, root, 0, &mut seen, &mut count);
    if count.kept == 0 {
        doc.objects.remove(&root);
    } else if let Ok(root) = doc.get_dictionary_mut(root) {
        root.set("Count", visible);
    }
    count
}

/// Prunes the children of `parent`; returns how many items below it show when it is open.
fn prune_children(
    doc: &mut Document,
    parent: ObjectId,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    count: &mut OutlineCount,
) -> i64 {
    let mut kept = Vec::new();
    let mut visible = 0;
    for child in children(doc, parent, seen) {
        let below = if depth < MAX_OUTLINE_DEPTH { prune_children(doc, child, depth + 1, seen, count) } else { 0 };
        let Ok(item) = doc.get_dictionary_mut(child) else { continue };
        let has_kids = depth < MAX_OUTLINE_DEPTH && item.has(b"First");
        if !(item.has(b"Dest") || item.has(b"A") || has_kids) {
            doc.objects.remove(&child);
            count.dropped += 1;
            continue;
        }
        let open = !matches!(item.get(b"Count").and_then(Object::as_i64), Ok(n) if n < 0);
        if has_kids {
            item.set("Count", if open { below } else { -below });
        } else {
            for key in [&b"First"[..], b"Last", b"Count"] {
                item.remove(key);
            }
        }
        visible += 1 + if open { below } else { 0 };
        count.kept += 1;
        kept.push(child);
    }
    link_siblings(doc, parent, &kept);
    visible
}

/// The items of `parent`'s `/First` … `/Next` chain, each once.
fn children(doc: &Document, parent: ObjectId, seen: &mut HashSet<ObjectId>) -> Vec<ObjectId> {
    let mut items = Vec::new();
    let first = doc.get_dictionary(parent).ok().and_then(|d| d.get(b"First").ok()).and_then(|o| o.as_reference().ok());
    let mut next = first;
    while let Some(id) = next
        && items.len() < MAX_SIBLINGS
        && seen.insert(id)
    {
        items.push(id);
        next = doc.get_dictionary(id).ok().and_then(|d| d.get(b"Next").ok()).and_then(|o| o.as_reference().ok());
    }
    items
}

fn link_siblings(doc: &mut Document, parent: ObjectId, kept: &[ObjectId]) {
    for (index, &id) in kept.iter().enumerate() {
        if let Ok(item) = doc.get_dictionary_mut(id) {
            set_or_remove(item, b"Prev", index.checked_sub(1).map(|i| kept[i]));
            set_or_remove(item, b"Next", kept.get(index + 1).copied());
            item.set("Parent", Object::Reference(parent));
        }
    }
    if let Ok(parent) = doc.get_dictionary_mut(parent) {
        set_or_remove(parent, b"First", kept.first().copied());
        set_or_remove(parent, b"Last", kept.last().copied());
    }
}

fn set_or_remove(dict: &mut Dictionary, key: &[u8], target: Option<ObjectId>) {
    match target {
        Some(id) => dict.set(key, Object::Reference(id)),
        None => drop(dict.remove(key)),
    }
}
