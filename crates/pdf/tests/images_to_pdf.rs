//! `images_to_pdf` on corpus and generated images, every output checked with qpdf and poppler:
//! page count and size (`pdfinfo`), embedded images (`pdfimages`), and what the page shows
//! (`pdftoppm`).

use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use scanpro_core::ErrorCode;
use scanpro_core::params::{ImagePageOrientation, ImagePageSize, ImagesToPdfParams};
use scanpro_pdf::{ImageInput, ImagePage, images_to_pdf};
use scanpro_testkit::checkers::{page_count, page_sizes, qpdf_check, render_png, stdout};
use scanpro_testkit::corpus::{corpus, corpus_files, text_pdf};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const RED: Rgb<u8> = Rgb([230, 20, 20]);
const BLUE: Rgb<u8> = Rgb([20, 20, 230]);

fn params(page_size: ImagePageSize, orientation: ImagePageOrientation, margin: Option<f32>) -> ImagesToPdfParams {
    ImagesToPdfParams { page_size, orientation, margin }
}

fn fit() -> ImagesToPdfParams {
    params(ImagePageSize::Fit, ImagePageOrientation::Auto, None)
}

/// Converts `paths` and checks the result with `qpdf --check` (exit 0) and poppler's page count.
fn convert(paths: &[PathBuf], params: &ImagesToPdfParams, out: &Path) -> Vec<ImagePage> {
    let names: Vec<String> = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    let inputs: Vec<ImageInput<'_>> = paths.iter().zip(&names).map(|(path, name)| ImageInput { path, name }).collect();
    let pages = images_to_pdf(&inputs, params, out).unwrap_or_else(|e| panic!("{names:?}: {e}"));
    assert_eq!(qpdf_check(out), 0, "qpdf --check {} reported warnings", out.display());
    assert_eq!(page_count(out) as usize, pages.len());
    pages
}

/// Page sizes in points as poppler reads them.
fn sizes(pdf: &Path) -> Vec<(f64, f64)> {
    page_sizes(pdf)
        .iter()
        .map(|line| {
            let mut numbers = line.split_whitespace().filter_map(|w| w.parse::<f64>().ok());
            (numbers.next().unwrap(), numbers.next().unwrap())
        })
        .collect()
}

fn assert_size(actual: (f64, f64), expected: (f64, f64), what: &str) {
    let close = (actual.0 - expected.0).abs() <= 1.0 && (actual.1 - expected.1).abs() <= 1.0;
    assert!(close, "{what}: page is {actual:?} points, expected {expected:?}");
}

/// Page `page` as poppler renders it at 72 dpi (one pixel per point).
fn rendered(pdf: &Path, page: u32) -> image::RgbImage {
    image::load_from_memory(&render_png(pdf, page, 72)).expect("pdftoppm wrote a PNG").into_rgb8()
}

fn is_near(pixel: Rgb<u8>, colour: Rgb<u8>) -> bool {
    pixel.0.iter().zip(colour.0).all(|(a, b)| a.abs_diff(b) < 60)
}

/// A JPEG: left half red, right half blue, declaring `dpi` in its JFIF header.
fn jpeg(width: u32, height: u32, dpi: u16) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, _| if x < width / 2 { RED } else { BLUE });
    let mut bytes = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 90);
    encoder.set_pixel_density(PixelDensity::dpi(dpi));
    encoder.write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8).unwrap();
    bytes
}

/// `jpeg` with an EXIF block stating `orientation`, inserted right after the SOI marker.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec();
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&(u16::try_from(segment.len()).unwrap() + 2).to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn png(img: &image::DynamicImage) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

