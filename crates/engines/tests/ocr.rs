//! OCR and PDF text extraction on real corpus documents. Outputs are checked with poppler and
//! qpdf, never with our own code. OCRmyPDF, Tesseract (eng, deu), poppler-utils and qpdf must be
//! installed: a missing one fails the test loudly. Small scans only: every test OCRs a page or
//! two.

use scanpro_core::ErrorCode;
use scanpro_core::params::{OcrMode, OcrOutput, OcrParams, PdfToTextParams};
use scanpro_engines::ocr::{self, InputFormat, OcrConfig, OcrReport};
use scanpro_process::progress::{PageProgress, ProgressFn, ignore_progress};
use scanpro_testkit::checkers::{page_count, pdfinfo, pdftotext, qpdf_check, run};
use scanpro_testkit::corpus::corpus;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn config() -> OcrConfig {
    OcrConfig { jobs: 2, ..OcrConfig::default() }
}

/// Pages `pages` of `input` as a new PDF, made by qpdf.
fn pdf_of_pages(dir: &Path, name: &str, parts: &[(&Path, &str)]) -> PathBuf {
    let path = dir.join(name);
    let mut args: Vec<&std::ffi::OsStr> = vec!["--empty".as_ref(), "--pages".as_ref()];
    for (file, pages) in parts {
        args.push(file.as_os_str());
        args.push(pages.as_ref());
    }
    args.extend(["--".as_ref(), path.as_os_str()]);
    let out = run("qpdf", args);
    assert!(out.status.success(), "qpdf could not cut pages: {}", String::from_utf8_lossy(&out.stderr));
    path
}

fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Character error rate of `hypothesis` against `reference`: edit distance over the reference's
/// length, whitespace runs counted as one space.
fn character_error_rate(hypothesis: &str, reference: &str) -> f64 {
    let (hyp, reference): (Vec<char>, Vec<char>) =
        (normalised(hypothesis).chars().collect(), normalised(reference).chars().collect());
    let mut previous: Vec<usize> = (0..=hyp.len()).collect();
    for (i, r) in reference.iter().enumerate() {
        let mut current = vec![i + 1; hyp.len() + 1];
        for (j, h) in hyp.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(r != h)).min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[hyp.len()] as f64 / reference.len().max(1) as f64
}

/// A progress callback and what it was told.
fn recorder() -> (ProgressFn, Arc<Mutex<Vec<PageProgress>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (Arc::new(move |p| sink.lock().unwrap().push(p)), seen)
}

async fn ocr_ok(input: &Path, output: &Path, params: &OcrParams) -> OcrReport {
    ocr::ocr(&config(), input, output, params, ignore_progress())
        .await
        .unwrap_or_else(|e| panic!("OCR of {} failed: {e}", input.display()))
}

async fn ocr_err(input: &Path, params: &OcrParams) -> scanpro_core::ToolError {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join(format!("out.{}", params.output.extension()));
    let err = ocr::ocr(&config(), input, &output, params, ignore_progress())
        .await
        .expect_err(&format!("OCR of {} should fail", input.display()));
    assert!(!output.exists(), "a failed run left an output");
    err
}

#[test]
fn ground_truth_comparison_counts_edits() {
    assert_eq!(character_error_rate("the  quick\nfox", "the quick fox"), 0.0);
    assert!((character_error_rate("tha quick fx", "the quick fox") - 2.0 / 13.0).abs() < 1e-9);
}

