//! Bookmarks read and written, compared with poppler's reading of the outline (`pdftohtml
//! -xml`: nesting and target pages) and qpdf's (`--json`'s `outlines`: titles too).

use scanpro_pdf::outline::{Bookmark, Placement, bookmarks, write_bookmarks};
use scanpro_testkit::checkers::{qpdf_check_clean, qpdf_json, run, stdout};
use scanpro_testkit::corpus::{corpus_files, text_pdf};
use serde_json::Value;
use std::path::Path;

/// qpdf's outline, flattened depth first: (title, level, page).
fn qpdf_outline(path: &Path) -> Vec<(String, u32, Option<u32>)> {
    fn walk(items: &[Value], level: u32, out: &mut Vec<(String, u32, Option<u32>)>) {
        for item in items {
            let page = item["destpageposfrom1"].as_u64().and_then(|p| u32::try_from(p).ok());
            out.push((item["title"].as_str().unwrap_or_default().to_owned(), level, page));
            walk(item["kids"].as_array().map_or(&[][..], Vec::as_slice), level + 1, out);
        }
    }
    let json = qpdf_json(path, &["outlines"]);
    let mut out = Vec::new();
    walk(json["outlines"].as_array().map_or(&[][..], Vec::as_slice), 1, &mut out);
    out
}

/// poppler's outline (`pdftohtml -xml`), flattened depth first: (level, page).
fn poppler_outline(path: &Path) -> Vec<(u32, Option<u32>)> {
    let xml = stdout("pdftohtml", ["-xml", "-i", "-q", "-stdout", "-f", "1", "-l", "1", path.to_str().unwrap()]);
    let mut depth = 0;
    let mut out = Vec::new();
    for tag in xml.split('<').skip(1) {
        if tag.starts_with("outline>") {
            depth += 1;
        } else if tag.starts_with("/outline>") {
            depth -= 1;
        } else if let Some(item) = tag.strip_prefix("item") {
            let page = item.split("page=\"").nth(1).and_then(|p| p.split('"').next()).and_then(|p| p.parse().ok());
            out.push((depth, page));
        }
    }
    out
}

fn ours(list: &[Bookmark]) -> Vec<(String, u32, Option<u32>)> {
    list.iter().map(|b| (b.title.clone(), b.level, b.page)).collect()
}

fn mark(title: &str, level: u32, page: u32) -> Bookmark {
    Bookmark { title: title.into(), level, page: Some(page) }
}

#[test]
fn bookmarks_read_as_poppler_reads_them() {
    let mut outlines = 0;
    for path in corpus_files("pdf-text") {
        let Ok(report) = bookmarks(&path) else { continue };
        if !run("pdfinfo", [path.to_str().unwrap()]).status.success() {
            continue; // poppler cannot read this one
        }
        let theirs = poppler_outline(&path);
        let levels_pages: Vec<(u32, Option<u32>)> = report.bookmarks.iter().map(|b| (b.level, b.page)).collect();
        assert_eq!(levels_pages, theirs, "{}", path.display());
        outlines += usize::from(!theirs.is_empty());
    }
    assert!(outlines >= 10, "the corpus holds outlines: {outlines}");
    let manual = bookmarks(&text_pdf("ghsystem-manual.pdf")).unwrap();
    let titles = |list: Vec<(String, u32, Option<u32>)>| list.into_iter().map(|(t, l, _)| (t, l)).collect::<Vec<_>>();
    assert_eq!(
        titles(ours(&manual.bookmarks)),
        titles(qpdf_outline(&text_pdf("ghsystem-manual.pdf"))),
        "titles as qpdf reads them"
    );
}

#[test]
fn replaced_bookmarks_nest_and_open_their_pages() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("toc.pdf");
    let entries = [
        mark("Introduction", 1, 1),
        mark("Überblick — 概要", 2, 2),
        mark("Details", 2, 3),
        mark("Deeper", 3, 4),
        mark("Appendix", 1, 10),
    ];
    let report = write_bookmarks(&text_pdf("lroundrect.pdf"), &entries, Placement::Replace, &out).unwrap();
    assert_eq!(report.bookmarks, entries);
    qpdf_check_clean(&out);
    assert_eq!(qpdf_outline(&out), ours(&entries));
    let catalog = qpdf_json(&out, &["qpdf"]);
    assert!(catalog.to_string().contains("/UseOutlines"), "the viewer shows the bookmarks");

    let cleared = dir.path().join("none.pdf");
    write_bookmarks(&out, &[], Placement::Replace, &cleared).unwrap();
    assert!(qpdf_outline(&cleared).is_empty());
}

#[test]
fn added_bookmarks_follow_the_existing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("ghsystem-manual.pdf");
    let out = dir.path().join("more.pdf");
    let added = [mark("Index", 1, 20), mark("Colophon", 2, 20)];
    write_bookmarks(&source, &added, Placement::Add, &out).unwrap();
    qpdf_check_clean(&out);
    let mut expected = qpdf_outline(&source);
    expected.extend(ours(&added));
    assert_eq!(qpdf_outline(&out), expected);
}

#[test]
fn impossible_bookmarks_are_refused_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.pdf");
    let cases: [(Vec<Bookmark>, &str); 4] = [
        (vec![mark("A", 2, 1)], "bookmarks[0].level: 2 follows a bookmark of level 0: at most 1"),
        (vec![mark("A", 1, 1), mark("B", 3, 1)], "bookmarks[1].level: 3 follows a bookmark of level 1: at most 2"),
        (vec![mark("A", 1, 11)], "bookmarks[0].page: 11: the document has 10 pages"),
        (vec![mark(" ", 1, 1)], "bookmarks[0].title: give a title of 1 to 1000 characters"),
    ];
    for (entries, expected) in cases {
        let error = write_bookmarks(&text_pdf("lroundrect.pdf"), &entries, Placement::Replace, &out).unwrap_err();
        assert_eq!(error.message, expected);
    }
    assert!(!out.exists());
}
