//! Page attributes a page may inherit from its ancestors. Outputs replace the source's page
//! tree, so whatever a page inherited must be copied onto the page itself, or it would silently
//! change size, rotation or fonts.

use crate::dests::deref;
use lopdf::{Dictionary, Document, Object, ObjectId};
use scanpro_core::{ErrorCode, ToolError};
use std::collections::HashSet;

/// The attributes PDF lets a page inherit from its `/Pages` ancestors.
pub(crate) const INHERITABLE: [&[u8]; 4] = [b"Resources", b"MediaBox", b"CropBox", b"Rotate"];

/// US Letter: what readers assume for a page without any `MediaBox`.
pub(crate) const DEFAULT_MEDIA_BOX: [i64; 4] = [0, 0, 612, 792];

/// Page trees deeper than this are cyclic or hostile.
const MAX_DEPTH: usize = 256;

/// The page's own value of `key`, or the nearest ancestor's.
pub(crate) fn inherited<'a>(doc: &'a Document, page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..MAX_DEPTH {
        if let Ok(value) = node.get(key) {
            return Some(value);
        }
        node = deref(doc, node.get(b"Parent").ok())?.as_dict().ok()?;
    }
    None
}

/// Copies every inherited attribute onto `page` (whose ancestors live in `doc`), and supplies
/// the two a valid page must have: a `MediaBox` and `Resources`.
pub(crate) fn materialise_inherited(doc: &Document, page: &mut Dictionary) {
    for key in INHERITABLE {
        if !page.has(key)
            && let Some(value) = inherited(doc, page, key).cloned()
        {
            page.set(key, value);
        }
    }
    if !page.has(b"MediaBox") {
        page.set("MediaBox", DEFAULT_MEDIA_BOX.iter().map(|&n| Object::Integer(n)).collect::<Vec<_>>());
    }
    if !page.has(b"Resources") {
        page.set("Resources", Dictionary::new());
    }
}

/// A blank page standing in for a page object that is missing or not a dictionary.
pub(crate) fn blank_page() -> Dictionary {
    let mut page = Dictionary::new();
    page.set("Type", Object::Name(b"Page".to_vec()));
    materialise_inherited(&Document::new(), &mut page);
    page
}

/// The page's rotation, inherited if need be, as 0, 90, 180 or 270. Values that are not a
/// multiple of 90 are invalid and shown unrotated by readers, so they count as 0.
pub(crate) fn rotation(doc: &Document, page: &Dictionary) -> i64 {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "`r` is whole; beyond the range of i64 it saturates, which is no multiple of 90"
    )]
    let degrees = match deref(doc, inherited(doc, page, b"Rotate")) {
        Some(Object::Integer(n)) => *n,
        Some(Object::Real(r)) if r.fract() == 0.0 => *r as i64,
        _ => 0,
    };
    if degrees % 90 == 0 { degrees.rem_euclid(360) } else { 0 }
}

/// `len` pages as a page count: pages are numbered with `u32`, and a document with more than
/// that (more than any that fits in memory) is refused.
pub(crate) fn page_count(len: usize) -> Result<u32, ToolError> {
    u32::try_from(len)
        .map_err(|_| ToolError::new(ErrorCode::ResourceLimit, format!("the PDF has {len} pages, too many to number")))
}

/// Replaces the document's page tree with one flat `/Pages` node over the pages it reads, in
/// order, each page carrying what it inherited. Repairs trees that readers disagree on: cycles,
/// a page listed twice (the repeat becomes a copy), kids that are missing or not dictionaries
/// (blank pages, as readers show them). Returns the page ids in order.
pub(crate) fn flatten(doc: &mut Document) -> Vec<ObjectId> {
    let listed: Vec<ObjectId> = doc.page_iter().collect();
    let pages: Vec<(ObjectId, Dictionary)> = listed.iter().map(|&id| (id, standalone_page(doc, id))).collect();
    for node in page_tree_nodes(doc) {
        doc.objects.remove(&node);
    }
    let root = doc.new_object_id();
    let mut seen = HashSet::new();
    let mut kids = Vec::with_capacity(pages.len());
    for (id, mut page) in pages {
        let id = if seen.insert(id) { id } else { doc.new_object_id() };
        page.set("Parent", Object::Reference(root));
        doc.objects.insert(id, Object::Dictionary(page));
        kids.push(id);
    }
    let mut node = Dictionary::new();
    node.set("Type", Object::Name(b"Pages".to_vec()));
    node.set("Kids", kids.iter().map(|&id| Object::Reference(id)).collect::<Vec<_>>());
    node.set("Count", kids.len() as i64);
    doc.objects.insert(root, Object::Dictionary(node));
    if let Ok(catalog) = doc.catalog_mut() {
        catalog.set("Pages", Object::Reference(root));
    }
    kids
}

fn standalone_page(doc: &Document, id: ObjectId) -> Dictionary {
    match doc.get_dictionary(id) {
        Ok(page) if page.has_type(b"Page") => {
            let mut page = page.clone();
            materialise_inherited(doc, &mut page);
            page
        }
        _ => blank_page(),
    }
}

/// Whether every reader sees the same pages: each node and page of the tree reached once (no
/// cycle, nothing listed twice), every kid a page or a node.
pub(crate) fn is_sound(doc: &Document) -> bool {
    let mut seen = HashSet::new();
    let root = doc.catalog().ok().and_then(|c| c.get(b"Pages").ok()).and_then(|p| p.as_reference().ok());
    let mut stack: Vec<ObjectId> = root.into_iter().collect();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            return false;
        }
        let Ok(node) = doc.get_dictionary(id) else { return false };
        if node.has_type(b"Pages") {
            let Some(kids) = deref(doc, node.get(b"Kids").ok()).and_then(|k| k.as_array().ok()) else { return false };
            for kid in kids {
                let Ok(kid) = kid.as_reference() else { return false };
                stack.push(kid);
            }
        } else if !node.has_type(b"Page") {
            return false;
        }
    }
    !seen.is_empty()
}

/// The ids of the `/Pages` nodes reachable from the catalog (each once, cycles cut).
fn page_tree_nodes(doc: &Document) -> Vec<ObjectId> {
    let mut nodes = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<ObjectId> =
        doc.catalog().ok().and_then(|c| c.get(b"Pages").ok()).and_then(|p| p.as_reference().ok()).into_iter().collect();
    while let Some(id) = stack.pop() {
        let Ok(node) = doc.get_dictionary(id) else { continue };
        if !node.has_type(b"Pages") || !seen.insert(id) {
            continue;
        }
        nodes.push(id);
        if let Some(kids) = deref(doc, node.get(b"Kids").ok()).and_then(|k| k.as_array().ok()) {
            stack.extend(kids.iter().filter_map(|kid| kid.as_reference().ok()));
        }
    }
    nodes
}
