//! The object-graph copier behind merge and split: copies the objects the chosen pages reach
//! from a source document into a target document, renumbering them into the target's id space.
//!
//! Only reachable objects travel, so splitting a 1000-page book costs each part what its pages
//! use, not the whole file. What must not travel is cut off: the source's page tree and catalog
//! (the target has its own), pages that are not part of the output, and annotations that belong
//! to such pages. Destinations are rewritten as they pass (see [`crate::dests`]).

use crate::dests::{NamedDests, deref};
use crate::page_tree::{blank_page, materialise_inherited};
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::{HashMap, HashSet};

/// Where copied objects come from: a borrowed document is cloned from (split reads one source
/// many times); an owned one is emptied as it is copied (merge reads each source once, and
/// moving stream data is free while cloning it is not).
pub(crate) trait ObjectSource {
    fn doc(&self) -> &Document;
    fn take(&mut self, id: ObjectId) -> Option<Object>;
}

impl ObjectSource for &Document {
    fn doc(&self) -> &Document {
        self
    }
    fn take(&mut self, id: ObjectId) -> Option<Object> {
        self.objects.get(&id).cloned()
    }
}

impl ObjectSource for Document {
    fn doc(&self) -> &Document {
        self
    }
    fn take(&mut self, id: ObjectId) -> Option<Object> {
        self.objects.remove(&id)
    }
}

pub(crate) struct Copier<'a, S> {
    source: S,
    target: &'a mut Document,
    names: &'a NamedDests,
    /// The target's `/Pages` node: the parent of every copied page.
    page_parent: ObjectId,
    /// Source id → target id, for every object copied or about to be.
    map: HashMap<ObjectId, ObjectId>,
    /// The source pages that will be in the output (registered up front, so links can tell a
    /// page that is coming from one that is not).
    pages: HashSet<ObjectId>,
    copied_pages: HashSet<ObjectId>,
    pending: Vec<ObjectId>,
}

impl<'a, S: ObjectSource> Copier<'a, S> {
    pub(crate) fn new(source: S, target: &'a mut Document, names: &'a NamedDests, page_parent: ObjectId) -> Self {
        Self {
            source,
            target,
            names,
            page_parent,
            map: HashMap::new(),
            pages: HashSet::new(),
            copied_pages: HashSet::new(),
            pending: Vec::new(),
        }
    }

    /// Declares the source pages of the output; call before copying anything.
    pub(crate) fn register_pages(&mut self, pages: &[ObjectId]) {
        for &page in pages {
            if self.pages.insert(page) {
                let new = self.target.new_object_id();
                self.map.insert(page, new);
            }
        }
    }

    /// Copies one registered page and everything it reaches; returns its id in the target.
    /// A page listed twice gets a second page object sharing the first one's content.
    pub(crate) fn copy_page(&mut self, page_id: ObjectId) -> ObjectId {
        self.register_pages(&[page_id]);
        let new = self.map[&page_id];
        if !self.copied_pages.insert(page_id) {
            return self.duplicate_page(new);
        }
        let mut page = match self.source.take(page_id) {
            Some(Object::Dictionary(page)) => page,
            _ => blank_page(),
        };
        materialise_inherited(self.source.doc(), &mut page);
        page.remove(b"Parent");
        // Article beads chain through other pages and need the catalog's thread list.
        page.remove(b"B");
        let mut page = self.rewrite_dict(page);
        page.set("Parent", Object::Reference(self.page_parent));
        self.target.objects.insert(new, Object::Dictionary(page));
        self.drain();
        new
    }

    fn duplicate_page(&mut self, first_copy: ObjectId) -> ObjectId {
        let copy = self.target.objects.get(&first_copy).cloned().unwrap_or_else(|| Object::Dictionary(blank_page()));
        let new = self.target.new_object_id();
        self.target.objects.insert(new, copy);
        new
    }

    /// Copies a source-space object (a dictionary from the catalog, a reference) and everything
    /// it reaches; returns it in target space.
    pub(crate) fn copy(&mut self, object: Object) -> Object {
        let object = self.rewrite(object);
        self.drain();
        object
    }

    fn drain(&mut self) {
        while let Some(old) = self.pending.pop() {
            let object = self.source.take(old).unwrap_or(Object::Null);
            let object = self.rewrite(object);
            self.target.objects.insert(self.map[&old], object);
        }
    }

