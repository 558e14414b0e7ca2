//! Merge: the pages of several PDFs, one input after another, into one file.
//!
//! Inputs are read one at a time. Each input's pages and what they reach are *moved* into the
//! output (no copy of stream data) and written to disk at once, so memory holds one parsed
//! input, not the whole output: a parsed PDF takes some 25 times its file size. Only what
//! changes at the end stays behind: each input's outline root, and the page tree, outline root
//! and catalog, written last.
//!
//! With any input carrying bookmarks, every input becomes one closed top-level bookmark (its
//! title) that holds the input's own outline.

use crate::copy::Copier;
use crate::dests::{NamedDests, deref};
use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::output::{OutputDoc, sane_version};
use crate::page_tree::page_count;
use crate::save::StreamingPdf;
use crate::streams::{prepare_page_contents, reencode_brotli};
use lopdf::{Dictionary, Document, Object, ObjectId, text_string};
use scanpro_core::ToolError;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The header's version: later versions go in the catalog, once every input has been read.
const HEADER_VERSION: &str = "1.4";

/// What a merge produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    /// Pages in the output.
    pub pages: u32,
    /// Pages each input contributed, in output order.
    pub input_pages: Vec<u32>,
    /// Whether the output has bookmarks (one per input, holding the input's own).
    pub bookmarks: bool,
}

/// Merges `inputs` taken in `order` (0-based indices into `inputs`) into `out`. Bookmark titles
/// are the inputs' file stems.
pub fn merge(inputs: &[PathBuf], order: &[usize], out: &Path) -> Result<MergeReport, ToolError> {
    let titles: Vec<String> =
        inputs.iter().map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()).collect();
    merge_with_titles(inputs, &titles, order, out)
}

/// [`merge`] with the title of each input given (the user's file name, when the path is a
/// storage key). Titles also prefix the error of an input that fails to open.
pub fn merge_with_titles(
    inputs: &[PathBuf],
    titles: &[String],
    order: &[usize],
    out: &Path,
) -> Result<MergeReport, ToolError> {
    guarded("merge", || {
        check_order(inputs.len(), titles.len(), order)?;
        let mut merger = Merger::new(out)?;
        for &index in order {
            merger.add(&inputs[index], &titles[index])?;
        }
        merger.finish()
    })
}

/// A merge in progress: the output file so far, and what is held back for the end.
struct Merger {
    sink: StreamingPdf,
    /// Ids, the version to declare, and the objects not yet written.
    output: OutputDoc,
    parts: Vec<Part>,
}

impl Merger {
    fn new(out: &Path) -> Result<Self, ToolError> {
        Ok(Self {
            sink: StreamingPdf::create(out, HEADER_VERSION)?,
            output: OutputDoc::new(HEADER_VERSION),
            parts: Vec::new(),
        })
    }

    /// Reads one input, moves its pages into the output and writes them out.
    fn add(&mut self, input: &Path, title: &str) -> Result<(), ToolError> {
        let name_input = |e: ToolError| ToolError::new(e.code, format!("{title}: {}", e.message));
        let mut source = open_unguarded(input).map_err(name_input)?;
        reencode_brotli(&mut source);
        let pages: Vec<ObjectId> = source.page_iter().collect();
        prepare_page_contents(&mut source, (1..).zip(pages)).map_err(name_input)?;
        self.output.raise_version(sane_version(&source.version));
        let keep_info = self.parts.is_empty();
        let pages_id = self.output.pages_id();
        self.parts.push(move_document(source, &mut self.output.doc, pages_id, title, keep_info));
        let outline_roots: HashSet<ObjectId> = self.parts.iter().filter_map(|p| p.outline).collect();
        write_all_but(&mut self.output.doc, &outline_roots, &mut self.sink)
    }

    /// Writes the page tree, the outline, the catalog and the cross-reference table.
    fn finish(mut self) -> Result<MergeReport, ToolError> {
        let kids: Vec<ObjectId> = self.parts.iter().flat_map(|p| p.pages.iter().copied()).collect();
        let pages = page_count(kids.len())?;
        let input_pages = self.parts.iter().map(|p| page_count(p.pages.len())).collect::<Result<_, _>>()?;
        let mut catalog = Dictionary::new();
        if self.output.is_later_than(HEADER_VERSION) {
            catalog.set("Version", Object::Name(self.output.doc.version.clone().into_bytes()));
        }
        let bookmarks = self.parts.iter().any(|p| p.outline.is_some());
        if bookmarks {
            let root = build_outline(&mut self.output.doc, &self.parts);
            catalog.set("Outlines", Object::Reference(root));
            catalog.set("PageMode", Object::Name(b"UseOutlines".to_vec()));
        }
        let info = self.parts.iter_mut().find_map(|p| p.info.take());
        let mut rest = self.output.finish(&kids, catalog, info);
        write_all_but(&mut rest, &HashSet::new(), &mut self.sink)?;
        self.sink.finish(rest.trailer)?;
        Ok(MergeReport { pages, input_pages, bookmarks })
    }
}

/// Writes out every object of `doc` except `held` ones, which stay for later changes.
fn write_all_but(doc: &mut Document, held: &HashSet<ObjectId>, sink: &mut StreamingPdf) -> Result<(), ToolError> {
    for (id, object) in std::mem::take(&mut doc.objects) {
        if held.contains(&id) {
            doc.objects.insert(id, object);
        } else {
            sink.write(id, &object)?;
        }
    }
    Ok(())
}

