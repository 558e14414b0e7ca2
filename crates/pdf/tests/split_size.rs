//! Split by size: consecutive pages packed into files under a size limit, checked on disk and
//! with qpdf and poppler.

use scanpro_testkit::checkers::{page_count, page_text, qpdf_check_clean};
use scanpro_testkit::corpus::text_pdf;
use std::path::Path;
use std::time::Instant;

const MB: u64 = 1024 * 1024;

/// The parts cover every page once, in order, and each file holds its pages.
fn assert_covers(report: &scanpro_pdf::SizeSplitReport, dir: &Path, page_count: u32) {
    let mut next = 1;
    for part in &report.parts {
        assert_eq!(part.first_page, next, "{part:?}");
        assert!(part.last_page >= part.first_page);
        next = part.last_page + 1;
        let path = dir.join(&part.file);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), part.bytes, "{}", part.file);
    }
    assert_eq!(next, page_count + 1, "every page is in a part");
}

#[test]
fn parts_stay_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("pgfmanual.pdf");
    let started = Instant::now();
    let report = scanpro_pdf::split_by_size(&input, 2 * MB, dir.path(), "pgfmanual").unwrap();
    eprintln!(
        "pgfmanual (10 MB) into parts of at most 2 MB: {} parts in {:.2?}",
        report.parts.len(),
        started.elapsed()
    );
    assert_covers(&report, dir.path(), 1321);
    assert!(report.parts.len() >= 3, "{:?}", report.parts);
    for part in &report.parts {
        assert!(part.bytes <= 2 * MB && !part.over_limit, "{part:?}");
    }
    // Packed, not cut page by page: on average parts are well over half the limit.
    let total: u64 = report.parts.iter().map(|p| p.bytes).sum();
    assert!(total / report.parts.len() as u64 > MB, "parts average {} bytes", total / report.parts.len() as u64);
    for part in [&report.parts[0], &report.parts[report.parts.len() / 2], report.parts.last().unwrap()] {
        let path = dir.path().join(&part.file);
        qpdf_check_clean(&path);
        assert_eq!(page_count(&path), part.last_page - part.first_page + 1);
        assert_eq!(page_text(&path, 1), page_text(&input, part.first_page));
    }
}

#[test]
fn a_page_over_the_limit_goes_alone_and_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("pdfjs_tracemonkey.pdf");
    // 10 KB: less than any page with its fonts.
    let report = scanpro_pdf::split_by_size(&input, 10 * 1024, dir.path(), "tm").unwrap();
    assert_covers(&report, dir.path(), 14);
    assert_eq!(report.parts.len(), 14);
    assert!(report.parts.iter().all(|p| p.over_limit && p.first_page == p.last_page), "{:?}", report.parts);
    assert_eq!(report.parts[0].file, "tm_01.pdf");
    qpdf_check_clean(&dir.path().join("tm_14.pdf"));

    let whole = tempfile::tempdir().unwrap();
    let report = scanpro_pdf::split_by_size(&input, 100 * MB, whole.path(), "tm").unwrap();
    assert_eq!(report.parts.len(), 1, "everything fits in one part");
    assert_eq!(report.parts[0].file, "tm_01-14.pdf");
    assert_eq!(page_count(&whole.path().join("tm_01-14.pdf")), 14);
}
