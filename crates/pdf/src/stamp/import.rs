//! Bringing drawn marks into the document: each page of the marks PDF becomes a Form XObject
//! (its content and resources, with its page box as `/BBox`), copied with everything it
//! reaches, so fonts and images shared by several marks are copied once.

use crate::copy::Copier;
use crate::dests::{NamedDests, deref};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use scanpro_core::ToolError;

/// Copies every page of `marks_pdf` into `target` as a Form XObject; returns their ids in page
/// order.
pub(crate) fn import_marks(marks_pdf: &[u8], target: &mut Document) -> Result<Vec<ObjectId>, ToolError> {
    let marks =
        Document::load_mem(marks_pdf).map_err(|e| ToolError::internal(format!("cannot read the drawn marks: {e}")))?;
    let names = NamedDests::default();
    let page_ids: Vec<ObjectId> = marks.page_iter().collect();
    // Pages are never copied here, so the parent is never used.
    let mut copier = Copier::new(&marks, target, &names, (0, 0));
    let forms: Vec<Stream> =
        page_ids.iter().map(|&page| form_of(&marks, page, &mut copier)).collect::<Result<_, _>>()?;
    drop(copier);
    Ok(forms.into_iter().map(|form| target.add_object(form)).collect())
}

fn form_of(marks: &Document, page_id: ObjectId, copier: &mut Copier<'_, &Document>) -> Result<Stream, ToolError> {
    let broken = || ToolError::internal("the drawn marks are malformed");
    let page = marks.get_dictionary(page_id).map_err(|_| broken())?;
    let media_box = deref(marks, page.get(b"MediaBox").ok()).cloned().ok_or_else(broken)?;
    let resources = deref(marks, page.get(b"Resources").ok()).cloned().unwrap_or(Object::Dictionary(Dictionary::new()));
    let content = marks.get_page_content_with_limit(page_id, usize::MAX).map_err(|_| broken())?;
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set("BBox", media_box);
    dict.set("Resources", copier.copy(resources));
    if let Some(group) = deref(marks, page.get(b"Group").ok()).cloned() {
        dict.set("Group", copier.copy(group));
    }
    let mut form = Stream::new(dict, content);
    // Left uncompressed if compression fails: bigger, still readable everywhere.
    let _ = form.compress();
    Ok(form)
}
