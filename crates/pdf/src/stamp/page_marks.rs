//! Putting imported marks on pages: each page gets the marks' forms in its resources and a
//! few bytes of content drawing them, around its own content.
//!
//! What pages can share, they share: the `q` stream, identical mark streams, one form per
//! (content, opacity), and new resource dictionaries for pages that shared the old one. A
//! resource dictionary a page has to itself is extended in place, so the file does not keep
//! a stale copy of it.

use super::geometry::{Matrix, PageFrame, place};
use super::{Layer, Mark};
use crate::dests::deref;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use scanpro_core::{ErrorCode, ToolError};
use std::collections::HashMap;

/// Form object → its resource name on one page.
type PageNames = HashMap<ObjectId, Vec<u8>>;

pub(super) struct PageWriter<'a> {
    /// Content `i` drawn at full opacity.
    forms: &'a [ObjectId],
    /// Content `i`'s size in its own space.
    sizes: &'a [(f32, f32)],
    /// Resource dictionary object → how many pages use it.
    resource_users: HashMap<ObjectId, usize>,
    save_state: Option<ObjectId>,
    streams: HashMap<Vec<u8>, ObjectId>,
    /// (content, opacity bits) → a form drawing the content at that opacity.
    translucent: HashMap<(usize, u32), ObjectId>,
    /// (shared resources, forms added) → the new resources and their names.
    shared_resources: HashMap<(ObjectId, Vec<ObjectId>), (ObjectId, PageNames)>,
}

impl<'a> PageWriter<'a> {
    pub(super) fn new(doc: &Document, page_ids: &[ObjectId], forms: &'a [ObjectId], sizes: &'a [(f32, f32)]) -> Self {
        let mut resource_users = HashMap::new();
        for &page in page_ids {
            if let Ok(Object::Reference(id)) = doc.get_dictionary(page).and_then(|p| p.get(b"Resources")) {
                *resource_users.entry(*id).or_default() += 1;
            }
        }
        Self {
            forms,
            sizes,
            resource_users,
            save_state: None,
            streams: HashMap::new(),
            translucent: HashMap::new(),
            shared_resources: HashMap::new(),
        }
    }

    pub(super) fn stamp_page(
        &mut self,
        doc: &mut Document,
        page_id: ObjectId,
        marks: &[Mark],
    ) -> Result<(), ToolError> {
        let page = doc
            .get_dictionary(page_id)
            .map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "a page is not a dictionary"))?;
        let frame = PageFrame::of(doc, page);
        let page = page.clone();
        let forms: Vec<ObjectId> = marks.iter().map(|mark| self.form_for(doc, mark)).collect();
        let (resources, names) = self.page_resources(doc, &page, &forms);
        let mut under = Vec::new();
        let mut over = b"\nQ\n".to_vec();
        for (mark, form) in marks.iter().zip(&forms) {
            let target = if mark.placement.layer == Layer::Under { &mut under } else { &mut over };
            for matrix in place(&frame, self.sizes[mark.content], &mark.placement)? {
                draw_form(target, matrix, &names[form]);
            }
        }
        let contents = self.contents_with_marks(doc, page_id, under, over);
        let page = doc.get_dictionary_mut(page_id).map_err(|_| ToolError::internal("page vanished"))?;
        page.set("Resources", resources);
        page.set("Contents", contents);
        Ok(())
    }

    /// The form that draws `mark`'s content at its opacity: the content's own when opaque,
    /// else a wrapper setting the opacity (so pages need no opacity state of their own).
    fn form_for(&mut self, doc: &mut Document, mark: &Mark) -> ObjectId {
        let opacity = mark.placement.opacity.clamp(0.0, 1.0);
        let inner = self.forms[mark.content];
        if opacity >= 1.0 {
            return inner;
        }
        let (width, height) = self.sizes[mark.content];
        *self.translucent.entry((mark.content, opacity.to_bits())).or_insert_with(|| {
            let mut state = Dictionary::new();
            state.set("Type", Object::Name(b"ExtGState".to_vec()));
            state.set("CA", Object::Real(opacity));
            state.set("ca", Object::Real(opacity));
            let mut resources = Dictionary::new();
            resources.set("ExtGState", Dictionary::from_iter([("Opacity", Object::Dictionary(state))]));
            resources.set("XObject", Dictionary::from_iter([("Mark", Object::Reference(inner))]));
            let mut dict = Dictionary::new();
            dict.set("Type", Object::Name(b"XObject".to_vec()));
            dict.set("Subtype", Object::Name(b"Form".to_vec()));
            dict.set("BBox", vec![0.into(), 0.into(), Object::Real(width), Object::Real(height)]);
            dict.set("Resources", resources);
            doc.add_object(Stream::new(dict, b"/Opacity gs /Mark Do".to_vec()))
        })
    }

    /// The page's resources with `forms` added: in place when the page has its resource
    /// dictionary to itself; else a new dictionary, shared in turn by the pages that shared
    /// the old one and get the same forms.
    fn page_resources(&mut self, doc: &mut Document, page: &Dictionary, forms: &[ObjectId]) -> (Object, PageNames) {
        match page.get(b"Resources") {
            Ok(&Object::Reference(id)) if self.resource_users.get(&id).copied().unwrap_or(0) > 1 => {
                self.shared_page_resources(doc, id, forms)
            }
            Ok(&Object::Reference(id)) => {
                let (resources, names) = with_forms(doc, page, forms);
                doc.objects.insert(id, Object::Dictionary(resources));
                (Object::Reference(id), names)
            }
            _ => {
                let (resources, names) = with_forms(doc, page, forms);
                (Object::Dictionary(resources), names)
            }
        }
    }

    fn shared_page_resources(
        &mut self,
        doc: &mut Document,
        shared: ObjectId,
        forms: &[ObjectId],
    ) -> (Object, PageNames) {
        let key = (shared, forms.to_vec());
        if let Some((id, names)) = self.shared_resources.get(&key) {
            return (Object::Reference(*id), names.clone());
        }
        hoist_subdictionaries(doc, shared);
        let page = Dictionary::from_iter([("Resources", Object::Reference(shared))]);
        let (resources, names) = with_forms(doc, &page, forms);
        let id = doc.add_object(resources);
        self.shared_resources.insert(key, (id, names.clone()));
        (Object::Reference(id), names)
    }

    /// The page's content streams with the marks around them: `[under] q [original…] Q over`.
    fn contents_with_marks(
        &mut self,
        doc: &mut Document,
        page_id: ObjectId,
        under: Vec<u8>,
        over: Vec<u8>,
    ) -> Vec<Object> {
        let original = original_contents(doc, page_id);
        let has_over = over.len() > b"\nQ\n".len();
        let mut contents = Vec::with_capacity(original.len() + 3);
        if !under.is_empty() {
            contents.push(Object::Reference(self.shared_stream(doc, under)));
        }
        if has_over {
            let save =
                *self.save_state.get_or_insert_with(|| doc.add_object(Stream::new(Dictionary::new(), b"q\n".to_vec())));
            contents.push(Object::Reference(save));
        }
        contents.extend(original);
        if has_over {
            contents.push(Object::Reference(self.shared_stream(doc, over)));
        }
        contents
    }

    /// A content stream holding `bytes`, shared with every page that needs the same bytes.
    fn shared_stream(&mut self, doc: &mut Document, bytes: Vec<u8>) -> ObjectId {
        if let Some(&id) = self.streams.get(&bytes) {
            return id;
        }
        let id = doc.add_object(Stream::new(Dictionary::new(), bytes.clone()));
        self.streams.insert(bytes, id);
        id
    }
}

