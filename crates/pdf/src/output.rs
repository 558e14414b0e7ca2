//! A fresh output document: one catalog, one flat page tree, the source's `Info`.

use lopdf::{Dictionary, Document, Object, ObjectId};

pub(crate) struct OutputDoc {
    pub(crate) doc: Document,
    pages_id: ObjectId,
}

impl OutputDoc {
    /// An empty document declaring `version` (raised to 1.5 by lopdf's writer, which uses an
    /// xref stream).
    pub(crate) fn new(version: &str) -> Self {
        let mut doc = Document::with_version(version);
        let pages_id = doc.new_object_id();
        Self { doc, pages_id }
    }

    /// Raises the version to declare to `version` if that is newer (a merge of 1.4 and 1.7 is 1.7).
    pub(crate) fn raise_version(&mut self, version: &str) {
        if parse_version(version) > parse_version(&self.doc.version) {
            self.doc.version = version.to_owned();
        }
    }

    /// The id of the `/Pages` node: the parent every page must name.
    pub(crate) fn pages_id(&self) -> ObjectId {
        self.pages_id
    }

    /// Whether the declared version is later than `version`.
    pub(crate) fn is_later_than(&self, version: &str) -> bool {
        parse_version(&self.doc.version) > parse_version(version)
    }

    /// Installs the page tree over `kids` (in order) and the catalog, with `catalog_extra`
    /// entries (outline, page mode) and the `info` dictionary, already in target space.
    pub(crate) fn finish(mut self, kids: &[ObjectId], catalog_extra: Dictionary, info: Option<Object>) -> Document {
        let mut pages = Dictionary::new();
        pages.set("Type", Object::Name(b"Pages".to_vec()));
        pages.set("Kids", kids.iter().map(|&id| Object::Reference(id)).collect::<Vec<_>>());
        pages.set("Count", kids.len() as i64);
        self.doc.objects.insert(self.pages_id, Object::Dictionary(pages));

        let mut catalog = catalog_extra;
        catalog.set("Type", Object::Name(b"Catalog".to_vec()));
        catalog.set("Pages", Object::Reference(self.pages_id));
        let catalog_id = self.doc.add_object(catalog);
        self.doc.trailer.set("Root", Object::Reference(catalog_id));
        match info {
            Some(Object::Dictionary(info)) => {
                let info_id = self.doc.add_object(info);
                self.doc.trailer.set("Info", Object::Reference(info_id));
            }
            Some(reference @ Object::Reference(_)) => self.doc.trailer.set("Info", reference),
            _ => {}
        }
        self.doc
    }
}

/// `"1.7"` → (1, 7); anything unreadable sorts first, so a sane version wins.
fn parse_version(version: &str) -> (u32, u32) {
    let mut parts = version.trim().splitn(2, '.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The version to declare for an output of a source that declared `version`.
pub(crate) fn sane_version(version: &str) -> &str {
    if parse_version(version) >= (1, 0) && parse_version(version) <= (2, 0) { version.trim() } else { "1.4" }
}
