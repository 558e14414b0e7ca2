//! The outlines (bookmarks) of PDFs as qpdf reads them, and the pages they point at.

#![allow(dead_code)]

use scanpro_testkit::checkers::qpdf_json;
use std::path::Path;

/// The outline as qpdf reads it: (title, 1-based target page, number of children) of each
/// top-level item.
pub fn outline(path: &Path) -> Vec<(String, Option<u64>, usize)> {
    qpdf_json(path, &["outlines"])["outlines"]
        .as_array()
        .expect("outlines array")
        .iter()
        .map(|item| {
            (
                item["title"].as_str().unwrap_or("").to_owned(),
                item["destpageposfrom1"].as_u64(),
                item["kids"].as_array().map_or(0, Vec::len),
            )
        })
        .collect()
}

/// Every bookmark, depth first, with the page (1-based) its destination or GoTo action targets.
pub fn bookmarks(path: &Path) -> Vec<(String, Option<u32>)> {
    let json = qpdf_json(path, &["outlines", "pages"]);
    let pages: Vec<String> =
        json["pages"].as_array().unwrap().iter().map(|p| p["object"].as_str().unwrap().to_owned()).collect();
    let mut found = Vec::new();
    collect(&json["outlines"], &pages, &mut found);
    found
}

fn collect(items: &serde_json::Value, pages: &[String], found: &mut Vec<(String, Option<u32>)>) {
    for item in items.as_array().into_iter().flatten() {
        let dest = if item["dest"]["/D"].is_array() { &item["dest"]["/D"] } else { &item["dest"] };
        let page = dest[0]
            .as_str()
            .and_then(|object| pages.iter().position(|p| p == object))
            .map(|i| u32::try_from(i).unwrap() + 1);
        found.push((item["title"].as_str().unwrap_or("").to_owned(), page));
        collect(&item["kids"], pages, found);
    }
}