#[test]
fn jpeg_bytes_go_in_unchanged_at_their_resolution() {
    let dir = tempfile::tempdir().unwrap();
    let original = jpeg(300, 200, 150);
    let input = write(dir.path(), "photo.jpg", &original);
    let out = dir.path().join("photo.pdf");
    let pages = convert(&[input], &fit(), &out);
    assert_eq!(pages[0].dpi, 150.0);
    // 300 × 200 pixels at 150 dpi: 2 × 1.33 inches.
    assert_size(sizes(&out)[0], (144.0, 96.0), "JPEG at 150 dpi");

    let extracted = dir.path().join("extracted");
    stdout("pdfimages", [OsStr::new("-all"), out.as_os_str(), extracted.as_os_str()]);
    let image = std::fs::read(dir.path().join("extracted-000.jpg")).expect("pdfimages found a DCT image");
    assert!(
        image == original,
        "the embedded JPEG differs from the input ({} vs {} bytes)",
        image.len(),
        original.len()
    );
}

#[test]
fn exif_orientation_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    // Stored 80 × 40 (red left, blue right); orientation 6 means "turn a quarter clockwise to show".
    let original = with_exif_orientation(&jpeg(80, 40, 72), 6);
    let input = write(dir.path(), "turned.jpg", &original);
    let out = dir.path().join("turned.pdf");
    let pages = convert(&[input], &fit(), &out);
    assert_eq!(pages[0].orientation, 6);
    assert_size(sizes(&out)[0], (40.0, 80.0), "quarter-turned JPEG");
    let shown = rendered(&out, 1);
    assert!(is_near(*shown.get_pixel(20, 10), RED), "top is {:?}, expected red", shown.get_pixel(20, 10));
    assert!(is_near(*shown.get_pixel(20, 70), BLUE), "bottom is {:?}, expected blue", shown.get_pixel(20, 70));
    // Still the original bytes: the turn is in the placement.
    stdout("pdfimages", [OsStr::new("-all"), out.as_os_str(), dir.path().join("x").as_os_str()]);
    assert!(std::fs::read(dir.path().join("x-000.jpg")).unwrap() == original);
}

#[test]
fn paper_sizes_orientation_and_margins() {
    let dir = tempfile::tempdir().unwrap();
    let wide = image::DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 200, RED));
    let input = write(dir.path(), "wide.png", &png(&wide));

    let a4 = dir.path().join("a4.pdf");
    convert(std::slice::from_ref(&input), &params(ImagePageSize::A4, ImagePageOrientation::Auto, None), &a4);
    assert_size(sizes(&a4)[0], (842.0, 595.0), "A4, auto orientation, wide image");
    // Default margin 36 pt: the image (scaled to 770 × 513) is centred inside it.
    let shown = rendered(&a4, 1);
    assert!(is_near(*shown.get_pixel(421, 297), RED) && is_near(*shown.get_pixel(40, 297), RED));
    assert_eq!(*shown.get_pixel(30, 297), Rgb([255, 255, 255]), "left margin");
    assert_eq!(*shown.get_pixel(421, 35), Rgb([255, 255, 255]), "top margin");

    let portrait = dir.path().join("portrait.pdf");
    convert(
        std::slice::from_ref(&input),
        &params(ImagePageSize::A4, ImagePageOrientation::Portrait, Some(0.0)),
        &portrait,
    );
    assert_size(sizes(&portrait)[0], (595.0, 842.0), "A4 portrait");
    let shown = rendered(&portrait, 1);
    // No margin: the image spans the width (595 × 397), centred vertically.
    assert!(is_near(*shown.get_pixel(1, 421), RED) && is_near(*shown.get_pixel(593, 421), RED));
    assert_eq!(*shown.get_pixel(297, 100), Rgb([255, 255, 255]));

    let letter = dir.path().join("letter.pdf");
    convert(&[input], &params(ImagePageSize::Letter, ImagePageOrientation::Portrait, None), &letter);
    assert_size(sizes(&letter)[0], (612.0, 792.0), "Letter");
}

#[test]
fn fit_pages_add_the_margin() {
    let dir = tempfile::tempdir().unwrap();
    let input =
        write(dir.path(), "small.png", &png(&image::DynamicImage::ImageRgb8(RgbImage::from_pixel(100, 50, BLUE))));
    let out = dir.path().join("small.pdf");
    convert(&[input], &params(ImagePageSize::Fit, ImagePageOrientation::Auto, Some(10.0)), &out);
    assert_size(sizes(&out)[0], (120.0, 70.0), "fit with a 10 pt margin");
}