#[tokio::test]
async fn scanned_page_becomes_searchable_with_ground_truth_text_and_progress() {
    let dir = tempfile::tempdir().unwrap();
    let scan = corpus("pdf-scanned/synth_pdkids_p3-4_300dpi_degraded.pdf");
    let page = pdf_of_pages(dir.path(), "page.pdf", &[(&scan, "1")]);
    let output = dir.path().join("searchable.pdf");
    let (progress, seen) = recorder();
    let report = ocr::ocr(&config(), &page, &output, &OcrParams::default(), progress).await.unwrap();
    assert_eq!((report.input, report.pages, report.pages_ocred, report.pages_skipped), (InputFormat::Pdf, 1, 1, 0));
    assert_eq!((report.output, report.languages.as_slice()), (OcrOutput::Pdf, ["eng".to_owned()].as_slice()));
    assert_eq!(page_count(&output), 1);
    qpdf_check(&output);
    assert!(!pdfinfo(&output, &["-meta"]).contains("pdfaid:part"), "plain pdf was asked for, not PDF/A");

    let ground_truth = std::fs::read_to_string(corpus("pdf-scanned/gt/synth_pdkids_p3-4_300dpi_degraded.txt")).unwrap();
    let first_page = ground_truth.split('\u{c}').next().unwrap();
    let text = pdftotext(&output);
    let cer = character_error_rate(&text, first_page);
    assert!(cer < 0.03, "character error rate {cer:.4} against the ground truth; text: {text}");
    assert_eq!(report.characters, text.chars().filter(|c| !c.is_whitespace()).count() as u64);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.first(), Some(&PageProgress { done: 0, total: 1 }), "{seen:?}");
    assert_eq!(seen.last(), Some(&PageProgress { done: 1, total: 1 }), "{seen:?}");
}

#[tokio::test]
async fn skip_text_leaves_born_digital_pages_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("pdf-text/ltnews17.pdf");
    let output = dir.path().join("out.pdf");
    let (progress, seen) = recorder();
    let report = ocr::ocr(&config(), &input, &output, &OcrParams::default(), progress).await.unwrap();
    assert_eq!((report.pages, report.pages_ocred, report.pages_skipped), (2, 0, 2));
    assert_eq!(page_count(&output), 2);
    qpdf_check(&output);
    assert_eq!(normalised(&pdftotext(&output)), normalised(&pdftotext(&input)), "the text layer changed");
    assert_eq!(seen.lock().unwrap().last(), Some(&PageProgress { done: 2, total: 2 }));
}

#[tokio::test]
async fn text_output_joins_recognised_and_existing_pages() {
    // Born-digital page, scanned page, born-digital page: only the scan goes to Tesseract.
    let dir = tempfile::tempdir().unwrap();
    let born = corpus("pdf-text/ltnews17.pdf");
    let scan = corpus("pdf-scanned/ocrmypdf_linn.pdf");
    let mixed = pdf_of_pages(dir.path(), "mixed.pdf", &[(&born, "1"), (&scan, "1"), (&born, "2")]);
    let output = dir.path().join("out.txt");
    let params = OcrParams { output: OcrOutput::Text, ..OcrParams::default() };
    let report = ocr_ok(&mixed, &output, &params).await;
    assert_eq!((report.pages, report.pages_ocred, report.pages_skipped), (3, 1, 2));
    let text = std::fs::read_to_string(&output).unwrap();
    let pages: Vec<&str> = text.split('\u{c}').collect();
    assert_eq!(pages.len(), 4, "three pages, each ended by a form feed");
    assert_eq!(pages[3], "");
    let born_pages: Vec<String> = pdftotext(&born).split('\u{c}').map(normalised).collect();
    assert_eq!(normalised(pages[0]), born_pages[0]);
    assert_eq!(normalised(pages[2]), born_pages[1]);
    let linn = std::fs::read_to_string(corpus("images/ocrmypdf_linn.txt")).unwrap();
    let cer = character_error_rate(pages[1], &linn);
    assert!(cer < 0.05, "character error rate {cer:.4} of the recognised page: {}", pages[1]);
    assert_eq!(report.characters, text.chars().filter(|c| !c.is_whitespace()).count() as u64);
}

fn occurrences(text: &str, word: &str) -> usize {
    text.matches(word).count()
}

