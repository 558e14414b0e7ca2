//! Rendering pages (`render_pages`) on corpus files: file names, formats and pixel sizes checked
//! from the bytes, pages compared with poppler's `pdftoppm` at the same resolution, and every
//! damaged or locked file either rendered or refused with a typed error.

use scanpro_core::{ErrorCode, ToolError};
use scanpro_pdf::{RasterEncoding, RenderOptions, RenderSize, RenderedPage, Renderer, render_pages};
use scanpro_testkit::checkers::{page_sizes, rotations, run};
use scanpro_testkit::corpus::{corpus, corpus_files, text_pdf};
use std::ffi::OsStr;
use std::path::Path;

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = b"\xFF\xD8\xFF";

fn options(size: RenderSize, encoding: RasterEncoding) -> RenderOptions<'static> {
    RenderOptions { size, encoding, password: None }
}

fn all_pages(count: u32) -> Result<Vec<u32>, ToolError> {
    Ok((1..=count).collect())
}

fn render(
    input: &Path,
    options: &RenderOptions<'_>,
    pages: &[u32],
    out: &Path,
) -> Result<Vec<RenderedPage>, ToolError> {
    let pages = pages.to_vec();
    render_pages(input, options, move |_| Ok(pages), out, "doc")
}

/// Page sizes in points as poppler reports them (`Page    1 size: 612 x 792 pts`), rotation applied.
fn poppler_sizes(pdf: &Path) -> Vec<(f64, f64)> {
    let rotations = rotations(pdf);
    page_sizes(pdf)
        .iter()
        .zip(rotations)
        .map(|(line, rotation)| {
            let mut numbers = line.split_whitespace().filter_map(|w| w.parse::<f64>().ok());
            let (w, h) = (numbers.next().unwrap(), numbers.next().unwrap());
            if rotation % 180 == 90 { (h, w) } else { (w, h) }
        })
        .collect()
}

/// `pdftoppm` renders one page to gray pixels (`-gray`), as the reference.
fn pdftoppm_gray(pdf: &Path, page: u32, dpi: u32, dir: &Path) -> image::GrayImage {
    let root = dir.join(format!("reference-{page}"));
    let page_arg = page.to_string();
    let options =
        ["-gray", "-png", "-singlefile", "-cropbox", "-r", &dpi.to_string(), "-f", &page_arg, "-l", &page_arg];
    let out = run("pdftoppm", options.iter().map(OsStr::new).chain([pdf.as_os_str(), root.as_os_str()]));
    assert!(out.status.success(), "pdftoppm failed on page {page} of {}", pdf.display());
    image::open(root.with_extension("png")).unwrap().into_luma8()
}

/// Mean absolute difference of two gray images of (nearly) the same size, compared as 8 × 8
/// pixel block averages over their overlap: strokes a shade bolder or a pixel wider (hinting,
/// anti-aliasing) barely count, a missing, shifted or wrongly scaled line of text does.
fn mean_difference(a: &image::GrayImage, b: &image::GrayImage) -> f64 {
    const BLOCK: u32 = 8;
    let (w, h) = (a.width().min(b.width()) / BLOCK, a.height().min(b.height()) / BLOCK);
    let block_mean = |img: &image::GrayImage, bx: u32, by: u32| {
        let mut sum = 0u32;
        for y in by * BLOCK..(by + 1) * BLOCK {
            for x in bx * BLOCK..(bx + 1) * BLOCK {
                sum += u32::from(img.get_pixel(x, y)[0]);
            }
        }
        f64::from(sum) / f64::from(BLOCK * BLOCK)
    };
    let mut total = 0.0;
    for by in 0..h {
        for bx in 0..w {
            total += (block_mean(a, bx, by) - block_mean(b, bx, by)).abs();
        }
    }
    total / f64::from(w * h)
}

fn assert_magic(path: &Path, magic: &[u8]) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(magic), "{} does not start with {magic:?}", path.display());
}