/// A copy of the page's resources with `forms` added to its XObjects, under names it does
/// not use yet.
fn with_forms(doc: &Document, page: &Dictionary, forms: &[ObjectId]) -> (Dictionary, PageNames) {
    let mut resources =
        deref(doc, page.get(b"Resources").ok()).and_then(|r| r.as_dict().ok()).cloned().unwrap_or_default();
    let mut xobjects =
        deref(doc, resources.get(b"XObject").ok()).and_then(|d| d.as_dict().ok()).cloned().unwrap_or_default();
    let mut names = PageNames::new();
    for &form in forms {
        names.entry(form).or_insert_with(|| {
            let name = fresh_name(&xobjects, &format!("ScanProMark{}", form.0));
            xobjects.set(name.clone(), Object::Reference(form));
            name
        });
    }
    resources.set("XObject", xobjects);
    (resources, names)
}

/// Moves the direct sub-dictionaries of a shared resource dictionary (fonts, colour spaces…)
/// into objects of their own, so the per-page copies made of it stay small. `XObject`, which
/// each copy extends, stays as it is.
fn hoist_subdictionaries(doc: &mut Document, resources_id: ObjectId) {
    let Ok(resources) = doc.get_dictionary(resources_id) else { return };
    let direct: Vec<(Vec<u8>, Dictionary)> = resources
        .iter()
        .filter(|(key, _)| key.as_slice() != b"XObject")
        .filter_map(|(key, value)| Some((key.clone(), value.as_dict().ok()?.clone())))
        .collect();
    for (key, dict) in direct {
        let id = doc.add_object(dict);
        if let Ok(resources) = doc.get_dictionary_mut(resources_id) {
            resources.set(key, Object::Reference(id));
        }
    }
}

/// References to the page's content streams; a stream written directly in the page (which
/// PDF does not allow, but happens) becomes an object of its own.
fn original_contents(doc: &mut Document, page_id: ObjectId) -> Vec<Object> {
    let direct = match doc.get_dictionary(page_id).and_then(|page| page.get(b"Contents")) {
        Ok(Object::Stream(stream)) => Some(stream.clone()),
        _ => None,
    };
    match direct {
        Some(stream) => vec![Object::Reference(doc.add_object(stream))],
        None => doc.get_page_contents(page_id).into_iter().map(Object::Reference).collect(),
    }
}

/// `/Artifact BMC q <matrix> cm /<form> Do Q EMC`: marked as an artifact so tagged-PDF
/// readers (screen readers, reflow) leave it out of the document's reading order.
fn draw_form(out: &mut Vec<u8>, matrix: Matrix, name: &[u8]) {
    out.extend_from_slice(b"/Artifact BMC q ");
    out.extend_from_slice(matrix.operands().as_bytes());
    out.extend_from_slice(b" cm /");
    out.extend_from_slice(name);
    out.extend_from_slice(b" Do Q EMC\n");
}

/// `base`, or `base_2`, `base_3`… whichever `dict` does not hold yet.
fn fresh_name(dict: &Dictionary, base: &str) -> Vec<u8> {
    let mut name = base.as_bytes().to_vec();
    let mut copy = 1;
    while dict.has(&name) {
        copy += 1;
        name = format!("{base}_{copy}").into_bytes();
    }
    name
}