#[tokio::test]
async fn force_rasterises_text_pages_and_redo_replaces_earlier_ocr() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("pdf-text/poi_quick.pdf");
    let forced = dir.path().join("forced.pdf");
    let report = ocr_ok(&input, &forced, &OcrParams { mode: OcrMode::Force, ..OcrParams::default() }).await;
    assert_eq!((report.pages, report.pages_ocred), (1, 1));
    assert_eq!(page_count(&forced), 1);
    qpdf_check(&forced);
    // The page is now an image with recognised text under it: poppler sees no fonts but OCR's.
    let fonts = run("pdffonts", [forced.as_os_str()]);
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    assert!(fonts.lines().skip(2).all(|font| font.contains("GlyphLessFont")), "{fonts}");
    let text = normalised(&pdftotext(&forced));
    assert!(text.contains("quick brown fox"), "{text}");

    let redone = dir.path().join("redone.pdf");
    let report = ocr_ok(&forced, &redone, &OcrParams { mode: OcrMode::Redo, ..OcrParams::default() }).await;
    assert_eq!((report.pages, report.pages_ocred), (1, 1));
    assert_eq!(page_count(&redone), 1);
    qpdf_check(&redone);
    let again = normalised(&pdftotext(&redone));
    assert_eq!(occurrences(&again, "fox"), occurrences(&text, "fox"), "the earlier OCR text was kept: {again}");
    assert!(again.contains("quick brown fox"), "{again}");
}

#[tokio::test]
async fn rotate_pages_and_deskew_read_an_upside_down_scan() {
    let dir = tempfile::tempdir().unwrap();
    let cardinal = corpus("pdf-scanned/ocrmypdf_cardinal.pdf");
    let upside_down = pdf_of_pages(dir.path(), "upside-down.pdf", &[(&cardinal, "3")]);
    let turned = dir.path().join("turned.pdf");
    let params = OcrParams { rotate_pages: true, deskew: true, ..OcrParams::default() };
    ocr_ok(&upside_down, &turned, &params).await;
    assert_eq!(page_count(&turned), 1);
    let text = normalised(&pdftotext(&turned));
    assert!(text.contains("The LinnSequencer 32 Track MIDI Sequence Recorder"), "{text}");
    let as_is = dir.path().join("as-is.pdf");
    ocr_ok(&upside_down, &as_is, &OcrParams::default()).await;
    assert!(!normalised(&pdftotext(&as_is)).contains("LinnSequencer"), "the page was read without turning it");
}

#[tokio::test]
async fn german_needs_deu_and_images_are_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let image = corpus("images/tesseract_eurotext.tif");
    let output = dir.path().join("eurotext.txt");
    let params =
        OcrParams { languages: vec!["deu".into(), "eng".into()], output: OcrOutput::Text, ..OcrParams::default() };
    let report = ocr_ok(&image, &output, &params).await;
    assert_eq!((report.input, report.pages, report.pages_ocred), (InputFormat::Tiff, 1, 1));
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(text.contains("über den faulen Hund"), "German umlauts need deu: {text}");
    let ground_truth = std::fs::read_to_string(corpus("images/tesseract_eurotext.txt")).unwrap();
    let cer = character_error_rate(&text, &ground_truth);
    assert!(cer < 0.1, "character error rate {cer:.4}: {text}");

    // A PNG without a resolution gets `image_dpi`: its page is the image at that resolution.
    let png = corpus("images/ocrmypdf_baiona.png");
    let output = dir.path().join("baiona.pdf");
    let report = ocr_ok(&png, &output, &OcrParams { image_dpi: Some(200), ..OcrParams::default() }).await;
    assert_eq!((report.input, report.pages), (InputFormat::Png, 1));
    let info = pdfinfo(&output, &[]);
    assert!(info.contains("230.4 x 245.52 pts"), "640 × 682 pixels at 200 dpi: {info}");
    assert!(report.characters > 0);
}

#[tokio::test]
async fn pdfa_output_identifies_itself_as_pdfa() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("pdf-scanned/ocrmypdf_ccitt.pdf");
    let output = dir.path().join("archive.pdf");
    let report = ocr_ok(&input, &output, &OcrParams { output: OcrOutput::Pdfa, ..OcrParams::default() }).await;
    assert_eq!((report.output, report.pages), (OcrOutput::Pdfa, 1));
    assert_eq!(page_count(&output), 1);
    qpdf_check(&output);
    let meta = pdfinfo(&output, &["-meta"]);
    assert!(meta.contains("pdfaid:part") && meta.contains("pdfaid:conformance"), "{meta}");
    assert!(!normalised(&pdftotext(&output)).is_empty(), "no text recognised");
}

