//! The Ghostscript engine on real corpus documents. Outputs are checked with qpdf and poppler
//! (`qpdf --check`, `pdfinfo`, `pdftotext`, `pdftoppm`), never with the engine's own code.
//! Ghostscript, qpdf and poppler-utils must be installed: a missing one fails the tests loudly.

use scanpro_core::ErrorCode;
use scanpro_core::params::{ByteSize, CompressLevel, CompressParams, GrayscaleParams, PdfaLevel, PdfaParams};
use scanpro_engines::ghostscript::{
    CompressMethod, CompressReport, GhostscriptConfig, available, compress, grayscale, pdfa,
};
use scanpro_process::budget::{self, Workload};
use scanpro_testkit::checkers::{page_count, pdfinfo, pdftotext, qpdf_check_clean, run};
use scanpro_testkit::corpus::corpus;
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn words(path: &Path) -> HashSet<String> {
    pdftotext(path).split_whitespace().map(str::to_owned).collect()
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
        [
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
        qpdf_check_clean(output);
    }
    let kept = words_kept(input, output);
    assert!(kept >= 0.95, "only {:.0} % of the words of {} still extract", kept * 100.0, input.display());
}

/// Runs every level on `name`, checks each output, and that sizes never grow with the level.
async fn every_level(name: &str) -> Vec<CompressReport> {
    let config = GhostscriptConfig::default();
    let input = corpus(name);
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
    // 300 dpi gray scans of text: paper and ink, so bilevel CCITT G4 pages at full resolution
    // are what saves (Ghostscript's 150 dpi JPEGs are larger).
    assert_eq!(recommended.method, CompressMethod::Recoded, "{recommended:#?}");
    assert_eq!(recommended.images.map(|images| images.bilevel), Some(2), "{recommended:#?}");
    assert!(recommended.similarity.unwrap() >= 0.95, "{recommended:#?}");
    assert!(recommended.ratio < 0.7, "{recommended:#?}");
    let output = tempfile::tempdir().unwrap();
    let pdf = output.path().join("recommended.pdf");
    let input = corpus("pdf-scanned/synth_ltnews17_p1-2_300dpi.pdf");
    compress(&GhostscriptConfig::default(), &input, &pdf, &level(CompressLevel::Recommended)).await.unwrap();
    assert_eq!(image_encodings(&pdf), ["ccitt", "ccitt"]);
    for page in 1..=2 {
        let similarity = mean_ssim(&render_gray(&input, page, 100), &render_gray(&pdf, page, 100));
        assert!(similarity >= 0.95, "page {page}: SSIM {similarity:.4} at 100 dpi");
    }
}

#[tokio::test]
async fn a_manual_that_ghostscript_grows_does_not_grow() {
    // pgfmanual.pdf doubles under `gs -dPDFSETTINGS=/ebook`.
    let input = corpus("pdf-text/pgfmanual.pdf");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");
    let report =
        compress(&GhostscriptConfig::default(), &input, &output, &level(CompressLevel::Recommended)).await.unwrap();
    assert_sound_compression(&input, &output, &report);
    assert!(report.bytes_after < report.bytes_before, "{report:#?}");
    // Structural, or with its few raster images re-encoded in place; never Ghostscript's.
    assert!(matches!(report.method, CompressMethod::Structural | CompressMethod::Recoded), "{report:#?}");
}

