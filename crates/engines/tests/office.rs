//! The LibreOffice pool on real corpus documents. Outputs are checked with poppler and qpdf, never
//! with our own code. LibreOffice, Python's `uno`, poppler-utils and qpdf must be installed: a
//! missing one fails the test loudly.
//!
//! The tests run one at a time (they share two cores, and some measure deadlines); each has its
//! own pool under its own directory, and checks that nothing of it is left after shutdown.

use scanpro_core::ErrorCode;
use scanpro_core::pages::PageSelection;
use scanpro_engines::office::{
    ConvertOptions, ConvertRequest, Converted, OfficeConfig, OfficeError, OfficePool, PdfaLevel, Route, TargetFormat,
};
use scanpro_testkit::checkers::{page_count, pages_text, pdfinfo, pdftotext, qpdf_check, qpdf_json, run};
use scanpro_testkit::corpus::{corpus, corpus_files};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Held by every test: one pool at a time on the machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Width and height of page 1, in points.
fn first_page_size(path: &Path) -> (f64, f64) {
    let info = pdfinfo(path, &[]);
    let size = info.lines().find_map(|l| l.strip_prefix("Page size:")).expect("page size");
    let numbers: Vec<f64> = size.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    (numbers[0], numbers[1])
}

/// The words of pages `first` to `last` (all of them when `None`), one space between each.
fn text_of(path: &Path, pages: Option<(u32, u32)>) -> String {
    let text = match pages {
        Some((first, last)) => pages_text(path, first, last),
        None => pdftotext(path),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Objects of `/Subtype /Text`: comments exported as PDF annotations.
fn text_annotations(path: &Path) -> usize {
    let objects = qpdf_json(path, &["qpdf"]);
    let objects = objects["qpdf"][1].as_object().expect("qpdf objects");
    objects.values().filter(|o| o["value"]["/Subtype"] == "/Text").count()
}

fn assert_pdf_with_words(path: &Path, words: &[&str]) {
    assert!(page_count(path) >= 1, "{} has no pages", path.display());
    qpdf_check(path);
    let text = text_of(path, None);
    for word in words {
        assert!(text.contains(word), "{} lacks {word:?}: {}", path.display(), &text[..text.len().min(400)]);
    }
}

/// Processes whose command line mentions `dir`.
fn processes_under(dir: &Path) -> String {
    let out = Command::new("pgrep").args(["-af", &dir.display().to_string()]).output().expect("pgrep");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A pool under its own directory, and a directory for outputs.
struct TestPool {
    pool: OfficePool,
    work: tempfile::TempDir,
    out: tempfile::TempDir,
    outputs: std::sync::atomic::AtomicUsize,
}

impl TestPool {
    async fn start(adjust: impl FnOnce(&mut OfficeConfig)) -> Self {
        let work = tempfile::Builder::new().prefix("office-test-").tempdir().unwrap();
        let mut config = OfficeConfig {
            instances: 1,
            conversion_timeout: Duration::from_secs(90),
            work_dir: work.path().to_owned(),
            ..OfficeConfig::default()
        };
        adjust(&mut config);
        let pool = OfficePool::start(config).await.unwrap_or_else(|e| panic!("the pool does not start: {e}"));
        Self { pool, work, out: tempfile::tempdir().unwrap(), outputs: Default::default() }
    }

    async fn convert(
        &self,
        input: &Path,
        to: TargetFormat,
        options: ConvertOptions,
    ) -> (Result<Converted, OfficeError>, PathBuf) {
        let stem = input.file_stem().unwrap().to_string_lossy();
        let number = self.outputs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let output = self.out.path().join(format!("{stem}-{number}.{}", to.extension()));
        let result = self.pool.convert(input, &output, &ConvertRequest { to, options }).await;
        (result, output)
    }

    async fn converted(&self, input: &Path, to: TargetFormat, options: ConvertOptions) -> (Converted, PathBuf) {
        let (result, output) = self.convert(input, to, options).await;
        let converted = result.unwrap_or_else(|e| panic!("{} to {to}: {} {e}", input.display(), e.code()));
        assert!(std::fs::metadata(&output).unwrap().len() > 0);
        (converted, output)
    }

    /// Shuts the pool down and checks that no process and no file of it is left.
    async fn finish(self) {
        self.pool.shutdown().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let left = processes_under(self.work.path());
        assert!(left.is_empty(), "processes left after shutdown:\n{left}");
        let files: Vec<_> = std::fs::read_dir(self.work.path()).unwrap().collect();
        assert!(files.is_empty(), "files left after shutdown: {files:?}");
    }
}

fn error_of(result: Result<Converted, OfficeError>) -> OfficeError {
    match result {
        Ok(converted) => panic!("expected an error, converted {converted:?}"),
        Err(error) => error,
    }
}

#[tokio::test]
async fn office_documents_convert_to_pdf() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pool = TestPool::start(|c| c.instances = 2).await;
    let cases: [(&str, &[&str]); 7] = [
        ("docx/stress006.docx", &["PRESBYTERY OF CAYUGA-SYRACUSE", "pulpit supply rate"]),
        ("docx/testComment.docx", &[]),
        ("xlsx/Tables.xlsx", &["Married Taxpayers", "PRSI"]),
        ("pptx/layouts.pptx", &["Centered Title", "Level 2"]),
        ("odt/odfpy_Electra.odt", &["Project Gutenberg EBook of Electra"]),
        ("odt/odfpy_countrystatistics.ods", &["Population", "Luxembourg"]),
        ("odt/odfpy_emb_spreadsheet.odp", &["Embedded Spreadsheet"]),
    ];
    for (name, words) in cases {
        let (converted, pdf) = pool.converted(&corpus(name), TargetFormat::Pdf, Default::default()).await;
        assert_eq!(converted.route, Route::Warm, "{name}");
        assert_pdf_with_words(&pdf, words);
    }
    let status = pool.pool.status();
    assert_eq!((status.conversions, status.fallbacks, status.restarts), (7, 0, 0), "{status:?}");
    pool.finish().await;
}

#[tokio::test]
async fn docx_round_trips_through_odt_and_doc() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pool = TestPool::start(|_| {}).await;
    let original = corpus("docx/stress006.docx");
    let (_, odt) = pool.converted(&original, TargetFormat::Odt, Default::default()).await;
    let mimetype =
        zip::ZipArchive::new(std::fs::File::open(&odt).unwrap()).unwrap().by_name("mimetype").map(|f| f.size()).ok();
    assert!(mimetype.is_some(), "the odt has no mimetype entry");
    let (_, doc) = pool.converted(&original, TargetFormat::Doc, Default::default()).await;
    let kind = String::from_utf8(run("file", ["-b".as_ref(), doc.as_os_str()]).stdout).unwrap();
    assert!(kind.contains("Microsoft Office Word") || kind.contains("Composite Document File"), "{kind}");
    for intermediate in [odt, doc] {
        let (_, docx) = pool.converted(&intermediate, TargetFormat::Docx, Default::default()).await;
        let names: Vec<String> = zip::ZipArchive::new(std::fs::File::open(&docx).unwrap())
            .unwrap()
            .file_names()
            .flatten()
            .map(String::from)
            .collect();
        assert!(names.iter().any(|n| n == "word/document.xml"), "{names:?}");
        let (_, pdf) = pool.converted(&docx, TargetFormat::Pdf, Default::default()).await;
        assert_pdf_with_words(&pdf, &["PRESBYTERY OF CAYUGA-SYRACUSE", "pulpit supply rate"]);
    }
    pool.finish().await;
}

#[tokio::test]
async fn pdf_options_have_visible_effects() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pool = TestPool::start(|_| {}).await;
    let docx = corpus("docx/stress006.docx");
    let (_, full) = pool.converted(&docx, TargetFormat::Pdf, Default::default()).await;
    assert_eq!(page_count(&full), 5);
    assert!(first_page_size(&full).0 < first_page_size(&full).1, "portrait by default");

    let pages = |s: &str| ConvertOptions { pages: Some(PageSelection::parse(s).unwrap()), ..Default::default() };
    let (_, two) = pool.converted(&docx, TargetFormat::Pdf, pages("2-3")).await;
    assert_eq!(page_count(&two), 2);
    assert_eq!(text_of(&two, Some((1, 1))), text_of(&full, Some((2, 2))));
    let (_, last) = pool.converted(&docx, TargetFormat::Pdf, pages("last")).await;
    assert_eq!(text_of(&last, None), text_of(&full, Some((5, 5))));
    for bad in ["9", "3,1"] {
        let error = error_of(pool.convert(&docx, TargetFormat::Pdf, pages(bad)).await.0);
        assert!(matches!(error, OfficeError::InvalidParams { field: "pages", .. }), "{bad}: {error}");
    }

    let (_, landscape) =
        pool.converted(&docx, TargetFormat::Pdf, ConvertOptions { landscape: true, ..Default::default() }).await;
    let (width, height) = first_page_size(&landscape);
    assert!(width > height, "landscape page is {width} x {height}");

    let (_, pdfa) = pool
        .converted(&docx, TargetFormat::Pdf, ConvertOptions { pdfa: Some(PdfaLevel::A2b), ..Default::default() })
        .await;
    let meta = pdfinfo(&pdfa, &["-meta"]);
    assert!(meta.contains("pdfaid:part>2<") || meta.contains("pdfaid:part=\"2\""), "no PDF/A-2 identification: {meta}");
    assert!(!pdfinfo(&full, &["-meta"]).contains("pdfaid"), "plain export claims PDF/A");
    qpdf_check(&pdfa);

    let headings = corpus("docx/heading123.docx");
    let (_, with) = pool.converted(&headings, TargetFormat::Pdf, Default::default()).await;
    let (_, without) = pool
        .converted(&headings, TargetFormat::Pdf, ConvertOptions { export_bookmarks: Some(false), ..Default::default() })
        .await;
    assert!(!qpdf_json(&with, &["outlines"])["outlines"].as_array().unwrap().is_empty(), "headings made no bookmarks");
    assert!(
        qpdf_json(&without, &["outlines"])["outlines"].as_array().unwrap().is_empty(),
        "bookmarks despite export_bookmarks false"
    );

    // Writer comments with a view crash headless LibreOffice: wanted in the PDF, they go cold.
    let comments = corpus("docx/testComment.docx");
    let (plain, no_notes) = pool.converted(&comments, TargetFormat::Pdf, Default::default()).await;
    assert_eq!((plain.route, text_annotations(&no_notes)), (Route::Warm, 0));
    let (noted, notes) =
        pool.converted(&comments, TargetFormat::Pdf, ConvertOptions { export_notes: true, ..Default::default() }).await;
    assert_eq!(noted.route, Route::Cold);
    assert!(text_annotations(&notes) >= 1, "no comment annotations");

    let sheets = corpus("xlsx/Tables.xlsx");
    let (_, paged) = pool.converted(&sheets, TargetFormat::Pdf, Default::default()).await;
    let one_per_sheet = ConvertOptions { single_page_sheets: true, ..Default::default() };
    let (_, single) = pool.converted(&sheets, TargetFormat::Pdf, one_per_sheet.clone()).await;
    assert_eq!(page_count(&single), 12, "Tables.xlsx has 12 sheets");
    assert_ne!(page_count(&paged), 12);
    let error = error_of(pool.convert(&docx, TargetFormat::Pdf, one_per_sheet).await.0);
    assert!(matches!(error, OfficeError::InvalidParams { field: "single_page_sheets", .. }), "{error}");
    assert_eq!(pool.pool.status().restarts, 0);
    pool.finish().await;
}