#[test]
fn pages_become_sortable_pngs_of_the_right_size() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = text_pdf("lscape.pdf");
    let rendered =
        render_pages(&pdf, &options(RenderSize::Dpi(150), RasterEncoding::Png), all_pages, dir.path(), "lscape")
            .unwrap();
    let names: Vec<String> =
        rendered.iter().map(|p| p.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["lscape_p001.png", "lscape_p002.png", "lscape_p003.png"]);
    let sizes = poppler_sizes(&pdf);
    assert_eq!(sizes.len(), 3);
    for (page, (w_pt, h_pt)) in rendered.iter().zip(sizes) {
        assert_eq!(page.renderer, Renderer::Hayro);
        assert_magic(&page.path, PNG_MAGIC);
        let (width, height) = image::image_dimensions(&page.path).unwrap();
        let (expect_w, expect_h) = (w_pt * 150.0 / 72.0, h_pt * 150.0 / 72.0);
        assert!((f64::from(width) - expect_w).abs() <= 1.0, "page {}: width {width}, expected {expect_w}", page.page);
        assert!(
            (f64::from(height) - expect_h).abs() <= 1.0,
            "page {}: height {height}, expected {expect_h}",
            page.page
        );
        assert_eq!((page.width, page.height), (width, height));
    }
    // Only the files reported are written.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn pages_look_like_poppler_renders() {
    let dir = tempfile::tempdir().unwrap();
    // Pages turned by /Rotate: a quarter turn on page 1, three quarters on page 2.
    let turned = dir.path().join("turned.pdf");
    scanpro_pdf::rotate(&text_pdf("pdfjs_tracemonkey.pdf"), 90, &[1], &turned).unwrap();
    let turned_more = dir.path().join("turned-more.pdf");
    scanpro_pdf::rotate(&turned, 270, &[2], &turned_more).unwrap();
    let cases = [
        (text_pdf("pdfjs_freeculture.pdf"), 7, 8),
        (text_pdf("pdfjs_tracemonkey.pdf"), 1, 2),
        (text_pdf("lscape.pdf"), 2, 3),
        (corpus("pdf-scanned/ocrmypdf_cardinal.pdf"), 2, 3),
        (turned_more.clone(), 1, 3),
        (turned_more, 2, 1),
    ];
    for (pdf, page, other) in cases {
        let file = pdf.file_name().unwrap().to_string_lossy().into_owned();
        let ours = render(&pdf, &options(RenderSize::Dpi(100), RasterEncoding::Png), &[page], dir.path()).unwrap();
        let ours = image::open(&ours[0].path).unwrap().into_luma8();
        let reference = pdftoppm_gray(&pdf, page, 100, dir.path());
        assert!(ours.width().abs_diff(reference.width()) <= 1 && ours.height().abs_diff(reference.height()) <= 1);
        let difference = mean_difference(&ours, &reference);
        // The same check must tell another page of the same document apart.
        let unlike = mean_difference(&ours, &pdftoppm_gray(&pdf, other, 100, dir.path()));
        eprintln!("{file} page {page}: difference {difference:.2} from pdftoppm, {unlike:.2} from page {other}");
        assert!(difference < 3.0, "{file} page {page}: mean difference {difference:.2} from pdftoppm");
        assert!(unlike > 3.0 * difference.max(0.5), "{file}: pages {page} and {other} are too alike to test with");
    }
}

#[test]
fn jpeg_output_follows_quality() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = text_pdf("pdfjs_images.pdf");
    let sizes: Vec<u64> = [20, 95]
        .iter()
        .map(|&quality| {
            let out = dir.path().join(format!("q{quality}"));
            std::fs::create_dir(&out).unwrap();
            let pages =
                render(&pdf, &options(RenderSize::Dpi(72), RasterEncoding::Jpeg { quality }), &[1], &out).unwrap();
            assert!(pages[0].path.to_string_lossy().ends_with("doc_p001.jpg"));
            assert_magic(&pages[0].path, JPEG_MAGIC);
            std::fs::metadata(&pages[0].path).unwrap().len()
        })
        .collect();
    assert!(sizes[0] * 2 < sizes[1], "quality 20 gave {} bytes, quality 95 {}", sizes[0], sizes[1]);
}

