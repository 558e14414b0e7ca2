//! The Ghostscript engine on real corpus documents. Outputs are checked with qpdf and poppler
//! (`qpdf --check`, `pdfinfo`, `pdftotext`, `pdftoppm`), never with the engine's own code.
//! Ghostscript, qpdf and poppler-utils must be installed: a missing one fails the tests loudly.

mod common;

use common::{corpus_file, page_count, run};
use scanpro_core::ErrorCode;
use scanpro_core::params::{ByteSize, CompressLevel, CompressParams, GrayscaleParams, PdfaLevel, PdfaParams};
use scanpro_engines::ghostscript::{
    CompressMethod, CompressReport, GhostscriptConfig, available, compress, grayscale, pdfa,
};
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn qpdf_check(path: &Path) {
    let out = run("qpdf", &["--check".as_ref(), path.as_os_str()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "qpdf --check {}: {}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn words(path: &Path) -> HashSet<String> {
    let out = run("pdftotext", &["-q".as_ref(), path.as_os_str(), "-".as_ref()]);
    assert!(out.status.success(), "pdftotext {} failed", path.display());
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect()
}

/// Share of the input's distinct words that still extract from the output.
fn words_kept(input: &Path, output: &Path) -> f64 {
    let (before, after) = (words(input), words(output));
    if before.is_empty() {
        return 1.0;
    }
    before.iter().filter(|w| after.contains(*w)).count() as f64 / before.len() as f64
}

/// Page `page` rendered by pdftoppm at `dpi`: (width, height, RGB samples).
fn render_rgb(path: &Path, page: u32, dpi: u32) -> (usize, usize, Vec<u8>) {
    let (page, dpi) = (page.to_string(), dpi.to_string());
    let out = run(
        "pdftoppm",
        &[
            "-r".as_ref(),
            dpi.as_ref(),
            "-f".as_ref(),
            page.as_ref(),
            "-l".as_ref(),
            page.as_ref(),
            "-singlefile".as_ref(),
            path.as_os_str(),
        ],
    );
    assert!(out.status.success(), "pdftoppm {} failed", path.display());
    // Binary PPM: "P6\n<w> <h>\n255\n" then the samples.
    let text = String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(64)]).into_owned();
    let header: Vec<&str> = text.split_ascii_whitespace().take(4).collect();
    assert_eq!(header[0], "P6");
    let (width, height): (usize, usize) = (header[1].parse().unwrap(), header[2].parse().unwrap());
    let samples = out.stdout[out.stdout.len() - width * height * 3..].to_vec();
    (width, height, samples)
}

/// Pixels whose red, green and blue differ by more than a rounding error.
fn coloured_pixels(samples: &[u8]) -> usize {
    samples.chunks_exact(3).filter(|px| px.iter().max().unwrap() - px.iter().min().unwrap() > 8).count()
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).len()
}

fn level(level: CompressLevel) -> CompressParams {
    CompressParams { level, ..Default::default() }
}

/// Everything a compress output must satisfy, whatever the level.
fn assert_sound_compression(input: &Path, output: &Path, report: &CompressReport) {
    assert_eq!(report.bytes_before, size(input));
    assert_eq!(report.bytes_after, size(output), "{report:#?}");
    assert!(report.bytes_after <= report.bytes_before, "{report:#?}");
    assert_eq!(report.returned_original, report.method == CompressMethod::Original);
    assert_eq!(page_count(output), page_count(input));
    if !report.returned_original {
        qpdf_check(output);
    }
    let kept = words_kept(input, output);
    assert!(kept >= 0.95, "only {:.0} % of the words of {} still extract", kept * 100.0, input.display());
}

/// Runs every level on `name`, checks each output, and that sizes never grow with the level.
async fn every_level(name: &str) -> Vec<CompressReport> {
    let config = GhostscriptConfig::default();
    let input = corpus_file(name);
    let dir = tempfile::tempdir().unwrap();
    let mut reports: Vec<CompressReport> = Vec::new();
    for level in CompressLevel::ALL {
        let output = dir.path().join(format!("{}.pdf", level.as_str()));
        let report = compress(&config, &input, &output, &self::level(level)).await.unwrap();
        assert_eq!(report.level, level);
        assert_sound_compression(&input, &output, &report);
        if let Some(weaker) = reports.last() {
            assert!(
                report.bytes_after <= weaker.bytes_after,
                "{name}: {} gave {} bytes, {} gave {}",
                level.as_str(),
                report.bytes_after,
                weaker.level.as_str(),
                weaker.bytes_after
            );
        }
        reports.push(report);
    }
    reports
}