#[test]
fn transparent_png_gets_a_soft_mask() {
    let dir = tempfile::tempdir().unwrap();
    let img = RgbaImage::from_fn(40, 40, |x, _| if x < 20 { Rgba([200, 0, 0, 255]) } else { Rgba([0, 0, 200, 0]) });
    let input = write(dir.path(), "alpha.png", &png(&image::DynamicImage::ImageRgba8(img)));
    let out = dir.path().join("alpha.pdf");
    convert(&[input], &fit(), &out);
    let list = stdout("pdfimages", [OsStr::new("-list"), out.as_os_str()]);
    let types: Vec<&str> = list.lines().skip(2).filter_map(|l| l.split_whitespace().nth(2)).collect();
    assert_eq!(types, ["image", "smask"], "{list}");
    // The transparent half shows the white page.
    let shown = rendered(&out, 1);
    assert_eq!(*shown.get_pixel(30, 20), Rgb([255, 255, 255]));
}

#[test]
fn corpus_images_one_page_each_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs: Vec<PathBuf> = corpus_files("images")
        .into_iter()
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("png" | "tif")))
        .collect();
    assert!(inputs.len() >= 9, "corpus images missing: {inputs:?}");
    // WebP: the corpus has none, so one is made losslessly from a corpus PNG.
    let baiona = image::open(corpus("images/ocrmypdf_baiona.png")).unwrap().into_rgba8();
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(baiona.as_raw(), baiona.width(), baiona.height(), image::ExtendedColorType::Rgba8)
        .unwrap();
    inputs.push(write(dir.path(), "baiona.webp", &webp));

    let out = dir.path().join("album.pdf");
    let pages = convert(&inputs, &fit(), &out);
    assert_eq!(pages.len(), inputs.len(), "one page per image (no multi-frame TIFF in the corpus)");
    let list = stdout("pdfimages", [OsStr::new("-list"), out.as_os_str()]);
    let embedded: Vec<(u32, u32, u32)> = list
        .lines()
        .skip(2)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].parse().unwrap(), f[3].parse().unwrap(), f[4].parse().unwrap())
        })
        .collect();
    for (index, ((input, page), size)) in inputs.iter().zip(&pages).zip(sizes(&out)).enumerate() {
        assert_eq!(page.input, index);
        // Full resolution, on its own page, in input order, at the aspect ratio of the image.
        let (width, height) = image::image_dimensions(input).unwrap();
        assert_eq!(embedded[index], (u32::try_from(index).unwrap() + 1, width, height), "{}", input.display());
        let aspect = f64::from(width) / f64::from(height);
        assert!(
            (size.0 / size.1 - aspect).abs() < 0.01 * aspect,
            "{}: page {size:?} for {width} × {height}",
            input.display()
        );
    }
}

