//! Small PDFs a test writes itself, when it must know every word: Letter pages of lines in
//! Courier (its widths declared, so every reader places each glyph alike).

use lopdf::{Document, Object, Stream, dictionary};
use std::path::Path;

/// Writes `pages` (each a list of lines) to `path`, with `title` in the document information.
pub fn lines_pdf(path: &Path, pages: &[&[&str]], title: Option<&str>) {
    let widths: Vec<Object> = (32..=126).map(|_| Object::Integer(600)).collect();
    let font = dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Courier", "FirstChar" => 32, "LastChar" => 126, "Widths" => widths,
    };
    let contents = pages
        .iter()
        .map(|lines| {
            let mut content = String::from("BT /F1 12 Tf 72 700 Td 16 TL\n");
            for line in *lines {
                content.push_str(&format!("({line}) Tj T*\n"));
            }
            content + "ET"
        })
        .collect();
    let mut doc = pages_pdf(font, contents);
    if let Some(title) = title {
        let info = doc.add_object(
            dictionary! { "Title" => Object::string_literal(title), "Author" => Object::string_literal("Billing") },
        );
        doc.trailer.set("Info", info);
    }
    doc.save(path).unwrap();
}

/// Writes a PDF of Letter pages with text placed exactly: `(page, x, y, size, text)`, `page`
/// from 0 and `x`, `y` in points from the bottom left, in Helvetica (its widths known to every
/// reader). Text is ASCII, and `•`.
pub fn placed_text_pdf(path: &Path, pages: usize, items: &[(usize, f64, f64, f64, &str)]) {
    let font = dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding" };
    let contents = (0..pages)
        .map(|page| {
            let mut content = String::new();
            for (_, x, y, size, text) in items.iter().filter(|item| item.0 == page) {
                let escaped = text.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)").replace('•', "\\225");
                content.push_str(&format!("BT /F1 {size} Tf {x} {y} Td ({escaped}) Tj ET\n"));
            }
            content
        })
        .collect();
    pages_pdf(font, contents).save(path).unwrap();
}

/// A document of Letter pages, one per content stream, drawing with `font` as `/F1`.
fn pages_pdf(font: lopdf::Dictionary, contents: Vec<String>) -> Document {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(font);
    let kids: Vec<Object> = contents
        .into_iter()
        .map(|content| {
            let contents = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
            let page = doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
                "Contents" => contents, "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            });
            Object::Reference(page)
        })
        .collect();
    let count = i64::try_from(kids.len()).unwrap();
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc
}
