//! Comparing two versions of a document: the report checked against the edits made, the
//! sheets with poppler (`pdftotext`, `pdftoppm`) and qpdf.

use scanpro_pdf::compare::{Change, ChangeKind, compare};
use scanpro_testkit::checkers::{page_count, page_text, qpdf_check_clean, run};
use scanpro_testkit::documents::lines_pdf;
use std::path::{Path, PathBuf};

fn document(dir: &Path, name: &str, pages: &[&[&str]]) -> PathBuf {
    let path = dir.join(name);
    lines_pdf(&path, pages, None);
    path
}

#[test]
fn edits_are_reported_with_their_pages_and_marked_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let old = document(
        dir.path(),
        "old.pdf",
        &[&["The quick brown fox jumps", "over the lazy dog."], &["This page stays the same."]],
    );
    let new = document(
        dir.path(),
        "new.pdf",
        &[
            &["The quick red fox jumps", "over the lazy cat."],
            &["This page stays the same."],
            &["An appendix was added."],
        ],
    );
    let out = dir.path().join("changes.pdf");
    let report = compare(&old, &new, &out).unwrap();
    assert!(!report.identical);
    assert_eq!((report.old_pages, report.new_pages), (2, 3));
    assert_eq!((report.words_deleted, report.words_inserted), (2, 6), "{report:?}");
    let change = |kind, old_page, new_page, old_text: &str, new_text: &str| Change {
        kind,
        old_page,
        new_page,
        old_text: old_text.into(),
        new_text: new_text.into(),
    };
    assert_eq!(
        report.changes,
        [
            change(ChangeKind::Replaced, Some(1), Some(1), "brown", "red"),
            change(ChangeKind::Replaced, Some(1), Some(1), "dog.", "cat."),
            change(ChangeKind::Inserted, None, Some(3), "", "An appendix was added."),
        ]
    );

    qpdf_check_clean(&out);
    assert_eq!(page_count(&out), 3, "one sheet per page of the longer document");
    let sheet = page_text(&out, 1);
    assert!(sheet.contains("brown") && sheet.contains("red"), "old and new side by side: {sheet}");
    let rendered = run("pdftoppm", ["-r", "36", "-f", "1", "-l", "1", "-png", out.to_str().unwrap()]);
    let png = image::load_from_memory(&rendered.stdout).unwrap().into_rgb8();
    let half = png.width() / 2;
    let marked = |xs: std::ops::Range<u32>, wanted: fn(&image::Rgb<u8>) -> bool| {
        xs.flat_map(|x| (0..png.height()).map(move |y| (x, y))).any(|(x, y)| wanted(png.get_pixel(x, y)))
    };
    let red = |p: &image::Rgb<u8>| p.0[0] > 200 && p.0[1] < 150 && p.0[2] < 150;
    let green = |p: &image::Rgb<u8>| p.0[1] > 180 && p.0[0] < 150 && p.0[2] < 150;
    assert!(marked(0..half, red) && !marked(0..half, green), "deletions in red on the old page");
    assert!(marked(half..png.width(), green) && !marked(half..png.width(), red), "insertions in green on the new page");
}

#[test]
fn a_document_compared_with_itself_has_no_changes() {
    let dir = tempfile::tempdir().unwrap();
    let book = scanpro_testkit::corpus::text_pdf("lroundrect.pdf");
    let out = dir.path().join("same.pdf");
    let report = compare(&book, &book, &out).unwrap();
    assert!(report.identical && report.changes.is_empty() && report.words_deleted == 0);
    assert_eq!(page_count(&out), 10);
}
