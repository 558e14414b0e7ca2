//! The whole `pdf-text` corpus through merge, split, rotate and watermark: every output passes
//! `qpdf --check` and keeps the page count poppler expects.

use scanpro_core::ErrorCode;
use scanpro_tools::{Input, run};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files the corpus itself marks as unreadable: its catalog has no page tree (qpdf finds 0 pages).
const REFUSED_AS_INVALID: &[&str] = &["pypdf_unreadablemetadata.pdf"];

fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("SCANPRO_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
        .join("pdf-text");
    assert!(dir.is_dir(), "corpus folder missing: {} (set SCANPRO_CORPUS)", dir.display());
    dir
}

fn pages_of(pdf: &Path) -> u32 {
    let out =
        Command::new("qpdf").arg("--show-npages").arg(pdf).output().expect("qpdf is required: apt-get install -y qpdf");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}

fn assert_checks(pdf: &Path, expected_pages: u32, what: &str) {
    let check = Command::new("qpdf").arg("--check").arg(pdf).output().expect("qpdf is required");
    assert_eq!(
        check.status.code(),
        Some(0),
        "{what}: qpdf --check {}: {}",
        pdf.display(),
        String::from_utf8_lossy(&check.stdout)
    );
    assert_eq!(pages_of(pdf), expected_pages, "{what}: page count of {}", pdf.display());
}

fn sweep_one(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let input = Input { path: path.to_owned(), filename: name.clone() };
    let pages = pages_of(path);
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
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 40, "the pdf-text corpus has {} files", files.len());
    // Two workers: the machine has two cores.
    let (left, right) = files.split_at(files.len() / 2);
    std::thread::scope(|scope| {
        for half in [left, right] {
            scope.spawn(move || half.iter().for_each(|f| sweep_one(f)));
        }
    });
}
