//! Sanitising: what a PDF can run, carry or give away when opened, removed, with a report of
//! what was found.
//!
//! - Scripts and actions: every additional-action trigger (`/AA`, on the document, pages,
//!   fields and annotations), document-level JavaScript (the `JavaScript` name tree), the XFA
//!   form's scripts (its `/XFA` packets), and every action (`/A`, `/OpenAction`, `/Next`) that
//!   runs a script, launches a program, submits or imports data, plays media or opens another
//!   file. Actions that only move inside the document stay.
//! - Embedded files: the `EmbeddedFiles` name tree, associated files (`/AF`) and file attachment
//!   annotations.
//! - Links out: link annotations to web addresses or other files, and such actions on
//!   bookmarks.
//! - Metadata: the catalog's XMP stream, and the `Info` dictionary.
//!
//! Objects left unreferenced are dropped before saving, so nothing removed stays in the file.

use crate::dests::deref;
use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::{Dictionary, Document, Object, ObjectId};
use scanpro_core::ToolError;
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;

/// Action types that act outside the document.
const ACTIVE_ACTIONS: [&[u8]; 9] = [
    b"JavaScript",
    b"Launch",
    b"SubmitForm",
    b"ImportData",
    b"Rendition",
    b"Sound",
    b"Movie",
    b"GoToE",
    b"RichMediaExecute",
];
/// Action types that leave for another address or file.
const LINK_ACTIONS: [&[u8]; 2] = [b"URI", b"GoToR"];

/// What to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sanitize {
    pub scripts: bool,
    pub embedded_files: bool,
    pub links: bool,
    pub xmp_metadata: bool,
    pub document_metadata: bool,
}

/// What the document held, and what was removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SanitizeReport {
    pub pages: u32,
    pub found: Found,
    /// The kinds removed: `scripts`, `embedded_files`, `links`, `xmp_metadata`, `document_metadata`.
    pub removed: Vec<&'static str>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Found {
    /// Scripts and active actions, triggers (`/AA`) and XFA packets.
    pub scripts: u32,
    pub embedded_files: u32,
    pub links: u32,
    pub xmp_metadata: bool,
    pub document_metadata: bool,
}

pub fn sanitize(input: &Path, what: Sanitize, out: &Path) -> Result<SanitizeReport, ToolError> {
    guarded("sanitize", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let mut found = Found::default();
        let active = action_objects(&doc, &ACTIVE_ACTIONS);
        let outward = action_objects(&doc, &LINK_ACTIONS);
        let attachment_annotations =
            doc.objects.values().filter(|o| o.as_dict().is_ok_and(|d| has_subtype(d, b"FileAttachment"))).count();
        found.embedded_files = count_embedded_files(&doc) + u32::try_from(attachment_annotations).unwrap_or(u32::MAX);

        let ids: Vec<ObjectId> = doc.objects.keys().copied().collect();
        for id in ids {
            let Some(object) = doc.objects.get_mut(&id) else { continue };
            let dict = match object {
                Object::Dictionary(dict) => dict,
                Object::Stream(stream) => &mut stream.dict,
                _ => continue,
            };
            visit(dict, 0, &mut |dict| {
                found.scripts += remove_actions(dict, &active, &ACTIVE_ACTIONS, what.scripts);
                if dict.has(b"AA") {
                    found.scripts += 1;
                    if what.scripts {
                        dict.remove(b"AA");
                    }
                }
                // A link annotation that leads out goes whole, below; elsewhere (bookmarks,
                // buttons) only the action goes.
                found.links += remove_actions(dict, &outward, &LINK_ACTIONS, what.links && !is_link(dict));
            });
        }
        for page_id in doc.page_iter().collect::<Vec<_>>() {
            drop_annotations(&mut doc, page_id, |annot| {
                (what.embedded_files && has_subtype(annot, b"FileAttachment"))
                    || (what.links && outward_link(annot, &outward))
            });
        }
        let catalog_id = doc.trailer.get(b"Root").and_then(Object::as_reference).ok();
        if let Some(catalog) = catalog_id.and_then(|id| doc.get_dictionary_mut(id).ok()) {
            found.xmp_metadata = catalog.has(b"Metadata");
            if what.xmp_metadata {
                catalog.remove(b"Metadata");
            }
            if what.embedded_files {
                catalog.remove(b"AF");
            }
        }
        found.scripts += names_entry(&mut doc, b"JavaScript", what.scripts);
        if what.embedded_files {
            names_entry(&mut doc, b"EmbeddedFiles", true);
        }
        found.scripts += xfa(&mut doc, what.scripts);
        found.document_metadata = doc.trailer.has(b"Info");
        if what.document_metadata {
            doc.trailer.remove(b"Info");
        }
        doc.prune_objects();
        save_atomic(&mut doc, out)?;
        let removed = [
            ("scripts", what.scripts),
            ("embedded_files", what.embedded_files),
            ("links", what.links),
            ("xmp_metadata", what.xmp_metadata),
            ("document_metadata", what.document_metadata),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        Ok(SanitizeReport { pages: prepared.pages, found, removed })
    })
}