#[test]
fn thumbnails_have_the_width_asked() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = text_pdf("lscape.pdf");
    let pages = render(&pdf, &options(RenderSize::Width(200), RasterEncoding::Png), &[1, 2], dir.path()).unwrap();
    let sizes = poppler_sizes(&pdf);
    for page in &pages {
        let (width, height) = image::image_dimensions(&page.path).unwrap();
        let (w_pt, h_pt) = sizes[page.page as usize - 1];
        assert_eq!(width, 200);
        assert!((f64::from(height) - 200.0 * h_pt / w_pt).abs() <= 1.0, "page {}: {width} × {height}", page.page);
    }
}

#[test]
fn selection_order_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = text_pdf("pdfjs_tracemonkey.pdf");
    let pages = render(&pdf, &options(RenderSize::Dpi(20), RasterEncoding::Png), &[14, 2, 9], dir.path()).unwrap();
    let numbers: Vec<u32> = pages.iter().map(|p| p.page).collect();
    assert_eq!(numbers, [14, 2, 9]);
    assert!(pages[0].path.ends_with("doc_p014.png"));
}

#[test]
fn locked_files_need_their_password() {
    let dir = tempfile::tempdir().unwrap();
    let locked = corpus("pdf-broken/pypdf_libreoffice-writer-password.pdf");
    let err = render(&locked, &options(RenderSize::Dpi(50), RasterEncoding::Png), &[1], dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::EncryptedInput, "{err}");
    let wrong = RenderOptions { password: Some("not it"), ..options(RenderSize::Dpi(50), RasterEncoding::Png) };
    let err = render(&locked, &wrong, &[1], dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::WrongPassword, "{err}");
    let right = RenderOptions { password: Some("openpassword"), ..options(RenderSize::Dpi(50), RasterEncoding::Png) };
    let pages = render(&locked, &right, &[1], dir.path()).unwrap();
    assert_magic(&pages[0].path, PNG_MAGIC);
    // Permissions-only protection (empty user password) opens without one.
    let permissions_only = text_pdf("pdfjs_issue17069.pdf");
    render(&permissions_only, &options(RenderSize::Dpi(30), RasterEncoding::Png), &[1], dir.path()).unwrap();
}

#[test]
fn enormous_pages_are_refused_by_number_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let enormous = corpus("pdf-broken/ocrmypdf_enormous.pdf");
    let err = render(&enormous, &options(RenderSize::Dpi(600), RasterEncoding::Png), &[1], dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::ResourceLimit, "{err}");
    assert!(err.message.starts_with("page 1 would be ") && err.message.contains(" pixels"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn not_a_pdf_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let png = corpus("images/ocrmypdf_baiona.png");
    let err = render(&png, &options(RenderSize::Dpi(50), RasterEncoding::Png), &[1], dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat, "{err}");
}

/// Every damaged file renders (each image whole, with hayro or the fallback) or fails with an
/// input error; a file that fails to open in both renderers must be unreadable to poppler too.
#[test]
fn damaged_files_render_or_fail_cleanly() {
    let mut fallbacks = 0;
    let mut rendered_files = 0;
    for path in corpus_files("pdf-broken") {
        let dir = tempfile::tempdir().unwrap();
        match render_pages(&path, &options(RenderSize::Dpi(36), RasterEncoding::Png), all_pages, dir.path(), "x") {
            Ok(pages) => {
                rendered_files += 1;
                for page in &pages {
                    image::open(&page.path).unwrap_or_else(|e| panic!("{}: page {}: {e}", path.display(), page.page));
                    fallbacks += usize::from(page.renderer == Renderer::Pdftoppm);
                }
            }
            Err(error) => assert!(
                matches!(
                    error.code,
                    ErrorCode::InvalidPdf
                        | ErrorCode::EncryptedInput
                        | ErrorCode::ResourceLimit
                        | ErrorCode::UnsupportedFormat
                ),
                "{}: {error}",
                path.display()
            ),
        }
    }
    assert!(rendered_files >= 20, "only {rendered_files} damaged files rendered");
    eprintln!("{rendered_files} damaged files rendered, {fallbacks} pages by pdftoppm");
}