    fn rewrite(&mut self, object: Object) -> Object {
        match object {
            Object::Reference(id) => self.copy_ref(id),
            Object::Array(items) => Object::Array(items.into_iter().map(|item| self.rewrite(item)).collect()),
            Object::Dictionary(dict) => Object::Dictionary(self.rewrite_dict(dict)),
            Object::Stream(mut stream) => {
                // A direct length: an indirect one would be copied as an object of its own.
                stream.dict.set("Length", stream.content.len() as i64);
                stream.dict = self.rewrite_dict(stream.dict);
                Object::Stream(stream)
            }
            direct => direct,
        }
    }

    fn rewrite_dict(&mut self, mut dict: Dictionary) -> Dictionary {
        self.fix_destinations(&mut dict);
        for (_, value) in dict.iter_mut() {
            let old = std::mem::replace(value, Object::Null);
            *value = self.rewrite(old);
        }
        dict
    }

    /// The target reference for a source reference: an existing copy, a newly scheduled one,
    /// or `null` for what must not travel.
    fn copy_ref(&mut self, id: ObjectId) -> Object {
        if let Some(&new) = self.map.get(&id) {
            return Object::Reference(new);
        }
        match self.source.doc().objects.get(&id) {
            Some(object) if !self.stays_behind(object) => {
                let new = self.target.new_object_id();
                self.map.insert(id, new);
                self.pending.push(id);
                Object::Reference(new)
            }
            _ => Object::Null,
        }
    }

    fn stays_behind(&self, object: &Object) -> bool {
        let dict = match object {
            Object::Dictionary(dict) => dict,
            Object::Stream(stream) => &stream.dict,
            _ => return false,
        };
        match dict.get_type() {
            // Registered pages are in `map` already, so any page reaching here is not in the output.
            // The structure tree (reached from a bookmark's /SE) spans every page and needs the catalog.
            Ok(b"Page" | b"Pages" | b"Catalog" | b"ObjStm" | b"XRef" | b"StructTreeRoot" | b"StructElem") => true,
            _ => self.is_foreign_annotation(dict),
        }
    }

    /// An annotation whose page (`/P`) is left behind: a form field's widget on another page.
    fn is_foreign_annotation(&self, dict: &Dictionary) -> bool {
        match (dict.has(b"Subtype") && dict.has(b"Rect"), dict.get(b"P")) {
            (true, Ok(Object::Reference(page))) => !self.pages.contains(page) && self.is_page(*page),
            _ => false,
        }
    }

    fn is_page(&self, id: ObjectId) -> bool {
        self.source.doc().get_dictionary(id).is_ok_and(|d| d.has_type(b"Page"))
    }

    /// Resolves named destinations to explicit ones and removes links to pages left behind.
    fn fix_destinations(&self, dict: &mut Dictionary) {
        if let Ok(dest) = dict.get(b"Dest") {
            match self.live_destination(dest) {
                Some(explicit) => dict.set("Dest", explicit),
                None => drop(dict.remove(b"Dest")),
            }
        }
        if is_goto(dict)
            && let Some(explicit) = dict.get(b"D").ok().and_then(|d| self.live_destination(d))
        {
            dict.set("D", explicit);
        }
        if dict.get(b"A").is_ok_and(|action| self.is_dead_goto(action)) {
            dict.remove(b"A");
        }
    }

    /// The explicit destination `dest` stands for, or `None` when its page is not in the output
    /// (or it names nothing).
    fn live_destination(&self, dest: &Object) -> Option<Object> {
        if let Object::Reference(id) = dest
            && self.map.contains_key(id)
        {
            return Some(dest.clone());
        }
        let explicit = match deref(self.source.doc(), Some(dest))? {
            Object::Name(name) | Object::String(name, _) => self.names.get(name)?.clone(),
            array @ Object::Array(_) => array.clone(),
            _ => return None,
        };
        match explicit.as_array().ok()?.first()? {
            Object::Reference(page) if !self.pages.contains(page) => None,
            _ => Some(explicit),
        }
    }

    fn is_dead_goto(&self, action: &Object) -> bool {
        if let Object::Reference(id) = action
            && self.map.contains_key(id)
        {
            return false;
        }
        match deref(self.source.doc(), Some(action)).and_then(|a| a.as_dict().ok()) {
            Some(action) if is_goto(action) => action.get(b"D").map_or(true, |d| self.live_destination(d).is_none()),
            _ => false,
        }
    }
}

fn is_goto(dict: &Dictionary) -> bool {
    matches!(dict.get(b"S"), Ok(Object::Name(name)) if name == b"GoTo")
}