/// Dictionaries nest in dictionaries and arrays; deeper than this is hostile.
const MAX_NESTING: usize = 32;

/// Calls `each` on `dict` and every dictionary nested inside it (not through references:
/// every object is visited on its own).
fn visit(dict: &mut Dictionary, depth: usize, each: &mut impl FnMut(&mut Dictionary)) {
    if depth > MAX_NESTING {
        return;
    }
    each(dict);
    for (_, value) in dict.iter_mut() {
        visit_object(value, depth + 1, each);
    }
}

fn visit_object(object: &mut Object, depth: usize, each: &mut impl FnMut(&mut Dictionary)) {
    match object {
        Object::Dictionary(dict) => visit(dict, depth, each),
        Object::Array(items) if depth <= MAX_NESTING => {
            for item in items {
                visit_object(item, depth + 1, each);
            }
        }
        _ => {}
    }
}

fn action_type(action: &Dictionary) -> Option<&[u8]> {
    action.get(b"S").and_then(Object::as_name).ok()
}

/// The objects that are actions of one of `kinds`.
fn action_objects(doc: &Document, kinds: &[&[u8]]) -> HashSet<ObjectId> {
    doc.objects
        .iter()
        .filter(|(_, object)| object.as_dict().ok().and_then(action_type).is_some_and(|s| kinds.contains(&s)))
        .map(|(&id, _)| id)
        .collect()
}

/// Whether `value` is an action of one of `kinds`, direct or by reference.
fn is_action(value: &Object, objects: &HashSet<ObjectId>, kinds: &[&[u8]]) -> bool {
    match value {
        Object::Reference(id) => objects.contains(id),
        Object::Dictionary(dict) => action_type(dict).is_some_and(|s| kinds.contains(&s)),
        _ => false,
    }
}

const ACTION_KEYS: [&[u8]; 3] = [b"A", b"OpenAction", b"Next"];

fn has_action(dict: &Dictionary, objects: &HashSet<ObjectId>, kinds: &[&[u8]]) -> bool {
    ACTION_KEYS.iter().any(|key| dict.get(key).is_ok_and(|v| is_action(v, objects, kinds)))
}

/// Counts the actions of `kinds` in `dict`'s action entries (a `/Next` array too), removing
/// them when `remove`.
fn remove_actions(dict: &mut Dictionary, objects: &HashSet<ObjectId>, kinds: &[&[u8]], remove: bool) -> u32 {
    let mut count = 0;
    for key in ACTION_KEYS {
        let Ok(value) = dict.get_mut(key) else { continue };
        if is_action(value, objects, kinds) {
            count += 1;
            if remove {
                dict.remove(key);
            }
        } else if let Object::Array(chain) = value {
            let before = chain.len();
            if remove {
                chain.retain(|item| !is_action(item, objects, kinds));
                count += u32::try_from(before - chain.len()).unwrap_or(u32::MAX);
            } else {
                count +=
                    u32::try_from(chain.iter().filter(|item| is_action(item, objects, kinds)).count()).unwrap_or(0);
            }
        }
    }
    count
}