#[tokio::test]
async fn unknown_language_is_refused_naming_the_installed_ones() {
    let input = corpus("pdf-scanned/ocrmypdf_linn.pdf");
    let err = ocr_err(&input, &OcrParams { languages: vec!["eng".into(), "xyz".into()], ..OcrParams::default() }).await;
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.starts_with("languages: \"xyz\" is not installed; installed languages: "), "{}", err.message);
    assert!(
        err.message.contains("deu") && err.message.contains("eng") && !err.message.contains("osd"),
        "{}",
        err.message
    );
    let installed = ocr::installed_languages(&config()).await.unwrap();
    for language in ["eng", "deu", "fra", "spa", "ita", "por"] {
        assert!(installed.contains(&language.to_owned()), "{language} missing from {installed:?}");
    }
    assert_eq!(ocr::installed_languages_blocking(&config()).unwrap(), installed);
}

#[tokio::test]
async fn bad_inputs_get_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let params = OcrParams::default();
    for (name, code) in [
        ("pdf-broken/pdfjs_saslprep-r6.pdf", ErrorCode::EncryptedInput),
        ("pdf-text/pdfjs_issue17069.pdf", ErrorCode::EncryptedInput),
        ("docx/stress004.docx", ErrorCode::UnsupportedFormat),
        ("pdf-broken/ocrmypdf_invalid.pdf", ErrorCode::InvalidPdf),
        // A 35000 × 35000 pixel page image: a decompression bomb to OCRmyPDF.
        ("pdf-broken/ocrmypdf_hugemono.pdf", ErrorCode::ResourceLimit),
    ] {
        let err = ocr_err(&corpus(name), &params).await;
        assert_eq!(err.code, code, "{name}: {err}");
    }
    let err = ocr_err(&corpus("pdf-text/pdfjs_issue17069.pdf"), &params).await;
    assert!(err.message.contains("unlock"), "{}", err.message);
    // Passes every check of ours, then OCRmyPDF cannot decode it.
    let broken_png = dir.path().join("broken.png");
    std::fs::write(&broken_png, b"\x89PNG\r\n\x1a\nthis is not image data at all").unwrap();
    let err = ocr_err(&broken_png, &params).await;
    assert_eq!(err.code, ErrorCode::UnsupportedFormat, "{err}");
    let err = ocr_err(&corpus("pdf-text/poi_quick.pdf"), &OcrParams { image_dpi: Some(5), ..params }).await;
    assert!(err.message.starts_with("image_dpi: "), "{err}");
}

/// The process group whose leader's command line mentions `marker`, and whether a `tesseract`
/// runs in it.
fn group_of(marker: &str) -> Option<(i32, bool)> {
    let processes: Vec<(i32, i32, String, String)> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let pgrp = stat.rsplit_once(')')?.1.split_whitespace().nth(2)?.parse().ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?.trim().to_owned();
            let cmdline = std::fs::read_to_string(entry.path().join("cmdline")).ok()?.replace('\0', " ");
            Some((pid, pgrp, comm, cmdline))
        })
        .collect();
    let (leader, ..) = processes.iter().find(|(pid, pgrp, _, cmdline)| pid == pgrp && cmdline.contains(marker))?;
    let tesseract = processes.iter().any(|(_, pgrp, comm, _)| pgrp == leader && comm == "tesseract");
    Some((*leader, tesseract))
}

fn group_members(pgid: i32) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let pgrp: i32 = stat.rsplit_once(')')?.1.split_whitespace().nth(2)?.parse().ok()?;
            (pgrp == pgid).then_some(stat)
        })
        .collect()
}