#[tokio::test]
async fn every_level_on_a_text_pdf_is_verified_and_monotonic() {
    let reports = every_level("pdf-text/ltnews17.pdf").await;
    // Born-digital TeX: the lossless pass gains little; Ghostscript's font rewrite most.
    assert_eq!(reports[0].method, CompressMethod::Structural, "{:#?}", reports[0]);
    assert!(reports[2].bytes_after * 2 < reports[2].bytes_before, "{:#?}", reports[2]);
}

#[tokio::test]
async fn every_level_on_a_scanned_pdf_is_verified_and_monotonic() {
    let reports = every_level("pdf-scanned/synth_ltnews17_p1-2_300dpi.pdf").await;
    let recommended = &reports[2];
    // 300 dpi gray scans: downsampling to 150 dpi is what saves.
    assert_eq!(recommended.method, CompressMethod::Reencoded, "{recommended:#?}");
    assert_eq!(recommended.settings.map(|s| s.dpi), Some(150), "{recommended:#?}");
    assert!(recommended.similarity.unwrap() >= 0.95, "{recommended:#?}");
    assert!(recommended.ratio < 0.7, "{recommended:#?}");
}

#[tokio::test]
async fn a_manual_that_ghostscript_grows_does_not_grow() {
    // pgfmanual.pdf doubles under `gs -dPDFSETTINGS=/ebook`.
    let input = corpus_file("pdf-text/pgfmanual.pdf");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");
    let report =
        compress(&GhostscriptConfig::default(), &input, &output, &level(CompressLevel::Recommended)).await.unwrap();
    assert_sound_compression(&input, &output, &report);
    assert!(report.bytes_after < report.bytes_before, "{report:#?}");
    assert_eq!(report.method, CompressMethod::Structural, "{report:#?}");
}

#[tokio::test]
async fn a_blank_ghostscript_page_is_refused() {
    // Ghostscript turns this CMYK image into a blank page, with exit status 0.
    let input = corpus_file("pdf-text/pypdf_cmyk-image.pdf");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");
    let report =
        compress(&GhostscriptConfig::default(), &input, &output, &level(CompressLevel::Extreme)).await.unwrap();
    assert_sound_compression(&input, &output, &report);
    assert_ne!(report.method, CompressMethod::Reencoded, "{report:#?}");
    let refused = report.attempts.iter().filter(|a| a.method == CompressMethod::Reencoded && !a.passed);
    assert!(refused.clone().any(|a| a.note.as_deref().is_some_and(|n| n.contains("blank"))), "{report:#?}");
    let (w, h, pixels) = render_rgb(&output, 1, 20);
    assert!(pixels.iter().filter(|&&s| s < 200).count() > w * h / 10, "the output page is blank");
}

#[tokio::test]
async fn target_sizes_are_met_or_reported_unmet() {
    let config = GhostscriptConfig::default();
    let input = corpus_file("pdf-scanned/synth_ltnews17_p1-2_300dpi.pdf");
    let dir = tempfile::tempdir().unwrap();

    // Above what `low` gives but below the lossless pass: the ladder climbs until it fits.
    let met = dir.path().join("met.pdf");
    let params = CompressParams {
        level: CompressLevel::Lossless,
        target_size: Some(ByteSize::Text("200KB".into())),
        ..Default::default()
    };
    let report = compress(&config, &input, &met, &params).await.unwrap();
    assert_sound_compression(&input, &met, &report);
    assert_eq!((report.target_bytes, report.target_met), (Some(200 * 1024), Some(true)), "{report:#?}");
    assert!(size(&met) <= 200 * 1024);

    // Smaller than any legible rewrite: the smallest verified result, reported as unmet.
    let unmet = dir.path().join("unmet.pdf");
    let params = CompressParams { target_size_mb: Some(0.002), ..Default::default() };
    let report = compress(&config, &input, &unmet, &params).await.unwrap();
    assert_sound_compression(&input, &unmet, &report);
    assert_eq!(report.target_met, Some(false), "{report:#?}");
    assert!(report.notes.iter().any(|n| n.contains("not met")), "{report:#?}");
}

