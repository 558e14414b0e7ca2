//! PDF/UA-1 identification of a tagged PDF.
//!
//! The tags themselves (structure tree, marked content, alternative texts, table headers) can
//! only come from the program that laid the document out: Chromium and LibreOffice write them.
//! This module checks that they are there together with what PDF/UA asks of the document as a
//! whole (a title, a natural language), makes viewers show the title, and writes the XMP
//! identification (`pdfuaid:part` 1, `dc:title`). An untagged PDF is refused, never marked.

use crate::dests::deref;
use crate::guard::guarded;
use crate::info::decode_text;
use crate::metadata::read_metadata;
use crate::open::open_unguarded;
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::{Dictionary, Object, Stream};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use std::path::Path;

/// What the document was marked with.
#[derive(Debug, Clone, Serialize)]
pub struct PdfUaReport {
    pub pages: u32,
    pub title: String,
    pub language: String,
}

/// Marks the tagged PDF `input` as PDF/UA-1, saved as `out`.
pub fn mark_pdfua(input: &Path, out: &Path) -> Result<PdfUaReport, ToolError> {
    guarded("pdfua", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let catalog = doc.catalog().map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "the PDF has no catalog"))?;
        let tagged = catalog.has(b"StructTreeRoot")
            && deref(&doc, catalog.get(b"MarkInfo").ok())
                .and_then(|o| o.as_dict().ok())
                .and_then(|mark| deref(&doc, mark.get(b"Marked").ok()))
                .is_some_and(|marked| matches!(marked, Object::Boolean(true)));
        if !tagged {
            return Err(refused(
                "the PDF is not tagged (no structure tree): PDF/UA needs the tags the program that laid it out writes; convert the original with pdfua set",
            ));
        }
        let language = deref(&doc, catalog.get(b"Lang").ok()).and_then(decode_text).unwrap_or_default();
        if language.trim().is_empty() {
            return Err(refused(
                "the PDF names no language: PDF/UA needs one (for a web page, <html lang=\"en\">; for an office document, its language setting)",
            ));
        }
        let title = read_metadata(&doc).title.unwrap_or_default();
        if title.trim().is_empty() {
            return Err(refused(
                "the PDF has no title: PDF/UA needs one (for a web page, a <title>; for an office document, its title property)",
            ));
        }
        let xmp = deref(&doc, catalog.get(b"Metadata").ok())
            .and_then(|o| o.as_stream().ok())
            .and_then(|stream| stream.decompressed_content().ok().or_else(|| Some(stream.content.clone())))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        let packet = identified(xmp.as_deref(), &title);
        let metadata = doc.add_object(Stream::new(
            Dictionary::from_iter([
                ("Type", Object::Name(b"Metadata".to_vec())),
                ("Subtype", Object::Name(b"XML".to_vec())),
            ]),
            packet.into_bytes(),
        ));
        let mut preferences = doc
            .catalog()
            .ok()
            .and_then(|catalog| deref(&doc, catalog.get(b"ViewerPreferences").ok()))
            .and_then(|o| o.as_dict().ok())
            .cloned()
            .unwrap_or_default();
        preferences.set("DisplayDocTitle", Object::Boolean(true));
        let catalog = doc.catalog_mut().map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "the PDF has no catalog"))?;
        catalog.set("Metadata", Object::Reference(metadata));
        catalog.set("ViewerPreferences", Object::Dictionary(preferences));
        save_atomic(&mut doc, out)?;
        Ok(PdfUaReport { pages: prepared.pages, title, language })
    })
}

fn refused(message: &str) -> ToolError {
    ToolError::new(ErrorCode::UnsupportedFormat, message)
}

const PDFUA_NAMESPACE: &str = "http://www.aiim.org/pdfua/ns/id/";

/// The XMP packet with the PDF/UA identification: the document's own packet with one more
/// description, or a new packet.
fn identified(existing: Option<&str>, title: &str) -> String {
    let title = escape_xml(title);
    let has_title = existing.is_some_and(|xmp| xmp.contains("<dc:title"));
    let title_element = if has_title {
        String::new()
    } else {
        format!("<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>")
    };
    let description = format!(
        "<rdf:Description rdf:about=\"\" xmlns:pdfuaid=\"{PDFUA_NAMESPACE}\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><pdfuaid:part>1</pdfuaid:part>{title_element}</rdf:Description>"
    );
    if let Some(xmp) = existing {
        if xmp.contains(PDFUA_NAMESPACE) {
            return xmp.to_owned();
        }
        if let Some(end) = xmp.rfind("</rdf:RDF>") {
            return format!("{}{description}{}", &xmp[..end], &xmp[end..]);
        }
    }
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">{description}</rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>"
    )
}

fn escape_xml(text: &str) -> String {
    text.chars().filter(|c| !c.is_control() || *c == '\t').fold(String::with_capacity(text.len()), |mut out, c| {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::identified;

    #[test]
    fn a_new_packet_names_part_one_and_the_escaped_title() {
        let packet = identified(None, "Q&A <2026>");
        assert!(packet.contains("<pdfuaid:part>1</pdfuaid:part>"), "{packet}");
        assert!(packet.contains("Q&amp;A &lt;2026&gt;"), "{packet}");
        assert!(packet.starts_with("<?xpacket begin="));
    }

    #[test]
    fn an_existing_packet_keeps_its_title_and_gains_the_identification() {
        let existing =
            "<x:xmpmeta><rdf:RDF><rdf:Description><dc:title>T</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>";
        let packet = identified(Some(existing), "Other");
        assert!(packet.contains("<pdfuaid:part>1</pdfuaid:part>"), "{packet}");
        assert!(!packet.contains("Other"), "{packet}");
        assert!(packet.ends_with("</rdf:RDF></x:xmpmeta>"), "{packet}");
        assert_eq!(identified(Some(&packet), "Other"), packet);
    }
}
