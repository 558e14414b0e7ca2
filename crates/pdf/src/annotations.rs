//! Removing annotations: comments and markup, links, or form fields, from chosen pages.
//!
//! A popup goes with the comment it belongs to. Form fields removed from every page take the
//! form (`AcroForm`) with them; removed from some pages, the form keeps the fields that still
//! have a widget.

use crate::dests::deref;
use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::{Dictionary, Object};
use scanpro_core::ToolError;
use scanpro_core::pages::PageSelection;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The kinds of annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationKind {
    /// Notes, highlights, drawings, stamps and attached files: everything but links and fields.
    Comments,
    /// Links, inside the document and out.
    Links,
    /// Form fields (their widgets; a form with none left goes too).
    FormFields,
}

impl AnnotationKind {
    fn of(annotation: &Dictionary) -> Self {
        match annotation.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Link") => Self::Links,
            Ok(b"Widget") => Self::FormFields,
            _ => Self::Comments,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RemovedAnnotations {
    pub pages: u32,
    pub comments: u32,
    pub links: u32,
    pub form_fields: u32,
    /// Whether the form itself went, all its widgets gone.
    pub form_removed: bool,
}

/// Removes the annotations of `kinds` from the pages `selection` picks.
pub fn remove_annotations(
    input: &Path,
    kinds: &[AnnotationKind],
    selection: &PageSelection,
    out: &Path,
) -> Result<RemovedAnnotations, ToolError> {
    guarded("remove_annotations", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let pages = selection.resolve(prepared.pages).map_err(|e| ToolError::invalid_param("pages", e))?;
        let mut report = RemovedAnnotations { pages: prepared.pages, ..RemovedAnnotations::default() };
        let page_ids: Vec<_> = doc.get_pages().into_iter().filter(|(n, _)| pages.contains(n)).collect();
        for (_, page_id) in page_ids {
            let annots = doc.get_dictionary(page_id).ok().and_then(|p| deref(&doc, p.get(b"Annots").ok())).cloned();
            let Some(Object::Array(annots)) = annots else { continue };
            let mut kept = Vec::with_capacity(annots.len());
            for annot in annots {
                let Some(dict) = deref(&doc, Some(&annot)).and_then(|a| a.as_dict().ok()) else { continue };
                // A popup belongs to its comment, and goes (or stays) with it.
                let is_popup = dict.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"Popup");
                let kind = AnnotationKind::of(dict);
                if !kinds.contains(&kind) {
                    kept.push(annot);
                    continue;
                }
                match kind {
                    _ if is_popup => {}
                    AnnotationKind::Comments => report.comments += 1,
                    AnnotationKind::Links => report.links += 1,
                    AnnotationKind::FormFields => report.form_fields += 1,
                }
            }
            if let Ok(page) = doc.get_dictionary_mut(page_id) {
                if kept.is_empty() {
                    page.remove(b"Annots");
                } else {
                    page.set("Annots", kept);
                }
            }
        }
        if kinds.contains(&AnnotationKind::FormFields) && report.form_fields > 0 {
            let widgets_left = doc.page_iter().any(|page| {
                let annots = doc.get_dictionary(page).ok().and_then(|p| deref(&doc, p.get(b"Annots").ok()));
                matches!(annots, Some(Object::Array(list)) if list.iter().any(|a| {
                    deref(&doc, Some(a)).and_then(|a| a.as_dict().ok()).is_some_and(|a| AnnotationKind::of(a) == AnnotationKind::FormFields)
                }))
            });
            if !widgets_left && let Ok(catalog) = doc.catalog_mut() {
                report.form_removed = catalog.remove(b"AcroForm").is_some();
            }
        }
        doc.prune_objects();
        save_atomic(&mut doc, out)?;
        Ok(report)
    })
}