#[tokio::test]
async fn absurd_parameters_name_the_field() {
    let config = GhostscriptConfig::default();
    let input = corpus_file("pdf-text/ltnews17.pdf");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");
    for (params, field) in [
        (CompressParams { target_size: Some(ByteSize::Bytes(0)), ..Default::default() }, "target_size:"),
        (
            CompressParams { target_size: Some(ByteSize::Text("2 parsecs".into())), ..Default::default() },
            "target_size:",
        ),
        (CompressParams { target_size_mb: Some(-1.0), ..Default::default() }, "target_size_mb:"),
    ] {
        let err = compress(&config, &input, &output, &params).await.unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParams, "{err}");
        assert!(err.message.starts_with(field), "{err}");
    }
    let unknown = serde_json::from_str::<CompressParams>(r#"{"level":"ultra"}"#).unwrap_err();
    assert!(unknown.to_string().contains("unknown variant `ultra`"), "{unknown}");
    assert!(!output.exists());
}

#[tokio::test]
async fn encrypted_and_broken_inputs_get_typed_errors() {
    let config = GhostscriptConfig::default();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");
    let truncated = dir.path().join("truncated.pdf");
    let whole = std::fs::read(corpus_file("pdf-text/ltnews17.pdf")).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let cases = [
        (corpus_file("pdf-broken/pdfjs_saslprep-r6.pdf"), ErrorCode::EncryptedInput),
        (corpus_file("pdf-broken/pypdf_libreoffice-writer-password.pdf"), ErrorCode::EncryptedInput),
        (corpus_file("pdf-broken/qpdf_bad1.pdf"), ErrorCode::UnsupportedFormat),
        (corpus_file("docx/delins.docx"), ErrorCode::UnsupportedFormat),
        (corpus_file("pdf-broken/ocrmypdf_invalid.pdf"), ErrorCode::InvalidPdf),
        (truncated.clone(), ErrorCode::InvalidPdf),
    ];
    for (input, code) in &cases {
        let err = compress(&config, input, &output, &CompressParams::default()).await.unwrap_err();
        assert_eq!(err.code, *code, "{}: {err}", input.display());
        assert!(!err.message.contains(dir.path().to_str().unwrap()), "a path leaked: {err}");
        assert!(!err.message.contains("/work/"), "a path leaked: {err}");
    }
    let (input, code) = &cases[0];
    assert_eq!(pdfa(&config, input, &output, &PdfaParams::default()).await.unwrap_err().code, *code);
    assert_eq!(grayscale(&config, input, &output, &GrayscaleParams {}).await.unwrap_err().code, *code);
    assert!(!output.exists());
}

#[tokio::test]
async fn a_file_ghostscript_loops_on_ends_within_the_deadline() {
    // Ghostscript runs forever on this one (a Type 3 font that draws itself).
    let input = corpus_file("pdf-broken/pdfjs_ContentStreamCycleType3insideType3.pdf");
    let config = GhostscriptConfig { timeout: Duration::from_secs(4), ..Default::default() };
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");

    let started = Instant::now();
    let err = pdfa(&config, &input, &output, &PdfaParams::default()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::EngineTimeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());

    // compress falls back to what passed before Ghostscript hung, and does not try it again.
    let started = Instant::now();
    let report = compress(&config, &input, &output, &level(CompressLevel::Extreme)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    assert_sound_compression(&input, &output, &report);
    assert!(report.notes.iter().any(|n| n.contains("did not finish")), "{report:#?}");
    let tried = report.attempts.iter().filter(|a| a.method == CompressMethod::Reencoded && a.bytes.is_some());
    assert_eq!(tried.count(), 0, "{report:#?}");
}

#[tokio::test]
async fn dropping_the_future_kills_ghostscript() {
    let dir = tempfile::tempdir().unwrap();
    // A name of our own, so the process is found by it and by nothing else.
    let marker = format!("cancel-{}.pdf", std::process::id());
    let input = dir.path().join(&marker);
    std::fs::copy(corpus_file("pdf-broken/pdfjs_ContentStreamCycleType3insideType3.pdf"), &input).unwrap();
    let output = dir.path().join("out.pdf");
    let config = GhostscriptConfig { timeout: Duration::from_secs(600), ..Default::default() };
    let gs_running = || {
        let out = Command::new("pgrep").args(["-f", &format!("gs .*{marker}")]).output().unwrap();
        !out.stdout.is_empty()
    };
    let params = PdfaParams::default();
    let mut job = Box::pin(pdfa(&config, &input, &output, &params));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(tokio::time::timeout(Duration::from_millis(200), job.as_mut()).await.is_err(), "finished early");
        if gs_running() {
            break;
        }
        assert!(Instant::now() < deadline, "Ghostscript never started");
    }
    drop(job);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!gs_running(), "Ghostscript survived the dropped future");
}

