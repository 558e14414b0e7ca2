//! A document's named destinations, so links and bookmarks can be rewritten to explicit ones:
//! an output does not carry the source's name tree, and pdfTeX/hyperref documents link almost
//! only by name.

use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::{HashMap, HashSet};

/// Name → explicit destination (an array whose first element is the page), in source ids.
#[derive(Default)]
pub(crate) struct NamedDests(HashMap<Vec<u8>, Object>);

/// Name trees deeper than this are hostile; real ones are 3–5 levels deep.
const MAX_TREE_DEPTH: usize = 64;

impl NamedDests {
    /// Reads both places names live: the PDF 1.1 `/Dests` dictionary and the `/Names /Dests` tree.
    pub(crate) fn collect(doc: &Document) -> Self {
        let mut table = Self::default();
        let Ok(catalog) = doc.catalog() else { return table };
        if let Some(dests) = deref(doc, catalog.get(b"Dests").ok()).and_then(|o| o.as_dict().ok()) {
            for (name, value) in dests.iter() {
                table.insert(doc, name.clone(), value);
            }
        }
        let names = deref(doc, catalog.get(b"Names").ok()).and_then(|o| o.as_dict().ok());
        if let Some(tree) = names.and_then(|n| n.get(b"Dests").ok()) {
            table.read_name_tree(doc, tree);
        }
        table
    }

    pub(crate) fn get(&self, name: &[u8]) -> Option<&Object> {
        self.0.get(name)
    }

    fn insert(&mut self, doc: &Document, name: Vec<u8>, value: &Object) {
        if let Some(explicit) = explicit_destination(doc, value) {
            self.0.entry(name).or_insert_with(|| explicit.clone());
        }
    }

    /// Walks the tree without recursion; `seen` stops reference cycles.
    fn read_name_tree(&mut self, doc: &Document, root: &Object) {
        let mut seen = HashSet::<ObjectId>::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((node, depth)) = stack.pop() {
            if let Object::Reference(id) = node
                && !seen.insert(*id)
            {
                continue;
            }
            let Some(node) = deref(doc, Some(node)).and_then(|o| o.as_dict().ok()) else { continue };
            self.read_leaf(doc, node);
            if depth < MAX_TREE_DEPTH
                && let Some(kids) = deref(doc, node.get(b"Kids").ok()).and_then(|o| o.as_array().ok())
            {
                stack.extend(kids.iter().map(|kid| (kid, depth + 1)));
            }
        }
    }

    fn read_leaf(&mut self, doc: &Document, node: &Dictionary) {
        let Some(pairs) = deref(doc, node.get(b"Names").ok()).and_then(|o| o.as_array().ok()) else { return };
        for pair in pairs.chunks_exact(2) {
            if let Some(Object::String(name, _) | Object::Name(name)) = deref(doc, Some(&pair[0])) {
                self.insert(doc, name.clone(), &pair[1]);
            }
        }
    }
}

/// The explicit destination array a destination value stands for: the array itself, or the
/// `/D` entry of a destination dictionary.
fn explicit_destination<'a>(doc: &'a Document, value: &'a Object) -> Option<&'a Object> {
    match deref(doc, Some(value))? {
        array @ Object::Array(_) => Some(array),
        Object::Dictionary(dict) => match deref(doc, dict.get(b"D").ok())? {
            array @ Object::Array(_) => Some(array),
            _ => None,
        },
        _ => None,
    }
}

/// Follows a few references (chains longer than that are broken or hostile).
pub(crate) fn deref<'a>(doc: &'a Document, mut object: Option<&'a Object>) -> Option<&'a Object> {
    for _ in 0..8 {
        match object? {
            Object::Reference(id) => object = doc.objects.get(id),
            direct => return Some(direct),
        }
    }
    None
}