#[tokio::test]
async fn dropping_the_future_kills_ocrmypdf_and_its_tesseracts() {
    // A run directory of its own, so its ocrmypdf is told from other tests' by its arguments.
    let work = tempfile::Builder::new().prefix("ocr-cancel-").tempdir().unwrap();
    let config = OcrConfig { work_dir: work.path().to_owned(), ..config() };
    let input = corpus("pdf-scanned/synth_freeculture_p30-39_200dpi.pdf");
    let output = work.path().join("never.pdf");
    let params = OcrParams::default();
    let mut running = Box::pin(ocr::ocr(&config, &input, &output, &params, ignore_progress()));
    let marker = work.path().to_str().unwrap().to_owned();
    let started = Instant::now();
    let pgid = loop {
        tokio::select! {
            result = &mut running => panic!("OCR of 10 pages ended before it could be cancelled: {result:?}"),
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
        if let Some((pgid, true)) = group_of(&marker) {
            break pgid;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no tesseract started within 2 minutes");
    };
    drop(running);
    let dropped = Instant::now();
    while !group_members(pgid).is_empty() && dropped.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(group_members(pgid), Vec::<String>::new(), "processes of the cancelled run survived");
    assert!(!output.exists());
    let left: Vec<_> = std::fs::read_dir(work.path()).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "the run's directory was not removed: {left:?}");
}

#[tokio::test]
async fn pdf_to_text_reads_born_digital_pdfs() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("pdf-text/ltnews17.pdf");
    let output = dir.path().join("all.txt");
    let report = ocr::pdf_to_text(&input, &output, &PdfToTextParams::default()).await.unwrap();
    let text = std::fs::read_to_string(&output).unwrap();
    assert_eq!(text, pdftotext(&input));
    assert_eq!((report.pages, report.pages_without_text.as_slice()), (2, &[][..]));
    assert_eq!(report.characters, text.chars().filter(|c| !c.is_whitespace()).count() as u64);

    // Pages in the order given; layout keeps the two columns side by side.
    let params = PdfToTextParams { pages: Some("2,1".into()), layout: true };
    let report = ocr::pdf_to_text(&input, &output, &params).await.unwrap();
    assert_eq!(report.pages, 2);
    let text = std::fs::read_to_string(&output).unwrap();
    let pages: Vec<&str> = text.split('\u{c}').collect();
    let plain: Vec<String> = pdftotext(&input).split('\u{c}').map(normalised).collect();
    assert_eq!(normalised(pages[0]).len(), plain[1].len(), "page 2 comes first");
    assert!(pages[0].lines().any(|line| line.contains("    ") && line.trim().len() > 60), "no side-by-side columns");

    let scan = corpus("pdf-scanned/ocrmypdf_linn.pdf");
    let report = ocr::pdf_to_text(&scan, &output, &PdfToTextParams::default()).await.unwrap();
    assert_eq!((report.characters, report.pages_without_text.as_slice()), (0, &[1][..]));

    for (input, params, code) in [
        ("pdf-broken/pdfjs_saslprep-r6.pdf", PdfToTextParams::default(), ErrorCode::EncryptedInput),
        ("images/ocrmypdf_baiona.png", PdfToTextParams::default(), ErrorCode::UnsupportedFormat),
        ("pdf-broken/ocrmypdf_invalid.pdf", PdfToTextParams::default(), ErrorCode::InvalidPdf),
        ("pdf-text/ltnews17.pdf", PdfToTextParams { pages: Some("5".into()), layout: false }, ErrorCode::InvalidParams),
    ] {
        let err = ocr::pdf_to_text(&corpus(input), &dir.path().join("x.txt"), &params).await.unwrap_err();
        assert_eq!(err.code, code, "{input}: {err}");
    }
    // Restrictions without a password do not stop reading.
    let restricted = corpus("pdf-text/pdfjs_issue17069.pdf");
    let report = ocr::pdf_to_text(&restricted, &output, &PdfToTextParams::default()).await.unwrap();
    assert!(report.characters > 0);
}

#[tokio::test]
async fn available_reports_versions_and_languages() {
    let info = ocr::available(&config()).await.unwrap();
    assert!(info.ocrmypdf_version.starts_with(char::is_numeric), "{info:?}");
    assert!(info.tesseract_version.starts_with("tesseract "), "{info:?}");
    assert!(info.languages.contains(&"eng".to_owned()), "{info:?}");
    let missing = OcrConfig { ocrmypdf: "/nonexistent/ocrmypdf".into(), ..config() };
    let err = ocr::available(&missing).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unavailable);
    assert!(err.message.contains("ocrmypdf"), "{}", err.message);
}