#[tokio::test]
async fn pdfa_outputs_declare_their_part() {
    let config = GhostscriptConfig::default();
    let input = corpus_file("pdf-text/ltnews17.pdf");
    let dir = tempfile::tempdir().unwrap();
    for level in [PdfaLevel::A1b, PdfaLevel::A2b, PdfaLevel::A3b] {
        let output = dir.path().join(format!("{}.pdf", level.as_str()));
        let report = pdfa(&config, &input, &output, &PdfaParams { level }).await.unwrap();
        assert_eq!((report.part, report.rewritten.pages), (level.part(), 2));
        assert_eq!(report.rewritten.bytes_after, size(&output));
        let meta = run("pdfinfo", &["-meta".as_ref(), output.as_os_str()]);
        let meta = String::from_utf8_lossy(&meta.stdout);
        let part = level.part();
        let declared =
            [format!("pdfaid:part>{part}<"), format!("pdfaid:part=\"{part}\""), format!("pdfaid:part='{part}'")];
        assert!(declared.iter().any(|d| meta.contains(d.as_str())), "no PDF/A-{part} identification: {meta}");
        assert_eq!(page_count(&output), 2);
        qpdf_check(&output);
        assert!(words_kept(&input, &output) >= 0.95);
    }

    // PDF/A-1 forbids transparency: Ghostscript flattens this page into one image, and the
    // text is gone. That output is refused, not delivered.
    let flattened = corpus_file("pdf-text/pypdf_google-doc-document.pdf");
    let output = dir.path().join("flattened.pdf");
    let err = pdfa(&config, &flattened, &output, &PdfaParams { level: PdfaLevel::A1b }).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InternalError, "{err}");
    assert!(err.message.contains("text was lost"), "{err}");
    assert!(!output.exists());
    let report = pdfa(&config, &flattened, &output, &PdfaParams { level: PdfaLevel::A2b }).await.unwrap();
    assert_eq!(report.part, 2);
    assert!(
        !String::from_utf8_lossy(&run("pdfinfo", &["-meta".as_ref(), input.as_os_str()]).stdout).contains("pdfaid")
    );
}

#[tokio::test]
async fn grayscale_output_has_no_colour() {
    let input = corpus_file("pdf-text/pdfjs_pdfjs_wikipedia.pdf");
    let (_, _, before) = render_rgb(&input, 1, 40);
    assert!(coloured_pixels(&before) > 100, "the input should have colour");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("gray.pdf");
    let report = grayscale(&GhostscriptConfig::default(), &input, &output, &GrayscaleParams {}).await.unwrap();
    assert_eq!(report.bytes_after, size(&output));
    assert_eq!(page_count(&output), page_count(&input));
    qpdf_check(&output);
    assert!(words_kept(&input, &output) >= 0.95);
    let (w, h, after) = render_rgb(&output, 1, 40);
    assert_eq!(coloured_pixels(&after), 0, "colour left on a {w}×{h} render");
    assert!(after.iter().filter(|&&s| s < 128).count() > 1000, "the gray page is blank");
}

#[tokio::test]
async fn a_permissions_only_file_is_compressed_and_decrypted() {
    let input = corpus_file("pdf-text/pdfjs_issue17069.pdf");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");
    let report = compress(&GhostscriptConfig::default(), &input, &output, &CompressParams::default()).await.unwrap();
    assert_sound_compression(&input, &output, &report);
    assert!(report.decrypted && report.bytes_after < report.bytes_before, "{report:#?}");
    let encrypted = run("qpdf", &["--is-encrypted".as_ref(), output.as_os_str()]);
    assert_eq!(encrypted.status.code(), Some(2), "the output is still encrypted");
}

#[tokio::test]
async fn readiness_reports_versions() {
    let versions = available(&GhostscriptConfig::default()).await.unwrap();
    assert!(versions.ghostscript.starts_with(char::is_numeric), "{versions}");
    let missing = GhostscriptConfig { gs: "/nonexistent/gs".into(), ..Default::default() };
    let why = available(&missing).await.unwrap_err();
    assert!(why.contains("Ghostscript"), "{why}");
}