#[tokio::test]
async fn pdf_imports_into_documents_and_presentations() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pool = TestPool::start(|_| {}).await;
    let pdf = corpus("pdf-text/ltnews17.pdf");
    for to in [TargetFormat::Docx, TargetFormat::Pptx] {
        let (_, imported) = pool.converted(&pdf, to, Default::default()).await;
        let (_, back) = pool.converted(&imported, TargetFormat::Pdf, Default::default()).await;
        assert_pdf_with_words(&back, &["Issue 17", "addpenalty", "fnsymbol"]);
    }
    let error = error_of(pool.convert(&pdf, TargetFormat::Xlsx, Default::default()).await.0);
    assert!(matches!(error, OfficeError::InvalidParams { field: "to", .. }), "{error}");
    pool.finish().await;
}

#[tokio::test]
async fn text_inputs_convert_and_non_documents_are_refused() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pool = TestPool::start(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let inputs: [(&str, &str, &[&str]); 3] = [
        ("note.txt", "Plain words in UTF-8: Grüße aus Köln.\n", &["Plain words", "Grüße aus Köln"]),
        (
            "page.html",
            "<!DOCTYPE html><html><body><h1>Quarterly report</h1><p>Revenue grew.</p></body></html>",
            &["Quarterly report", "Revenue grew"],
        ),
        (
            "letter.rtf",
            r"{\rtf1\ansi{\fonttbl\f0 Times;}\f0 Dear reader, rich text here.\par}",
            &["Dear reader, rich text here"],
        ),
    ];
    for (name, body, words) in inputs {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let (_, pdf) = pool.converted(&path, TargetFormat::Pdf, Default::default()).await;
        assert_pdf_with_words(&pdf, words);
    }
    let image = corpus("images/ocrmypdf_linn.png");
    assert_eq!(
        error_of(pool.convert(&image, TargetFormat::Pdf, Default::default()).await.0).code(),
        ErrorCode::UnsupportedFormat
    );
    let encrypted = corpus("docx/bug53475-password-is-pass.docx");
    assert_eq!(
        error_of(pool.convert(&encrypted, TargetFormat::Pdf, Default::default()).await.0).code(),
        ErrorCode::EncryptedInput
    );
    // Encrypted with Office's default password: LibreOffice opens it, so do we.
    let (_, opened) = pool.converted(&corpus("docx/protected_agile.docx"), TargetFormat::Pdf, Default::default()).await;
    assert_pdf_with_words(&opened, &["Agile protected document"]);
    pool.finish().await;
}

