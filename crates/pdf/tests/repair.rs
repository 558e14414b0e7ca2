//! Repair on the damaged files of the corpus: every output passes `qpdf --check` with exit 0,
//! opens in poppler with the pages qpdf sees in the damaged file, and the report names the
//! method and the damage.

use scanpro_core::ErrorCode;
use scanpro_pdf::RepairMethod;
use scanpro_testkit::checkers::{page_count, qpdf_check_clean, qpdf_pages, qpdf_verdict};
use scanpro_testkit::corpus::{corpus, corpus_files};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn broken(name: &str) -> PathBuf {
    corpus(Path::new("pdf-broken").join(name))
}

#[test]
fn named_damaged_files_are_repaired() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "qpdf_bad-xref.pdf",
        "qpdf_dangling-bad-xref.pdf",
        "pdfjs_xref_command_missing.pdf",
        "qpdf_bad-token-startxref.pdf",
    ] {
        let input = broken(name);
        let out = dir.path().join(name);
        let report = scanpro_pdf::repair(&input, &out).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name}: {report:?}");
        qpdf_check_clean(&out);
        assert_eq!(page_count(&out), report.pages, "{name}");
        if let Some(expected) = qpdf_pages(&input) {
            assert_eq!(report.pages, expected, "{name}: the pages qpdf finds in the damaged file");
        }
        assert!(!report.problems.is_empty(), "{name}: the report names what was wrong");
    }
}

#[test]
fn xref_damage_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fixed.pdf");
    let report = scanpro_pdf::repair(&broken("qpdf_bad-xref.pdf"), &out).unwrap();
    assert_eq!(report.method, RepairMethod::Lopdf);
    assert!(report.problems.iter().any(|p| p.contains("xref")), "{:?}", report.problems);
}

#[test]
fn every_broken_file_is_repaired_or_refused_cleanly() {
    let files = corpus_files("pdf-broken");
    let mut failures = Vec::new();
    let mut methods = std::collections::BTreeMap::<String, u32>::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let out_dir = tempfile::tempdir().unwrap();
        let out = out_dir.path().join("repaired.pdf");
        let started = Instant::now();
        let outcome = match scanpro_pdf::repair(file, &out) {
            Ok(report) => {
                *methods.entry(format!("{:?}", report.method)).or_default() += 1;
                let verdict = qpdf_verdict(&out);
                if verdict != Ok(0) {
                    Err(format!("qpdf --check: {verdict:?}"))
                } else if page_count(&out) != report.pages {
                    Err("poppler sees another page count".into())
                } else {
                    Ok(format!("{:?}, {} pages: {}", report.method, report.pages, report.problems.join("; ")))
                }
            }
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::EncryptedInput
                        | ErrorCode::EngineTimeout
                        | ErrorCode::InvalidPdf
                        | ErrorCode::ResourceLimit
                        | ErrorCode::UnsupportedFormat
                ) =>
            {
                *methods.entry(e.code.to_string()).or_default() += 1;
                Ok(format!("refused: {e}"))
            }
            Err(e) => Err(format!("unexpected error {e}")),
        };
        eprintln!("{name:45} {:>7.2?}  {}", started.elapsed(), outcome.as_ref().unwrap_or_else(|e| e));
        if let Err(why) = outcome {
            failures.push(format!("{name}: {why}"));
        }
    }
    eprintln!("{methods:?}");
    assert!(failures.is_empty(), "not handled cleanly:\n{}", failures.join("\n"));
}
