//! Info: what a PDF is: pages and their sizes, version, encryption, document metadata.

use crate::dests::deref;
use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::page_tree::{DEFAULT_MEDIA_BOX, inherited, page_count, rotation};
use lopdf::{Dictionary, Document, Object};
use scanpro_core::ToolError;
use serde::Serialize;
use std::path::Path;

/// The facts `info` reports. Field names are part of the API (the `info` tool returns this as
/// JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocInfo {
    /// The number of pages.
    pub pages: u32,
    /// The version the header (or the catalog's `/Version`) declares, e.g. `"1.7"`.
    pub pdf_version: String,
    /// Whether the file is encrypted. Only files that open without a password get this far, so
    /// `true` means protected by an owner password (permissions) only.
    pub encrypted: bool,
    pub file_size: u64,
    pub metadata: Metadata,
    /// Size and rotation of every page, in order.
    pub page_sizes: Vec<PageInfo>,
}

/// The document information dictionary, decoded to text (PDFDocEncoding or UTF-16). Dates
/// are given as written, e.g. `D:20230122120000+01'00'`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Metadata {
    pub title: Option<String>,
    pub author: Option<String>,
    pub subject: Option<String>,
    pub keywords: Option<String>,
    pub creator: Option<String>,
    pub producer: Option<String>,
    pub creation_date: Option<String>,
    pub mod_date: Option<String>,
}

/// A page's size in points (1/72 inch) as stored, before rotation: the visible area (crop box
/// within the media box). For a `rotation` of 90 or 270 the page is shown `height` wide.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PageInfo {
    pub width: f64,
    pub height: f64,
    /// Clockwise degrees: 0, 90, 180 or 270.
    pub rotation: u32,
}

/// Reads the facts about `input`.
pub fn info(input: &Path) -> Result<DocInfo, ToolError> {
    guarded("info", || {
        let file_size = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
        let doc = open_unguarded(input)?;
        let page_sizes: Vec<PageInfo> =
            doc.page_iter().map(|id| page_info(&doc, doc.get_dictionary(id).ok())).collect();
        Ok(DocInfo {
            pages: page_count(page_sizes.len())?,
            pdf_version: declared_version(&doc),
            encrypted: doc.was_encrypted(),
            file_size,
            metadata: metadata(&doc),
            page_sizes,
        })
    })
}

/// The catalog's `/Version` overrides the header when it is later (PDF 1.4 and on).
fn declared_version(doc: &Document) -> String {
    let catalog_version = doc.catalog().ok().and_then(|c| deref(doc, c.get(b"Version").ok()));
    match catalog_version {
        Some(Object::Name(v)) if v.as_slice() > doc.version.as_bytes() => String::from_utf8_lossy(v).into_owned(),
        _ => doc.version.clone(),
    }
}

fn metadata(doc: &Document) -> Metadata {
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

/// A text string as Unicode: UTF-16BE or UTF-8 after a byte-order mark, PDFDocEncoding
/// otherwise. Damaged strings decode lossily rather than disappear; empty ones count as absent.
pub(crate) fn decode_text(object: &Object) -> Option<String> {
    let text = match object {
        Object::String(bytes, _) => lopdf::decode_text_string(object).unwrap_or_else(|_| lossy_text(bytes)),
        Object::Name(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => return None,
    };
    let text = text.trim_end_matches('\0').trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn lossy_text(bytes: &[u8]) -> String {
    match bytes.strip_prefix(b"\xFE\xFF") {
        Some(utf16) => {
            let units: Vec<u16> = utf16.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        // PDFDocEncoding agrees with Latin-1 on every byte lopdf cannot map.
        None => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

fn page_info(doc: &Document, page: Option<&Dictionary>) -> PageInfo {
    let Some(page) = page else {
        return PageInfo { width: 612.0, height: 792.0, rotation: 0 };
    };
    let media = page_box(doc, page, b"MediaBox").unwrap_or(DEFAULT_MEDIA_BOX.map(|n| n as f64));
    let visible = page_box(doc, page, b"CropBox").and_then(|crop| intersect(crop, media)).unwrap_or(media);
    let unit = deref(doc, page.get(b"UserUnit").ok()).and_then(number).filter(|u| *u > 0.0).unwrap_or(1.0);
    PageInfo {
        width: round3((visible[2] - visible[0]) * unit),
        height: round3((visible[3] - visible[1]) * unit),
        // 0, 90, 180 or 270.
        rotation: u32::try_from(rotation(doc, page)).unwrap_or(0),
    }
}

/// An inheritable rectangle, normalised so that `[x1, y1, x2, y2]` has x1 ≤ x2 and y1 ≤ y2.
fn page_box(doc: &Document, page: &Dictionary, key: &[u8]) -> Option<[f64; 4]> {
    let values = deref(doc, inherited(doc, page, key))?.as_array().ok()?;
    let numbers: Vec<f64> = values.iter().filter_map(|v| deref(doc, Some(v)).and_then(number)).collect();
    let [a, b, c, d] = numbers[..] else { return None };
    Some([a.min(c), b.min(d), a.max(c), b.max(d)])
}

fn intersect(a: [f64; 4], b: [f64; 4]) -> Option<[f64; 4]> {
    let r = [a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])];
    (r[0] < r[2] && r[1] < r[3]).then_some(r)
}

fn number(object: &Object) -> Option<f64> {
    match object {
        Object::Integer(n) => Some(*n as f64),
        Object::Real(r) if r.is_finite() => Some(f64::from(*r)),
        _ => None,
    }
}

/// Sizes are stored as f32: 595.276 reads back as 595.2760009765625.
fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::StringFormat;

    fn string(bytes: &[u8]) -> Object {
        Object::String(bytes.to_vec(), StringFormat::Literal)
    }

    #[test]
    fn decodes_text_strings() {
        assert_eq!(decode_text(&string(b"Plain")).as_deref(), Some("Plain"));
        assert_eq!(decode_text(&string(b"\xFE\xFF\x00A\x00\xE9")).as_deref(), Some("Aé"));
        // PDFDocEncoding 0x8D is a left double quote; 0xE9 is é as in Latin-1.
        assert_eq!(decode_text(&string(b"\x8Dcaf\xE9")).as_deref(), Some("\u{201C}café"));
        assert_eq!(decode_text(&string(b"\xFE\xFF\xD8\x00")).as_deref(), Some("\u{FFFD}"));
        assert_eq!(decode_text(&string(b"Title\0")).as_deref(), Some("Title"));
        assert_eq!(decode_text(&string(b"")), None);
    }

    #[test]
    fn crop_box_is_clipped_to_media_box() {
        assert_eq!(intersect([0.0, 0.0, 100.0, 100.0], [50.0, 50.0, 200.0, 200.0]), Some([50.0, 50.0, 100.0, 100.0]));
        assert_eq!(intersect([0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]), None);
    }
}