#[tokio::test]
async fn linked_resources_are_never_fetched() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let pool = TestPool::start(|_| {}).await;
    let html = pool.out.path().join("linked.html");
    std::fs::write(
        &html,
        format!(
            "<!DOCTYPE html><html><head><link rel=\"stylesheet\" href=\"http://127.0.0.1:{port}/style.css\"></head>\
             <body><p>Linked resources</p><img src=\"http://127.0.0.1:{port}/image.png\"></body></html>"
        ),
    )
    .unwrap();
    let (_, pdf) = pool.converted(&html, TargetFormat::Pdf, Default::default()).await;
    assert_pdf_with_words(&pdf, &["Linked resources"]);
    assert!(listener.accept().is_err(), "LibreOffice connected to a server a document linked to");
    pool.finish().await;
}

/// The pids of soffice.bin processes under `dir`.
fn soffice_pids(dir: &Path) -> Vec<i32> {
    processes_under(dir)
        .lines()
        .filter(|line| line.contains("soffice.bin"))
        .filter_map(|line| line.split_whitespace().next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn a_killed_instance_is_replaced() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pool = TestPool::start(|c| c.start_at_boot = true).await;
    let before = soffice_pids(pool.work.path());
    assert_eq!(before.len(), 1, "one warm instance expected");
    assert_eq!(pool.pool.status().idle, 1);
    nix_kill(before[0]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(pool.pool.status().idle, 0, "the dead instance still counts as idle");
    let (converted, pdf) = pool.converted(&corpus("docx/stress006.docx"), TargetFormat::Pdf, Default::default()).await;
    assert_eq!(converted.route, Route::Warm);
    assert_pdf_with_words(&pdf, &["PRESBYTERY"]);
    let after = soffice_pids(pool.work.path());
    assert_eq!(after.len(), 1);
    assert_ne!(after, before);
    assert_eq!(pool.pool.status().restarts, 1);
    pool.finish().await;
}

fn nix_kill(pid: i32) {
    let status = Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill");
    assert!(status.success());
}

#[tokio::test]
async fn instances_are_recycled_after_n_conversions() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pool = TestPool::start(|c| c.recycle_after = 2).await;
    let input = corpus("docx/TestTableColumns.docx");
    let mut pids = Vec::new();
    for _ in 0..5 {
        pool.converted(&input, TargetFormat::Pdf, Default::default()).await;
        pids.extend(soffice_pids(pool.work.path()));
    }
    let status = pool.pool.status();
    assert_eq!((status.conversions, status.recycled, status.restarts, status.fallbacks), (5, 2, 2, 0), "{status:?}");
    pids.dedup();
    assert_eq!(pids.len(), 3, "instances seen: {pids:?}");
    pool.finish().await;
}

#[tokio::test]
async fn a_document_past_its_deadline_kills_the_instance_and_fails_typed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pool = TestPool::start(|c| c.conversion_timeout = Duration::from_secs(8)).await;
    let started = Instant::now();
    // The shared-strings attack sample spins LibreOffice forever, warm or cold.
    let error =
        error_of(pool.convert(&corpus("xlsx/poc-shared-strings.xlsx"), TargetFormat::Pdf, Default::default()).await.0);
    assert_eq!(error.code(), ErrorCode::EngineTimeout, "{error}");
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    let status = pool.pool.status();
    assert_eq!((status.restarts, status.fallbacks), (2, 1), "{status:?}");
    // The pool still converts.
    let (converted, _) =
        pool.converted(&corpus("docx/TestTableColumns.docx"), TargetFormat::Pdf, Default::default()).await;
    assert_eq!(converted.route, Route::Warm);
    pool.finish().await;
}

