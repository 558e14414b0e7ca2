//! Every damaged, hostile or locked file in the corpus either works through open, info,
//! rotate, merge, split, PDF/UA identification, forms, n-up, sanitising, annotation removal,
//! bookmarks, redaction, signing, signature checks and Markdown (and every output passes
//! `qpdf --check`) or fails with a typed input
//! error: never a panic, never a hang.

use scanpro_core::pages::PageSelection;
use scanpro_core::{ErrorCode, ToolError};
use scanpro_pdf::annotations::AnnotationKind;
use scanpro_pdf::forms::{FieldKind, FieldValue};
use scanpro_pdf::impose::{NUp, Order, Orientation, SheetSize};
use scanpro_pdf::outline::{Bookmark, Placement};
use scanpro_pdf::redact::Redaction;
use scanpro_pdf::reflow::TextFormat;
use scanpro_pdf::sanitize::Sanitize;
use scanpro_pdf::signatures::{Credentials, Signing, Visible};
use scanpro_testkit::checkers::qpdf_verdict;
use scanpro_testkit::corpus::corpus_files;
use scanpro_testkit::signing::{P12_PASSWORD, TestPki};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(60);

/// One signing certificate for the sweep.
fn credentials() -> &'static Credentials {
    static CREDENTIALS: OnceLock<(tempfile::TempDir, Credentials)> = OnceLock::new();
    &CREDENTIALS
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let pki = TestPki::create(dir.path());
            let bytes = std::fs::read(&pki.rsa_p12).unwrap();
            (dir, Credentials::from_pkcs12(&bytes, P12_PASSWORD).unwrap())
        })
        .1
}

/// What one file did: a summary, the typed error that stopped it, or (outer `Err`) a broken
/// output.
fn exercise(input: &Path, out_dir: &Path) -> Result<Result<String, ToolError>, String> {
    let steps = || -> Result<(u32, Vec<PathBuf>), ToolError> {
        scanpro_pdf::open(input)?;
        let info = scanpro_pdf::info(input)?;
        let rotated = out_dir.join("rotated.pdf");
        scanpro_pdf::rotate(input, 90, &[], &rotated)?;
        let merged = out_dir.join("merged.pdf");
        scanpro_pdf::merge(&[input.to_owned(), input.to_owned()], &[0, 1], &merged)?;
        let mut outputs = scanpro_pdf::split(input, vec![vec![1], vec![info.pages]], out_dir, "part")?;
        outputs.extend([rotated, merged]);
        // PDF/UA identification refuses an untagged file by design; a tagged one must come out whole.
        let marked = out_dir.join("marked.pdf");
        match scanpro_pdf::mark_pdfua(input, &marked) {
            Ok(_) => outputs.push(marked),
            Err(error) if error.code == ErrorCode::UnsupportedFormat => {}
            Err(error) => return Err(error),
        }
        // A form's text field is filled; a file with none is listed as such.
        let form = scanpro_pdf::forms::form_fields(input)?;
        let text_field =
            form.fields.iter().find(|f| f.kind == FieldKind::Text && !f.read_only && f.max_length.is_none());
        if let Some(field) = text_field {
            let filled = out_dir.join("filled.pdf");
            let values = [(field.name.clone(), FieldValue::Text("ScanPro".into()))].into();
            scanpro_pdf::forms::fill_form(input, &values, false, &filled)?;
            outputs.push(filled);
        }
        // Layout, sanitising, annotations and bookmarks rewrite the whole document.
        let four_up = out_dir.join("four_up.pdf");
        let layout = NUp {
            pages_per_sheet: 4,
            sheet: SheetSize::Source,
            orientation: Orientation::Auto,
            order: Order::Across,
            borders: true,
            margin: 0.0,
        };
        scanpro_pdf::impose::n_up(input, &layout, &four_up)?;
        let clean = out_dir.join("clean.pdf");
        let everything =
            Sanitize { scripts: true, embedded_files: true, links: true, xmp_metadata: true, document_metadata: true };
        scanpro_pdf::sanitize::sanitize(input, everything, &clean)?;
        let bare = out_dir.join("bare.pdf");
        let kinds = [AnnotationKind::Comments, AnnotationKind::Links, AnnotationKind::FormFields];
        scanpro_pdf::annotations::remove_annotations(input, &kinds, &PageSelection::all(), &bare)?;
        let marked = out_dir.join("bookmarked.pdf");
        scanpro_pdf::outline::bookmarks(input)?;
        let entry = Bookmark { title: "Start".into(), level: 1, page: Some(1) };
        scanpro_pdf::outline::write_bookmarks(input, &[entry], Placement::Add, &marked)?;
        let redacted = out_dir.join("redacted.pdf");
        let area = Redaction { areas: vec![(1, [50.0, 50.0, 200.0, 100.0])], dpi: 72, ..Redaction::default() };
        scanpro_pdf::redact::redact(input, &area, &redacted)?;
        outputs.extend([four_up, clean, bare, marked, redacted]);
        // Signatures are checked, the text is read back as Markdown, and a signature is appended.
        scanpro_pdf::signatures::verify(input, &[])?;
        scanpro_pdf::reflow::reflow(input, out_dir, "reflowed", TextFormat::Markdown, true)?;
        let signed = out_dir.join("signed.pdf");
        let signing = Signing {
            credentials: credentials(),
            field: None,
            reason: None,
            location: None,
            contact: None,
            visible: Some(Visible { page: 1, area: None, text: None, image: None }),
            at: chrono::Utc::now(),
            timestamp: None,
        };
        scanpro_pdf::signatures::sign(input, &signed, &signing)?;
        outputs.push(signed);
        Ok((info.pages, outputs))
    };
    match steps() {
        Ok((pages, outputs)) => {
            let codes = outputs.iter().map(|out| qpdf_verdict(out)).collect::<Result<Vec<_>, _>>()?;
            Ok(Ok(format!("ok: {pages} pages, qpdf --check {codes:?}")))
        }
        Err(error) => Ok(Err(error)),
    }
}

#[test]
fn broken_files_fail_cleanly_or_work() {
    let files = corpus_files("pdf-broken");
    assert!(files.len() >= 40, "expected the 40 broken files in the corpus, found {}", files.len());

    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let out_dir = tempfile::tempdir().unwrap();
        let (send, receive) = mpsc::channel();
        let (input, out_path) = (file.clone(), out_dir.path().to_owned());
        let started = Instant::now();
        // A hang would take the thread with it; the test reports it and moves on.
        std::thread::spawn(move || {
            let result = std::panic::catch_unwind(|| exercise(&input, &out_path));
            let _ = send.send(result);
        });
        let outcome = match receive.recv_timeout(DEADLINE) {
            Err(_) => Err(format!("no answer within {DEADLINE:?} (hang)")),
            Ok(Err(_)) => Err("a panic escaped".to_owned()),
            Ok(Ok(Err(bad_output))) => Err(bad_output),
            Ok(Ok(Ok(Ok(summary)))) => Ok(summary),
            Ok(Ok(Ok(Err(error)))) => match error.code {
                ErrorCode::InvalidPdf
                | ErrorCode::EncryptedInput
                | ErrorCode::UnsupportedFormat
                | ErrorCode::ResourceLimit => Ok(format!("{error}")),
                _ => Err(format!("unexpected error {error}")),
            },
        };
        eprintln!("{name:45} {:>7.2?}  {}", started.elapsed(), outcome.as_ref().unwrap_or_else(|e| e));
        if let Err(why) = outcome {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "files not handled cleanly:\n{}", failures.join("\n"));
}
