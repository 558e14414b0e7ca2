//! Bookmarks (the document outline): read as a flat list with levels and target pages, and
//! written, replacing the outline or added after it.
//!
//! A bookmark's page comes from its destination (`/Dest`, explicit or named) or its `GoTo`
//! action; other bookmarks (web links, scripts) have none. Written bookmarks open their page
//! fitted in the window, and the viewer is asked to show the bookmarks panel.

use crate::dests::{NamedDests, deref};
use crate::guard::guarded;
use crate::info::decode_text;
use crate::open::open_unguarded;
use crate::page_tree::page_count;
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::{Dictionary, Document, Object, ObjectId, text_string};
use scanpro_core::{ErrorCode, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Outlines nested deeper than this are hostile; deeper items are not read.
const MAX_DEPTH: u32 = 64;
/// Items read at most.
const MAX_ITEMS: usize = 100_000;
/// Longest title written.
pub const MAX_TITLE_CHARS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bookmark {
    pub title: String,
    /// 1 for a top-level bookmark (the default), 2 for one inside the bookmark before it, …
    #[serde(default = "top_level")]
    pub level: u32,
    /// The page it opens (1-based); read, `null` for one that opens no page of this document.
    pub page: Option<u32>,
}

fn top_level() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutlineReport {
    pub pages: u32,
    pub bookmarks: Vec<Bookmark>,
}

/// Replace the outline, or add to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Replace,
    Add,
}

/// The bookmarks of `input`, in document order.
pub fn bookmarks(input: &Path) -> Result<OutlineReport, ToolError> {
    guarded("bookmarks", || {
        let doc = open_unguarded(input)?;
        let pages = page_count(doc.get_pages().len())?;
        Ok(OutlineReport { pages, bookmarks: read_outline(&doc) })
    })
}

/// Writes `entries` as the outline of `input` (or after its bookmarks), saved as `out`; reports
/// the bookmarks the output has.
pub fn write_bookmarks(
    input: &Path,
    entries: &[Bookmark],
    placement: Placement,
    out: &Path,
) -> Result<OutlineReport, ToolError> {
    guarded("bookmarks", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let page_ids: Vec<ObjectId> = doc.page_iter().collect();
        check_entries(entries, prepared.pages)?;
        let existing_root = doc
            .catalog()
            .ok()
            .and_then(|c| c.get(b"Outlines").ok())
            .and_then(|o| o.as_reference().ok())
            .filter(|id| doc.get_dictionary(*id).is_ok());
        let root = match (placement, existing_root) {
            (Placement::Add, Some(root)) => root,
            _ => {
                let mut root = Dictionary::new();
                root.set("Type", Object::Name(b"Outlines".to_vec()));
                doc.add_object(root)
            }
        };
        let top_level = build_items(&mut doc, root, entries, &page_ids);
        let previous_last =
            doc.get_dictionary(root).ok().and_then(|r| r.get(b"Last").ok()).and_then(|o| o.as_reference().ok());
        if let (Some(last), Some(&first_new)) = (previous_last, top_level.first()) {
            if let Ok(last) = doc.get_dictionary_mut(last) {
                last.set("Next", Object::Reference(first_new));
            }
            if let Ok(first) = doc.get_dictionary_mut(first_new) {
                first.set("Prev", Object::Reference(last));
            }
        }
        let before =
            doc.get_dictionary(root).ok().and_then(|r| r.get(b"Count").ok()).and_then(|c| c.as_i64().ok()).unwrap_or(0);
        if let Ok(root_dict) = doc.get_dictionary_mut(root) {
            if previous_last.is_none()
                && let Some(&first) = top_level.first()
            {
                root_dict.set("First", Object::Reference(first));
            }
            if let Some(&last) = top_level.last() {
                root_dict.set("Last", Object::Reference(last));
            }
            let added = i64::try_from(entries.len()).unwrap_or(i64::MAX);
            root_dict.set("Count", before.abs() + added);
        }
        let catalog = doc.catalog_mut().map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "the PDF has no catalog"))?;
        if entries.is_empty() && placement == Placement::Replace {
            catalog.remove(b"Outlines");
        } else {
            catalog.set("Outlines", Object::Reference(root));
            catalog.set("PageMode", Object::Name(b"UseOutlines".to_vec()));
        }
        doc.prune_objects();
        let bookmarks = read_outline(&doc);
        save_atomic(&mut doc, out)?;
        Ok(OutlineReport { pages: prepared.pages, bookmarks })
    })
}

fn check_entries(entries: &[Bookmark], pages: u32) -> Result<(), ToolError> {
    let mut previous_level = 0;
    for (index, entry) in entries.iter().enumerate() {
        let field = |name: &str| format!("bookmarks[{index}].{name}");
        if entry.title.trim().is_empty() || entry.title.chars().count() > MAX_TITLE_CHARS {
            return Err(ToolError::invalid_param(
                &field("title"),
                format!("give a title of 1 to {MAX_TITLE_CHARS} characters"),
            ));
        }
        if entry.level == 0 || entry.level > previous_level + 1 || entry.level > MAX_DEPTH {
            let why =
                format!("{} follows a bookmark of level {previous_level}: at most {}", entry.level, previous_level + 1);
            return Err(ToolError::invalid_param(&field("level"), why));
        }
        match entry.page {
            Some(page) if (1..=pages).contains(&page) => {}
            Some(page) => {
                return Err(ToolError::invalid_param(
                    &field("page"),
                    format!("{page}: the document has {pages} pages"),
                ));
            }
            None => return Err(ToolError::invalid_param(&field("page"), "required")),
        }
        previous_level = entry.level;
    }
    Ok(())
}