/// A little-endian TIFF of 8-bit gray frames, each `(width, height, dpi, gray level)`, written
/// here by hand: no other tool at hand writes multi-page TIFFs.
fn multi_page_tiff(frames: &[(u32, u32, u32, u8)]) -> Vec<u8> {
    let mut bytes = b"II*\0\0\0\0\0".to_vec();
    let mut link_at = 4;
    for &(width, height, dpi, level) in frames {
        let pixels_at = u32::try_from(bytes.len()).unwrap();
        bytes.extend(std::iter::repeat_n(level, (width * height) as usize));
        let dpi_at = u32::try_from(bytes.len()).unwrap();
        bytes.extend_from_slice(&dpi.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        let ifd_at = u32::try_from(bytes.len()).unwrap();
        bytes[link_at..link_at + 4].copy_from_slice(&ifd_at.to_le_bytes());
        let entries: [(u16, u16, u32); 11] = [
            (256, 4, width),
            (257, 4, height),
            (258, 3, 8),
            (259, 3, 1),
            (262, 3, 1),
            (273, 4, pixels_at),
            (277, 3, 1),
            (278, 4, height),
            (279, 4, width * height),
            (282, 5, dpi_at),
            (283, 5, dpi_at),
        ];
        bytes.extend_from_slice(&u16::try_from(entries.len()).unwrap().to_le_bytes());
        for (tag, kind, value) in entries {
            bytes.extend_from_slice(&tag.to_le_bytes());
            bytes.extend_from_slice(&kind.to_le_bytes());
            bytes.extend_from_slice(&1u32.to_le_bytes());
            bytes.extend_from_slice(&value.to_le_bytes());
        }
        link_at = bytes.len();
        bytes.extend_from_slice(&0u32.to_le_bytes());
    }
    bytes
}

#[test]
fn every_tiff_frame_becomes_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let tiff = multi_page_tiff(&[(100, 50, 100, 40), (60, 90, 200, 200), (30, 30, 72, 120)]);
    let input = write(dir.path(), "fax.tif", &tiff);
    let out = dir.path().join("fax.pdf");
    let pages = convert(&[input], &fit(), &out);
    assert_eq!(pages.iter().map(|p| p.frame).collect::<Vec<_>>(), [1, 2, 3]);
    let sizes = sizes(&out);
    assert_size(sizes[0], (72.0, 36.0), "frame 1 at 100 dpi");
    assert_size(sizes[1], (21.6, 32.4), "frame 2 at 200 dpi");
    assert_size(sizes[2], (30.0, 30.0), "frame 3 at 72 dpi");
    for (page, level) in [(1, 40), (2, 200), (3, 120)] {
        let shown = rendered(&out, page);
        let centre = shown.get_pixel(shown.width() / 2, shown.height() / 2);
        assert!(centre.0.iter().all(|&c| c.abs_diff(level) <= 3), "page {page} shows {centre:?}, frame gray {level}");
    }
}

#[test]
fn anything_but_an_image_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "ok.jpg", &jpeg(10, 10, 72));
    for bad in [write(dir.path(), "notes.txt", b"just some words\n"), text_pdf("ltnews17.pdf")] {
        let name = bad.file_name().unwrap().to_string_lossy().into_owned();
        let inputs = [ImageInput { path: &good, name: "ok.jpg" }, ImageInput { path: &bad, name: &name }];
        let out = dir.path().join("never.pdf");
        let err = images_to_pdf(&inputs, &fit(), &out).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnsupportedFormat, "{err}");
        assert!(err.message.starts_with(&format!("{name}: this is ")), "{err}");
        assert!(!out.exists());
    }
    // A JPEG header with nothing behind it.
    let truncated = write(dir.path(), "cut.jpg", &jpeg(10, 10, 72)[..20]);
    let err = images_to_pdf(&[ImageInput { path: &truncated, name: "cut.jpg" }], &fit(), &dir.path().join("x.pdf"))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat, "{err}");
    assert!(err.message.starts_with("cut.jpg: "), "{err}");
}

#[test]
fn images_too_large_to_decode_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A PNG declaring 20,000 × 20,000 pixels (400 megapixels), and no pixels.
    let mut header = 20_000u32.to_be_bytes().repeat(2);
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &header[..]), (b"IDAT", &[][..]), (b"IEND", &[][..])] {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(data);
        bomb.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        bomb.extend_from_slice(&chunk);
        bomb.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    let input = write(dir.path(), "bomb.png", &bomb);
    let err =
        images_to_pdf(&[ImageInput { path: &input, name: "bomb.png" }], &fit(), &dir.path().join("x.pdf")).unwrap_err();
    assert_eq!(err.code, ErrorCode::ResourceLimit, "{err}");
    assert!(err.message.starts_with("bomb.png: the image is 20000 × 20000 pixels"), "{err}");
}

/// CRC-32 (ISO 3309), as PNG chunks carry.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