#[tokio::test]
async fn shutdown_refuses_new_work_with_busy() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let pool = TestPool::start(|_| {}).await;
    pool.converted(&corpus("docx/TestTableColumns.docx"), TargetFormat::Pdf, Default::default()).await;
    let handle = pool.pool.clone();
    handle.shutdown().await;
    let error =
        error_of(pool.convert(&corpus("docx/TestTableColumns.docx"), TargetFormat::Pdf, Default::default()).await.0);
    assert_eq!(error.code(), ErrorCode::Busy);
    pool.finish().await;
}

/// Corpus files with `role` dev that LibreOffice itself cannot read: a cold
/// `soffice --headless --convert-to pdf` fails on them too ("source file could not be loaded").
const UNREADABLE_BY_LIBREOFFICE: [&str; 1] = ["odt/ocrmypdf_tagged.odt"];

#[tokio::test]
async fn every_corpus_office_file_converts_or_fails_typed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let manifest = std::fs::read_to_string(corpus("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let roles: std::collections::HashMap<String, String> = manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            Some((fields.get(1)?.to_string(), fields.get(4)?.to_string()))
        })
        .collect();
    let mut files = Vec::new();
    for folder in ["docx", "xlsx", "pptx", "odt"] {
        for path in corpus_files(folder) {
            files.push(format!("{folder}/{}", path.file_name().unwrap().to_string_lossy()));
        }
    }
    files.sort();
    assert!(files.len() >= 70, "the corpus shrank: {} files", files.len());
    let pool = TestPool::start(|c| c.instances = 2).await;
    let started = Instant::now();
    let results = {
        let pool = &pool;
        let queue = Mutex::new(files.clone());
        let worker = || async {
            let mut done = Vec::new();
            loop {
                // Not `while let`: its scrutinee's guard would live through the await.
                let next = queue.lock().unwrap().pop();
                let Some(name) = next else { break };
                let (result, output) = pool.convert(&corpus(&name), TargetFormat::Pdf, Default::default()).await;
                done.push((name, result, output));
            }
            done
        };
        let (a, b) = tokio::join!(worker(), worker());
        a.into_iter().chain(b).collect::<Vec<_>>()
    };
    let mut report = Vec::new();
    for (name, result, output) in &results {
        let role = roles.get(name).map(String::as_str).unwrap_or_else(|| panic!("{name} is not in MANIFEST.tsv"));
        match result {
            Ok(converted) => {
                assert!(page_count(output) >= 1, "{name}: empty PDF");
                qpdf_check(output);
                report.push(format!("{name}: {:?}", converted.route));
            }
            Err(error) => {
                report.push(format!("{name}: {} ({error})", error.code()));
                let expected = role == "edge" || UNREADABLE_BY_LIBREOFFICE.contains(&name.as_str());
                assert!(expected, "{name} ({role}) failed: {} {error}", error.code());
                assert!(
                    matches!(
                        error.code(),
                        ErrorCode::UnsupportedFormat | ErrorCode::EncryptedInput | ErrorCode::EngineTimeout
                    ),
                    "{name}: untyped failure {} {error}",
                    error.code()
                );
            }
        }
    }
    for name in UNREADABLE_BY_LIBREOFFICE {
        let (_, result, _) = results.iter().find(|(n, _, _)| n == name).expect("listed file exists");
        assert!(result.is_err(), "{name} converts now: drop it from UNREADABLE_BY_LIBREOFFICE");
    }
    eprintln!(
        "sweep of {} files in {:?}, {:?}:\n{}",
        files.len(),
        started.elapsed(),
        pool.pool.status(),
        report.join("\n")
    );
    pool.finish().await;
}