#[tokio::test]
async fn a_blank_ghostscript_page_is_refused() {
    // Ghostscript turns this CMYK image into a blank page, with exit status 0.
    let input = corpus("pdf-text/pypdf_cmyk-image.pdf");
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
    let input = corpus("pdf-scanned/synth_ltnews17_p1-2_300dpi.pdf");
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
    let input = corpus("pdf-text/ltnews17.pdf");
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
    let whole = std::fs::read(corpus("pdf-text/ltnews17.pdf")).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let cases = [
        (corpus("pdf-broken/pdfjs_saslprep-r6.pdf"), ErrorCode::EncryptedInput),
        (corpus("pdf-broken/pypdf_libreoffice-writer-password.pdf"), ErrorCode::EncryptedInput),
        (corpus("pdf-broken/qpdf_bad1.pdf"), ErrorCode::UnsupportedFormat),
        (corpus("docx/delins.docx"), ErrorCode::UnsupportedFormat),
        (corpus("pdf-broken/ocrmypdf_invalid.pdf"), ErrorCode::InvalidPdf),
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
    let input = corpus("pdf-broken/pdfjs_ContentStreamCycleType3insideType3.pdf");
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
    std::fs::copy(corpus("pdf-broken/pdfjs_ContentStreamCycleType3insideType3.pdf"), &input).unwrap();
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
    let input = corpus("pdf-text/ltnews17.pdf");
    let dir = tempfile::tempdir().unwrap();
    for level in [PdfaLevel::A1b, PdfaLevel::A2b, PdfaLevel::A3b] {
        let output = dir.path().join(format!("{}.pdf", level.as_str()));
        let report = pdfa(&config, &input, &output, &PdfaParams { level }).await.unwrap();
        assert_eq!((report.part, report.rewritten.pages), (level.part(), 2));
        assert_eq!(report.rewritten.bytes_after, size(&output));
        let meta = pdfinfo(&output, &["-meta"]);
        let part = level.part();
        let declared =
            [format!("pdfaid:part>{part}<"), format!("pdfaid:part=\"{part}\""), format!("pdfaid:part='{part}'")];
        assert!(declared.iter().any(|d| meta.contains(d.as_str())), "no PDF/A-{part} identification: {meta}");
        assert_eq!(page_count(&output), 2);
        qpdf_check_clean(&output);
        assert!(words_kept(&input, &output) >= 0.95);
    }

    // PDF/A-1 forbids transparency: Ghostscript flattens this page into one image, and the
    // text is gone. That output is refused, not delivered.
    let flattened = corpus("pdf-text/pypdf_google-doc-document.pdf");
    let output = dir.path().join("flattened.pdf");
    let err = pdfa(&config, &flattened, &output, &PdfaParams { level: PdfaLevel::A1b }).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InternalError, "{err}");
    assert!(err.message.contains("text was lost"), "{err}");
    assert!(!output.exists());
    let report = pdfa(&config, &flattened, &output, &PdfaParams { level: PdfaLevel::A2b }).await.unwrap();
    assert_eq!(report.part, 2);
    assert!(!pdfinfo(&input, &["-meta"]).contains("pdfaid"));
}

#[tokio::test]
async fn grayscale_output_has_no_colour() {
    let input = corpus("pdf-text/pdfjs_pdfjs_wikipedia.pdf");
    let (_, _, before) = render_rgb(&input, 1, 40);
    assert!(coloured_pixels(&before) > 100, "the input should have colour");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("gray.pdf");
    let report = grayscale(&GhostscriptConfig::default(), &input, &output, &GrayscaleParams {}).await.unwrap();
    assert_eq!(report.bytes_after, size(&output));
    assert_eq!(page_count(&output), page_count(&input));
    qpdf_check_clean(&output);
    assert!(words_kept(&input, &output) >= 0.95);
    let (w, h, after) = render_rgb(&output, 1, 40);
    assert_eq!(coloured_pixels(&after), 0, "colour left on a {w}×{h} render");
    assert!(after.iter().filter(|&&s| s < 128).count() > 1000, "the gray page is blank");
}

#[tokio::test]
async fn a_permissions_only_file_is_compressed_and_decrypted() {
    let input = corpus("pdf-text/pdfjs_issue17069.pdf");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");
    let report = compress(&GhostscriptConfig::default(), &input, &output, &CompressParams::default()).await.unwrap();
    assert_sound_compression(&input, &output, &report);
    assert!(report.decrypted && report.bytes_after < report.bytes_before, "{report:#?}");
    let encrypted = run("qpdf", ["--is-encrypted".as_ref(), output.as_os_str()]);
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

/// Page `page` rendered gray by pdftoppm at `dpi` (crop box): (width, height, samples).
fn render_gray(path: &Path, page: u32, dpi: u32) -> (usize, usize, Vec<u8>) {
    let (page, dpi) = (page.to_string(), dpi.to_string());
    let args = ["-gray", "-cropbox", "-r", &dpi, "-f", &page, "-l", &page, "-singlefile"];
    let mut argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    argv.push(path.as_os_str());
    let out = run("pdftoppm", argv);
    assert!(out.status.success(), "pdftoppm {} failed", path.display());
    let text = String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(64)]).into_owned();
    let header: Vec<&str> = text.split_ascii_whitespace().take(4).collect();
    assert_eq!(header[0], "P5");
    let (width, height): (usize, usize) = (header[1].parse().unwrap(), header[2].parse().unwrap());
    (width, height, out.stdout[out.stdout.len() - width * height..].to_vec())
}

