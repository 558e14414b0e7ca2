//! Metadata: write the document information dictionary (`Info`) and report what it then holds.
//!
//! Text goes in as PDFDocEncoding when it is ASCII and as UTF-16BE otherwise, so any title
//! reads back the same in every reader. XMP metadata (the catalog's `/Metadata` stream), when
//! the document has it, is left as it is; the report says so, since some readers prefer it to
//! `Info`.

use crate::dests::deref;
use crate::guard::guarded;
use crate::info::{Metadata, decode_text};
use crate::open::open_unguarded;
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::{Dictionary, Document, Object, StringFormat, text_string};
use scanpro_core::ToolError;
use serde::Serialize;
use std::path::Path;

/// The fields to write: `Some("")` removes a field, `None` keeps it. Dates are PDF dates
/// (`D:20240301143000+01'00'`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataUpdate {
    pub title: Option<String>,
    pub author: Option<String>,
    pub subject: Option<String>,
    pub keywords: Option<String>,
    pub creator: Option<String>,
    pub creation_date: Option<String>,
    pub mod_date: Option<String>,
}

/// The metadata after writing, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataReport {
    pub pages: u32,
    pub metadata: Metadata,
    /// The `Info` keys written or removed, e.g. `["Title", "Author"]`.
    pub written: Vec<&'static str>,
    /// Whether the document also has XMP metadata, which was left unchanged.
    pub xmp_unchanged: bool,
}

/// Writes `update` into the `Info` dictionary of `input`, saved as `out`; everything else is kept.
pub fn write_metadata(input: &Path, update: &MetadataUpdate, out: &Path) -> Result<MetadataReport, ToolError> {
    guarded("metadata", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let written = apply(&mut doc, update);
        let metadata = read_metadata(&doc);
        let xmp_unchanged = doc.catalog().is_ok_and(|catalog| catalog.has(b"Metadata"));
        save_atomic(&mut doc, out)?;
        Ok(MetadataReport { pages: prepared.pages, metadata, written, xmp_unchanged })
    })
}

/// Sets or removes each field given; returns the keys touched.
fn apply(doc: &mut Document, update: &MetadataUpdate) -> Vec<&'static str> {
    let text_fields = [
        ("Title", &update.title),
        ("Author", &update.author),
        ("Subject", &update.subject),
        ("Keywords", &update.keywords),
        ("Creator", &update.creator),
    ];
    let date_fields = [("CreationDate", &update.creation_date), ("ModDate", &update.mod_date)];
    let changes: Vec<(&'static str, Option<Object>)> = text_fields
        .into_iter()
        .filter_map(|(key, value)| value.as_deref().map(|v| (key, (!v.is_empty()).then(|| text_string(v)))))
        .chain(date_fields.into_iter().filter_map(|(key, value)| {
            value
                .as_deref()
                .map(|v| (key, (!v.is_empty()).then(|| Object::String(v.as_bytes().to_vec(), StringFormat::Literal))))
        }))
        .collect();
    if changes.is_empty() {
        return Vec::new();
    }
    let Some(info) = info_dictionary(doc) else { return Vec::new() };
    for (key, value) in &changes {
        match value {
            Some(value) => info.set(*key, value.clone()),
            None => drop(info.remove(key.as_bytes())),
        }
    }
    changes.into_iter().map(|(key, _)| key).collect()
}

/// The document's `Info` dictionary, made an object of its own (created when missing or not a
/// dictionary).
fn info_dictionary(doc: &mut Document) -> Option<&mut Dictionary> {
    let id = match doc.trailer.get(b"Info") {
        Ok(Object::Reference(id)) if doc.get_dictionary(*id).is_ok() => *id,
        existing => {
            let info = match existing {
                Ok(Object::Dictionary(direct)) => direct.clone(),
                _ => Dictionary::new(),
            };
            let id = doc.add_object(info);
            doc.trailer.set("Info", Object::Reference(id));
            id
        }
    };
    doc.get_dictionary_mut(id).ok()
}

/// The `Info` fields, decoded.
pub(crate) fn read_metadata(doc: &Document) -> Metadata {
    let info = deref(doc, doc.trailer.get(b"Info").ok()).and_then(|o| o.as_dict().ok());
    let Some(info) = info else { return Metadata::default() };
    let field = |key: &[u8]| deref(doc, info.get(key).ok()).and_then(decode_text);
    Metadata {
        title: field(b"Title"),
        author: field(b"Author"),
        subject: field(b"Subject"),
        keywords: field(b"Keywords"),
        creator: field(b"Creator"),
        producer: field(b"Producer"),
        creation_date: field(b"CreationDate"),
        mod_date: field(b"ModDate"),
    }
}
