//! Remove, extract and reorder pages on corpus files: page counts and order checked with
//! poppler, bookmarks with qpdf, and pages rendered before and after compared byte for byte.

mod common;

use common::bookmarks;
use scanpro_core::ErrorCode;
use scanpro_testkit::checkers::{
    page_count, page_sizes, page_text, pdfinfo_field, qpdf_check_clean, render_png, rotations,
};
use scanpro_testkit::corpus::{corpus, text_pdf};
use std::path::Path;

/// The output's page `out_page` is the input's `in_page`: same text, same rendering.
fn same_page(input: &Path, in_page: u32, output: &Path, out_page: u32) {
    let text = page_text(input, in_page);
    assert!(!text.trim().is_empty(), "page {in_page} of {} has no text to compare", input.display());
    assert_eq!(page_text(output, out_page), text, "text of output page {out_page} is not input page {in_page}");
    assert!(
        render_png(output, out_page, 50) == render_png(input, in_page, 50),
        "output page {out_page} does not render like input page {in_page}"
    );
}

#[test]
fn extract_keeps_the_order_written() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lroundrect.pdf");
    let out = dir.path().join("extract.pdf");
    let report = scanpro_pdf::select_pages(&input, |_| Ok(vec![5, 1, 2, 3]), &out).unwrap();
    assert_eq!((report.pages, report.source_pages), (4, 10));
    assert_eq!(report.source_order, [5, 1, 2, 3]);
    qpdf_check_clean(&out);
    assert_eq!(page_count(&out), 4);
    for (out_page, in_page) in [(1, 5), (2, 1), (3, 2), (4, 3)] {
        same_page(&input, in_page, &out, out_page);
    }
    assert_eq!(pdfinfo_field(&out, "Title"), pdfinfo_field(&input, "Title"), "Info is kept");
}

#[test]
fn remove_leaves_the_rest_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("pdfjs_tracemonkey.pdf");
    let out = dir.path().join("removed.pdf");
    let kept = vec![1, 3, 6, 7, 8, 9, 10, 11, 12, 13];
    scanpro_pdf::select_pages(
        &input,
        |count| {
            assert_eq!(count, 14);
            Ok(kept.clone())
        },
        &out,
    )
    .unwrap();
    qpdf_check_clean(&out);
    assert_eq!(page_count(&out), 10);
    same_page(&input, 1, &out, 1);
    same_page(&input, 3, &out, 2);
    same_page(&input, 13, &out, 10);
}

#[test]
fn reorder_moves_pages_losslessly() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lscape.pdf");
    let out = dir.path().join("reordered.pdf");
    scanpro_pdf::select_pages(&input, |_| Ok(vec![3, 1, 2]), &out).unwrap();
    qpdf_check_clean(&out);
    assert_eq!(page_count(&out), 3);
    let sizes = page_sizes(&input);
    assert_eq!(page_sizes(&out), [sizes[2].clone(), sizes[0].clone(), sizes[1].clone()]);
    let rotations_in = rotations(&input);
    assert_eq!(rotations(&out), [rotations_in[2], rotations_in[0], rotations_in[1]]);
    for (out_page, in_page) in [(1, 3), (2, 1), (3, 2)] {
        same_page(&input, in_page, &out, out_page);
    }
}

#[test]
fn bookmarks_follow_their_pages() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("ghsystem-manual.pdf");
    let source = bookmarks(&input);
    assert_eq!(source.len(), 16);
    let order = vec![5, 1, 2, 3];
    let out = dir.path().join("extract.pdf");
    let report = scanpro_pdf::select_pages(&input, |_| Ok(order.clone()), &out).unwrap();
    qpdf_check_clean(&out);

    let expected: Vec<(String, Option<u32>)> = source
        .iter()
        .filter_map(|(title, page)| {
            let position = order.iter().position(|&p| Some(p) == *page)?;
            Some((title.clone(), Some(u32::try_from(position).unwrap() + 1)))
        })
        .collect();
    let kept = bookmarks(&out);
    assert!(expected.len() >= 5 && expected.len() < source.len(), "a real mix of kept and dropped: {expected:?}");
    let with_targets: Vec<_> = kept.iter().filter(|(_, page)| page.is_some()).cloned().collect();
    assert_eq!(with_targets, expected, "each kept bookmark leads to its page's new place");
    assert_eq!(report.bookmarks as usize, kept.len());
    assert_eq!(report.bookmarks_dropped as usize, source.len() - kept.len());

    // A section whose own page is gone stays as a heading over the subsection that survives.
    let only = dir.path().join("page3.pdf");
    scanpro_pdf::select_pages(&input, |_| Ok(vec![3]), &only).unwrap();
    qpdf_check_clean(&only);
    let headed = bookmarks(&only);
    let headed: Vec<(&str, Option<u32>)> = headed.iter().map(|(t, p)| (t.as_str(), *p)).collect();
    assert_eq!(
        headed,
        [("4 Get Hazard and Precautionary Statements", None), ("4.2 Statements with Placeholders", Some(1))]
    );
}

#[test]
fn all_bookmarks_survive_a_reorder() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("ghsystem-manual.pdf");
    let order: Vec<u32> = (1..=20).rev().collect();
    let out = dir.path().join("reversed.pdf");
    let report = scanpro_pdf::select_pages(&input, |_| Ok(order.clone()), &out).unwrap();
    assert_eq!((report.bookmarks, report.bookmarks_dropped), (16, 0));
    let moved: Vec<_> = bookmarks(&input).into_iter().map(|(title, page)| (title, page.map(|p| 21 - p))).collect();
    assert_eq!(bookmarks(&out), moved);
    same_page(&input, 20, &out, 1);
}

#[test]
fn selections_out_of_range_and_locked_inputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pdf");
    let err = scanpro_pdf::select_pages(&text_pdf("lscape.pdf"), |_| Ok(vec![1, 4]), &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.contains("page 4 does not exist"), "{err}");
    let locked = corpus("pdf-broken/pypdf_libreoffice-writer-password.pdf");
    let err = scanpro_pdf::select_pages(&locked, |_| Ok(vec![1]), &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::EncryptedInput);
    assert!(err.message.contains("unlock"), "{err}");
    assert!(!out.exists());
}

#[test]
fn reversing_a_1321_page_manual() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("pgfmanual.pdf");
    let out = dir.path().join("reversed.pdf");
    let started = std::time::Instant::now();
    let report = scanpro_pdf::select_pages(&input, |count| Ok((1..=count).rev().collect()), &out).unwrap();
    eprintln!(
        "reorder of pgfmanual (1321 pages, 10 MB): {:.2?}, {} bookmarks kept",
        started.elapsed(),
        report.bookmarks
    );
    assert_eq!(report.bookmarks_dropped, 0);
    qpdf_check_clean(&out);
    assert_eq!(page_count(&out), 1321);
    for (out_page, in_page) in [(1, 1321), (700, 622), (1321, 1)] {
        assert_eq!(page_text(&out, out_page), page_text(&input, in_page));
    }
}