/// Mean SSIM of two gray renders (7 × 7 windows, K1 = 0.01, K2 = 0.03, as scikit-image), written
/// here apart from the engine's own.
fn mean_ssim(a: &(usize, usize, Vec<u8>), b: &(usize, usize, Vec<u8>)) -> f64 {
    const N: usize = 7;
    let (width, height) = (a.0.min(b.0), a.1.min(b.1));
    assert!(a.0.abs_diff(b.0) <= 2 && a.1.abs_diff(b.1) <= 2, "the page changed size");
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let n = (N * N) as f64;
    let mut total = 0.0;
    for top in (0..=height - N).step_by(2) {
        for left in (0..=width - N).step_by(2) {
            let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for row in top..top + N {
                for col in left..left + N {
                    let (x, y) = (f64::from(a.2[row * a.0 + col]), f64::from(b.2[row * b.0 + col]));
                    (sx, sy, sxx, syy, sxy) = (sx + x, sy + y, sxx + x * x, syy + y * y, sxy + x * y);
                }
            }
            let (ux, uy) = (sx / n, sy / n);
            let norm = n / (n - 1.0);
            let (vx, vy, vxy) = (norm * (sxx / n - ux * ux), norm * (syy / n - uy * uy), norm * (sxy / n - ux * uy));
            total += ((2.0 * ux * uy + c1) * (2.0 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
        }
    }
    total / (((height - N) / 2 + 1) * ((width - N) / 2 + 1)) as f64
}

/// A colour JPEG scan at 200 dpi of black-and-white pages, as an office scanner writes one:
/// each page of `source` rendered by pdftoppm, given a paper tint and sensor noise, stored as
/// a JPEG of quality 85 tagged with an sRGB profile.
fn jpeg_scan(source: &Path, pages: std::ops::RangeInclusive<u32>, output: &Path) {
    use lopdf::{Document, Object, Stream, dictionary};
    let profile = std::fs::read_dir("/usr/share/ghostscript")
        .unwrap()
        .flatten()
        .map(|version| version.path().join("iccprofiles/srgb.icc"))
        .find(|path| path.is_file())
        .expect("Ghostscript's sRGB profile");
    let mut doc = Document::with_version("1.5");
    let icc = doc.add_object(Stream::new(dictionary! { "N" => 3 }, std::fs::read(profile).unwrap()));
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    let mut noise = 0x2545_f491_u32;
    for page in pages {
        let (width, height, mut samples) = render_rgb(source, page, 200);
        for (i, sample) in samples.iter_mut().enumerate() {
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            let tint = [0.97, 0.955, 0.92][i % 3];
            let jitter = f64::from(noise % 7) - 3.0;
            #[expect(clippy::cast_possible_truncation, reason = "clamped to 0..=255 just before")]
            let tinted = (f64::from(*sample) * tint + jitter).clamp(0.0, 255.0) as u8;
            *sample = tinted;
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
            .encode(
                &samples,
                u32::try_from(width).unwrap(),
                u32::try_from(height).unwrap(),
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        let image = doc.add_object(
            Stream::new(
                dictionary! {
                    "Type" => "XObject", "Subtype" => "Image", "Width" => width as i64, "Height" => height as i64,
                    "ColorSpace" => vec![Object::Name(b"ICCBased".to_vec()), icc.into()],
                    "BitsPerComponent" => 8, "Filter" => "DCTDecode",
                },
                jpeg,
            )
            .with_compression(false),
        );
        let (w, h) = (width as f64 * 72.0 / 200.0, height as f64 * 72.0 / 200.0);
        let content =
            doc.add_object(Stream::new(dictionary! {}, format!("q {w} 0 0 {h} 0 0 cm /Im0 Do Q").into_bytes()));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), w.into(), h.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } }, "Contents" => content,
        })));
    }
    let count = kids.len() as i64;
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.save(output).unwrap();
}

fn ebook(input: &Path, output: &Path) -> u64 {
    let mut arg = std::ffi::OsString::from("-sOutputFile=");
    arg.push(output);
    let args = ["-dSAFER", "-dNOPAUSE", "-dBATCH", "-dQUIET", "-sDEVICE=pdfwrite", "-dPDFSETTINGS=/ebook"];
    let mut argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    argv.extend([arg.as_os_str(), input.as_os_str()]);
    assert!(run("gs", argv).status.success(), "gs /ebook failed");
    size(output)
}