fn check_order(inputs: usize, titles: usize, order: &[usize]) -> Result<(), ToolError> {
    if titles != inputs {
        return Err(ToolError::internal(format!("merge: {inputs} inputs but {titles} titles")));
    }
    if order.is_empty() {
        return Err(ToolError::invalid_param("order", "at least one input is needed"));
    }
    match order.iter().find(|&&i| i >= inputs) {
        Some(bad) => Err(ToolError::invalid_param("order", format!("index {bad} does not exist ({inputs} inputs)"))),
        None => Ok(()),
    }
}

/// One input's contribution, in target ids.
struct Part {
    title: String,
    pages: Vec<ObjectId>,
    /// The input's outline root, copied (it becomes this input's top-level bookmark).
    outline: Option<ObjectId>,
    info: Option<Object>,
}

/// Moves `source`'s pages (children of `pages_id`), outline and, with `keep_info`, its `Info`
/// into `target`.
fn move_document(source: Document, target: &mut Document, pages_id: ObjectId, title: &str, keep_info: bool) -> Part {
    let names = NamedDests::collect(&source);
    let page_ids: Vec<ObjectId> = source.page_iter().collect();
    let outline_root = outline_root(&source);
    let info = source.trailer.get(b"Info").ok().filter(|_| keep_info).cloned();
    let mut copier = Copier::new(source, target, &names, pages_id);
    copier.register_pages(&page_ids);
    let pages = page_ids.iter().map(|&page| copier.copy_page(page)).collect();
    let outline = outline_root.and_then(|root| match copier.copy(Object::Reference(root)) {
        Object::Reference(id) => Some(id),
        _ => None,
    });
    let info = info.map(|info| copier.copy(info));
    drop(copier);
    if let Some(root) = outline {
        close_outline(target, root);
    }
    Part { title: title.to_owned(), pages, outline, info }
}

/// Gives a copied outline root the negative `/Count` of a closed item (how many items show
/// once it is opened), counting its children while they are still in memory.
fn close_outline(doc: &mut Document, root: ObjectId) {
    let Ok(dict) = doc.get_dictionary(root) else { return };
    let visible = match dict.get(b"Count").and_then(Object::as_i64) {
        Ok(count) if count != 0 => count.abs(),
        _ => count_children(doc, dict.get(b"First").ok()),
    };
    if let Ok(dict) = doc.get_dictionary_mut(root) {
        dict.set("Count", -visible);
    }
}

/// The id of the outline root, when the input has at least one bookmark.
fn outline_root(doc: &Document) -> Option<ObjectId> {
    let root = doc.catalog().ok()?.get(b"Outlines").ok()?.as_reference().ok()?;
    let has_items = deref(doc, Some(&Object::Reference(root)))?.as_dict().ok()?.has(b"First");
    has_items.then_some(root)
}

/// A new outline root with one closed item per input, each holding that input's outline.
fn build_outline(doc: &mut Document, parts: &[Part]) -> ObjectId {
    let root = doc.new_object_id();
    let items: Vec<ObjectId> = parts.iter().map(|part| part.outline.unwrap_or_else(|| doc.new_object_id())).collect();
    for (index, (part, &id)) in parts.iter().zip(&items).enumerate() {
        let mut item = match doc.objects.remove(&id) {
            Some(Object::Dictionary(old_root)) => input_item(old_root),
            _ => Dictionary::new(),
        };
        item.set("Title", text_string(&part.title));
        item.set("Parent", Object::Reference(root));
        let first_page = Object::Reference(part.pages[0]);
        item.set("Dest", vec![first_page, Object::Name(b"Fit".to_vec())]);
        link_sibling(&mut item, "Prev", index.checked_sub(1).map(|i| items[i]));
        link_sibling(&mut item, "Next", items.get(index + 1).copied());
        doc.objects.insert(id, Object::Dictionary(item));
    }
    let mut outlines = Dictionary::new();
    outlines.set("Type", Object::Name(b"Outlines".to_vec()));
    outlines.set("First", Object::Reference(items[0]));
    outlines.set("Last", Object::Reference(items[items.len() - 1]));
    outlines.set("Count", items.len() as i64);
    doc.objects.insert(root, Object::Dictionary(outlines));
    root
}

/// An input's outline root turned into an ordinary item: it keeps `First`, `Last` and the
/// closed `Count` [`close_outline`] gave it.
fn input_item(old_root: Dictionary) -> Dictionary {
    let mut item = Dictionary::new();
    for key in [&b"First"[..], b"Last", b"Count"] {
        if let Ok(value) = old_root.get(key) {
            item.set(key, value.clone());
        }
    }
    item
}

/// The items in a `/Next` chain, bounded so a cyclic chain ends.
fn count_children(doc: &Document, first: Option<&Object>) -> i64 {
    let mut count = 0;
    let mut next = first.and_then(|o| o.as_reference().ok());
    while let Some(id) = next
        && count < 100_000
    {
        count += 1;
        next = doc.get_dictionary(id).ok().and_then(|d| d.get(b"Next").ok()).and_then(|o| o.as_reference().ok());
    }
    count
}

fn link_sibling(item: &mut Dictionary, key: &str, sibling: Option<ObjectId>) {
    if let Some(id) = sibling {
        item.set(key, Object::Reference(id));
    }
}
