//! The whole `pdf-text` corpus through merge, split, rotate and watermark: every output passes
//! `qpdf --check` without warnings and has the page count qpdf expects.

use scanpro_core::ErrorCode;
use scanpro_testkit::checkers::{qpdf_pages, qpdf_verdict};
use scanpro_testkit::corpus::corpus_files;
use scanpro_tools::{Input, run};
use serde_json::{Value, json};
use std::path::Path;

/// Files the corpus itself marks as unreadable: its catalog has no page tree (qpdf finds 0 pages).
const REFUSED_AS_INVALID: &[&str] = &["pypdf_unreadablemetadata.pdf"];

fn assert_checks(pdf: &Path, expected_pages: u32, what: &str) {
    assert_eq!(qpdf_verdict(pdf), Ok(0), "{what}: qpdf --check {} must pass without warnings", pdf.display());
    assert_eq!(qpdf_pages(pdf), Some(expected_pages), "{what}: page count of {}", pdf.display());
}

fn sweep_one(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let input = Input { path: path.to_owned(), filename: name.clone() };
    let pages = qpdf_pages(path).unwrap_or(0);
    let scratch = tempfile::tempdir().unwrap();
    let steps: [(&str, Value, Vec<Input>, u32); 4] = [
        ("rotate", json!({"angle": 90, "pages": "odd"}), vec![input.clone()], pages),
        ("watermark", json!({"text": "ScanPro ✓ Черновик", "opacity": 0.3}), vec![input.clone()], pages),
        ("split", json!({"mode": "ranges", "ranges": "1,last"}), vec![input.clone()], 1),
        ("merge", json!({}), vec![input.clone(), input.clone()], 2 * pages),
    ];
    for (tool, params, inputs, expected_pages) in steps {
        let out_dir = scratch.path().join(tool);
        std::fs::create_dir_all(&out_dir).unwrap();
        match run(tool, &params, &inputs, &out_dir) {
            Ok(result) => {
                assert!(!REFUSED_AS_INVALID.contains(&name.as_str()), "{name}: {tool} unexpectedly accepted");
                assert!(!result.outputs.is_empty(), "{name}: {tool} wrote nothing");
                for output in &result.outputs {
                    assert_checks(&output.path, expected_pages, &format!("{name}: {tool}"));
                }
            }
            Err(e) if REFUSED_AS_INVALID.contains(&name.as_str()) => {
                assert_eq!(e.code, ErrorCode::InvalidPdf, "{name}: {e}")
            }
            Err(e) => panic!("{name}: {tool} failed: {e}"),
        }
    }
}

#[test]
fn every_text_pdf_survives_merge_split_rotate_and_watermark() {
    let files = corpus_files("pdf-text");
    assert!(files.len() >= 40, "the pdf-text corpus has {} files", files.len());
    // Two workers: the machine has two cores.
    let (left, right) = files.split_at(files.len() / 2);
    std::thread::scope(|scope| {
        for half in [left, right] {
            scope.spawn(move || half.iter().for_each(|f| sweep_one(f)));
        }
    });
}