/// Encodings of the images `pdfimages -list` lists.
fn image_encodings(path: &Path) -> Vec<String> {
    let out = run("pdfimages", ["-list".as_ref(), path.as_os_str()]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().nth(8))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn recommended_is_smaller_than_ebook_on_a_200_dpi_colour_jpeg_scan() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("scan.pdf");
    jpeg_scan(&corpus("pdf-text/ltnews17.pdf"), 1..=1, &input);
    let reference = render_gray(&input, 1, 100);
    let ebook_bytes = ebook(&input, &dir.path().join("ebook.pdf"));
    assert!(ebook_bytes < size(&input), "/ebook re-encodes such a scan");
    let config = GhostscriptConfig::default();

    let recommended = dir.path().join("recommended.pdf");
    let report = compress(&config, &input, &recommended, &level(CompressLevel::Recommended)).await.unwrap();
    assert_sound_compression(&input, &recommended, &report);
    assert_eq!(report.method, CompressMethod::Recoded, "{report:#?}");
    assert!(
        report.bytes_after <= ebook_bytes,
        "{} bytes against /ebook's {ebook_bytes}: {report:#?}",
        report.bytes_after
    );
    let similarity = mean_ssim(&reference, &render_gray(&recommended, 1, 100));
    assert!(similarity >= 0.95, "SSIM {similarity:.4} at 100 dpi");
    let images = report.images.unwrap();
    assert_eq!((images.images, images.gray), (1, 1), "a colour scan of a gray page is stored gray: {images:?}");
    let recoded = report.attempts.iter().find(|a| a.method == CompressMethod::Recoded).unwrap();
    assert!(recoded.passed && recoded.recoding.is_some(), "{report:#?}");
    let (_, _, colour) = render_rgb(&recommended, 1, 20);
    assert_eq!(coloured_pixels(&colour), 0);

    // `extreme` goes further: the page of paper and ink becomes a bilevel CCITT image.
    let extreme = dir.path().join("extreme.pdf");
    let stronger = compress(&config, &input, &extreme, &level(CompressLevel::Extreme)).await.unwrap();
    assert_sound_compression(&input, &extreme, &stronger);
    assert!(stronger.bytes_after <= report.bytes_after, "{stronger:#?}");
    assert_eq!(image_encodings(&extreme), ["ccitt"], "{stronger:#?}");
    let similarity = mean_ssim(&reference, &render_gray(&extreme, 1, 100));
    assert!(similarity >= 0.90, "SSIM {similarity:.4} at 100 dpi");
}

/// One page showing a `width` × `height` gray image whose Flate stream holds only `stored`
/// zero bytes: an image bomb when the size is large and the stream small.
fn image_bomb(width: i64, height: i64, stored: usize, output: &Path) {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let mut stream = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        vec![0u8; stored],
    );
    stream.compress().unwrap();
    let image = doc.add_object(stream);
    let content = doc.add_object(Stream::new(dictionary! {}, b"q 612 0 0 792 0 0 cm /Im0 Do Q".to_vec()));
    let pages = doc.new_object_id();
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages, "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } }, "Contents" => content,
    });
    doc.objects.insert(
        pages,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    doc.save(output).unwrap();
}

#[tokio::test]
async fn an_image_bomb_gets_seconds_not_minutes() {
    let config = GhostscriptConfig::default();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");

    // 400 megapixels in a few kilobytes: the pixels the bytes cannot hold earn no time, so the
    // deadline is the floor plus one page, whatever the image claims.
    let bomb = dir.path().join("bomb.pdf");
    image_bomb(20_000, 20_000, 4_000_000, &bomb);
    let bytes = size(&bomb);
    assert!(bytes < 20_000, "{bytes} bytes");
    let earned = Workload { pages: 1, bytes, pixels: 20_000 * 20_000 }.deadline(config.timeout);
    assert!(earned < budget::BASE + budget::PER_PAGE + Duration::from_secs(1), "{earned:?}");
    // A fast machine may finish within it; a slow one is stopped at exactly that deadline.
    if let Err(err) = grayscale(&config, &bomb, &output, &GrayscaleParams {}).await {
        assert_eq!(err.code, ErrorCode::EngineTimeout, "{err}");
        assert!(
            err.message.contains(&format!("within {earned:?}")),
            "the deadline is the one earned ({earned:?}): {err}"
        );
    }

    // Above 500 megapixels no tool decodes it at all.
    let huge = dir.path().join("huge.pdf");
    image_bomb(30_000, 30_000, 4_000_000, &huge);
    let output = dir.path().join("refused.pdf");
    let err = grayscale(&config, &huge, &output, &GrayscaleParams {}).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ResourceLimit, "{err}");
    assert!(err.message.contains("900 megapixels"), "{err}");
    assert_eq!(pdfa(&config, &huge, &output, &PdfaParams::default()).await.unwrap_err().code, ErrorCode::ResourceLimit);
    let err = compress(&config, &huge, &output, &CompressParams::default()).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::ResourceLimit, "{err}");
    assert!(!output.exists());
}