fn has_subtype(dict: &Dictionary, subtype: &[u8]) -> bool {
    dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == subtype)
}

fn is_link(dict: &Dictionary) -> bool {
    has_subtype(dict, b"Link")
}

/// The (annotation) object `annot` is a link out of the document.
fn outward_link(annot: &Dictionary, outward: &HashSet<ObjectId>) -> bool {
    is_link(annot) && has_action(annot, outward, &LINK_ACTIONS)
}

/// Removes from `page_id`'s `/Annots` the annotations `drop` picks (by reference or direct).
fn drop_annotations(doc: &mut Document, page_id: ObjectId, drop: impl Fn(&Dictionary) -> bool) {
    let annots = doc.get_dictionary(page_id).ok().and_then(|page| deref(doc, page.get(b"Annots").ok())).cloned();
    let Some(Object::Array(annots)) = annots else { return };
    let kept: Vec<Object> = annots
        .into_iter()
        .filter(|annot| match deref(doc, Some(annot)).and_then(|a| a.as_dict().ok()) {
            Some(dict) => !drop(dict),
            None => true,
        })
        .collect();
    if let Ok(page) = doc.get_dictionary_mut(page_id) {
        page.set("Annots", kept);
    }
}

/// The files in the `EmbeddedFiles` name tree.
fn count_embedded_files(doc: &Document) -> u32 {
    let names = doc.catalog().ok().and_then(|c| deref(doc, c.get(b"Names").ok())).and_then(|n| n.as_dict().ok());
    let tree = names.and_then(|n| deref(doc, n.get(b"EmbeddedFiles").ok()));
    tree.map_or(0, |tree| count_leaves(doc, tree, 0))
}

fn count_leaves(doc: &Document, node: &Object, depth: usize) -> u32 {
    let Some(node) = node.as_dict().ok().filter(|_| depth <= MAX_NESTING) else { return 0 };
    let own = match deref(doc, node.get(b"Names").ok()) {
        Some(Object::Array(pairs)) => u32::try_from(pairs.len() / 2).unwrap_or(u32::MAX),
        _ => 0,
    };
    let kids = match deref(doc, node.get(b"Kids").ok()) {
        Some(Object::Array(kids)) => {
            kids.iter().filter_map(|k| deref(doc, Some(k))).map(|k| count_leaves(doc, k, depth + 1)).sum()
        }
        _ => 0,
    };
    own + kids
}

/// Counts (1 or 0) and, with `remove`, removes the catalog's `Names` entry `key`.
fn names_entry(doc: &mut Document, key: &[u8], remove: bool) -> u32 {
    let names = doc.catalog().ok().and_then(|c| c.get(b"Names").ok()).cloned();
    let dict = match names {
        Some(Object::Reference(id)) => doc.get_dictionary_mut(id).ok(),
        Some(Object::Dictionary(_)) => {
            doc.catalog_mut().ok().and_then(|c| c.get_mut(b"Names").ok()).and_then(|n| n.as_dict_mut().ok())
        }
        _ => None,
    };
    let Some(dict) = dict else { return 0 };
    let present = dict.has(key);
    if remove {
        dict.remove(key);
    }
    u32::from(present)
}

/// Counts (1 or 0) and, with `remove`, removes the AcroForm's XFA packets (which hold scripts).
fn xfa(doc: &mut Document, remove: bool) -> u32 {
    let acroform = doc.catalog().ok().and_then(|c| c.get(b"AcroForm").ok()).cloned();
    let dict = match acroform {
        Some(Object::Reference(id)) => doc.get_dictionary_mut(id).ok(),
        Some(Object::Dictionary(_)) => {
            doc.catalog_mut().ok().and_then(|c| c.get_mut(b"AcroForm").ok()).and_then(|a| a.as_dict_mut().ok())
        }
        _ => None,
    };
    let Some(dict) = dict else { return 0 };
    let present = dict.has(b"XFA");
    if remove {
        dict.remove(b"XFA");
    }
    u32::from(present)
}