/// Makes the items for `entries` (already checked) under `root`; returns the top-level ones.
fn build_items(doc: &mut Document, root: ObjectId, entries: &[Bookmark], page_ids: &[ObjectId]) -> Vec<ObjectId> {
    let ids: Vec<ObjectId> = entries.iter().map(|_| doc.new_object_id()).collect();
    let mut children: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    let mut parents: Vec<ObjectId> = vec![root];
    let mut descendants: HashMap<ObjectId, i64> = HashMap::new();
    for (entry, &id) in entries.iter().zip(&ids) {
        parents.truncate(entry.level as usize);
        let parent = *parents.last().unwrap_or(&root);
        children.entry(parent).or_default().push(id);
        for ancestor in parents.iter().skip(1) {
            *descendants.entry(*ancestor).or_default() += 1;
        }
        parents.push(id);
    }
    for (entry, &id) in entries.iter().zip(&ids) {
        let page = page_ids[entry.page.unwrap_or(1) as usize - 1];
        let mut item = Dictionary::new();
        item.set("Title", text_string(&entry.title));
        item.set("Dest", vec![Object::Reference(page), Object::Name(b"Fit".to_vec())]);
        doc.objects.insert(id, Object::Dictionary(item));
    }
    for (&parent, kids) in &children {
        for (index, &kid) in kids.iter().enumerate() {
            if let Ok(item) = doc.get_dictionary_mut(kid) {
                item.set("Parent", Object::Reference(parent));
                if let Some(previous) = index.checked_sub(1).map(|i| kids[i]) {
                    item.set("Prev", Object::Reference(previous));
                }
                if let Some(&next) = kids.get(index + 1) {
                    item.set("Next", Object::Reference(next));
                }
                if let Some(grandchildren) = children.get(&kid) {
                    item.set("First", Object::Reference(grandchildren[0]));
                    item.set("Last", Object::Reference(grandchildren[grandchildren.len() - 1]));
                    item.set("Count", descendants.get(&kid).copied().unwrap_or(0));
                }
            }
        }
    }
    children.remove(&root).unwrap_or_default()
}

/// The outline as a flat list, depth first.
pub(crate) fn read_outline(doc: &Document) -> Vec<Bookmark> {
    let root = doc.catalog().ok().and_then(|c| deref(doc, c.get(b"Outlines").ok())).and_then(|o| o.as_dict().ok());
    let Some(root) = root else { return Vec::new() };
    let page_numbers: HashMap<ObjectId, u32> = doc.get_pages().into_iter().map(|(n, id)| (id, n)).collect();
    let names = NamedDests::collect(doc);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let first = root.get(b"First").ok().and_then(|o| o.as_reference().ok());
    read_items(doc, first, 1, &page_numbers, &names, &mut seen, &mut out);
    out
}

fn read_items(
    doc: &Document,
    first: Option<ObjectId>,
    level: u32,
    page_numbers: &HashMap<ObjectId, u32>,
    names: &NamedDests,
    seen: &mut HashSet<ObjectId>,
    out: &mut Vec<Bookmark>,
) {
    let mut next = first;
    while let Some(id) = next
        && level <= MAX_DEPTH
        && out.len() < MAX_ITEMS
        && seen.insert(id)
    {
        let Ok(item) = doc.get_dictionary(id) else { return };
        let title = item.get(b"Title").ok().and_then(|t| deref(doc, Some(t))).and_then(decode_text).unwrap_or_default();
        let page = target(doc, item, names).and_then(|target| match target {
            Object::Reference(page) => page_numbers.get(page).copied(),
            _ => None,
        });
        out.push(Bookmark { title, level, page });
        let child = item.get(b"First").ok().and_then(|o| o.as_reference().ok());
        read_items(doc, child, level + 1, page_numbers, names, seen, out);
        next = item.get(b"Next").ok().and_then(|o| o.as_reference().ok());
    }
}

/// The first element of an item's destination: the page it opens.
fn target<'a>(doc: &'a Document, item: &'a Dictionary, names: &'a NamedDests) -> Option<&'a Object> {
    let dest = match item.get(b"Dest") {
        Ok(dest) => deref(doc, Some(dest))?,
        Err(_) => {
            let action = deref(doc, item.get(b"A").ok())?.as_dict().ok()?;
            if action.get(b"S").and_then(Object::as_name).ok()? != b"GoTo" {
                return None;
            }
            deref(doc, action.get(b"D").ok())?
        }
    };
    let explicit = match dest {
        Object::Name(name) | Object::String(name, _) => deref(doc, names.get(name))?,
        other => other,
    };
    let explicit = match explicit {
        Object::Dictionary(dict) => deref(doc, dict.get(b"D").ok())?,
        other => other,
    };
    explicit.as_array().ok()?.first()
}
