//! Blank pages and cropping, checked with poppler: page counts and text (`pdfinfo`,
//! `pdftotext`), crop boxes (`pdfinfo -box`) and renderings of the crop box (`pdftoppm -cropbox`).

use lopdf::{Document, Object, Stream, dictionary};
use scanpro_pdf::ink::{Crop, crop, remove_blank_pages};
use scanpro_testkit::checkers::{page_count, page_text, pdfinfo, qpdf_check_clean, run};
use scanpro_testkit::corpus::text_pdf;
use std::path::{Path, PathBuf};

/// lroundrect's 10 pages with pages inserted: a blank one after page 1, one with a 2 pt speck
/// after page 3, and a blank one at the end (pages 2, 5 and 13 of 13).
fn with_blanks(dir: &Path) -> PathBuf {
    let mut doc = Document::load(text_pdf("lroundrect.pdf")).unwrap();
    let pages_id = doc.catalog().unwrap().get(b"Pages").unwrap().as_reference().unwrap();
    let mut page = |content: &[u8]| {
        let contents = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
        doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Contents" => contents, "Resources" => dictionary! {},
        })
    };
    let blank = page(b"");
    let speck = page(b"0 g 300 400 2 2 re f");
    let last = page(b"");
    // One flat page tree, so pages go in by position.
    let mut kids: Vec<Object> = doc.get_pages().values().map(|&id| Object::Reference(id)).collect();
    for kid in &kids {
        doc.get_dictionary_mut(kid.as_reference().unwrap()).unwrap().set("Parent", pages_id);
    }
    kids.insert(1, Object::Reference(blank));
    kids.insert(4, Object::Reference(speck));
    kids.push(Object::Reference(last));
    let pages = doc.get_dictionary_mut(pages_id).unwrap();
    pages.set("Count", 13);
    pages.set("Kids", kids);
    let path = dir.join("with-blanks.pdf");
    doc.save(&path).unwrap();
    path
}

#[test]
fn blank_pages_go_and_the_report_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let source = with_blanks(dir.path());
    assert_eq!(page_count(&source), 13);
    let out = dir.path().join("out.pdf");
    let report = remove_blank_pages(&source, 0.5, 240, &out).unwrap();
    assert_eq!(report.removed, [2, 5, 13]);
    qpdf_check_clean(&out);
    assert_eq!(page_count(&out), 10);
    for page in 1..=10 {
        assert_eq!(page_text(&out, page), page_text(&text_pdf("lroundrect.pdf"), page), "page {page}");
    }
    let strict = dir.path().join("strict.pdf");
    let report = remove_blank_pages(&source, 0.0, 240, &strict).unwrap();
    assert_eq!(report.removed, [2, 13], "at 0% a speck is ink");

    let blanks_only = dir.path().join("blank.pdf");
    let error = remove_blank_pages(&source, 50.0, 240, &blanks_only).unwrap_err();
    assert!(error.message.starts_with("threshold: every page"), "{}", error.message);
}

/// The crop box `pdfinfo -box` reports for page 1: `[left, bottom, right, top]`.
fn crop_box(path: &Path) -> [f64; 4] {
    let info = pdfinfo(path, &["-box", "-f", "1", "-l", "1"]);
    let line = info.lines().find(|l| l.contains("CropBox:")).unwrap();
    let numbers: Vec<f64> = line.split_whitespace().filter_map(|n| n.parse().ok()).collect();
    [numbers[numbers.len() - 4], numbers[numbers.len() - 3], numbers[numbers.len() - 2], numbers[numbers.len() - 1]]
}

#[test]
fn margins_are_cut_off_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cut.pdf");
    let report = crop(&text_pdf("lroundrect.pdf"), Crop::Margins([72.0, 36.0, 0.0, 18.0]), &out).unwrap();
    assert_eq!(report.cropped, 10);
    qpdf_check_clean(&out);
    assert_eq!(crop_box(&out).map(f64::round), [18.0, 0.0, 576.0, 720.0]);
    let error = crop(&text_pdf("lroundrect.pdf"), Crop::Margins([400.0, 0.0, 400.0, 0.0]), &out).unwrap_err();
    assert!(error.message.contains("leave nothing"), "{}", error.message);
}

#[test]
fn white_margins_are_trimmed_to_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("lroundrect.pdf");
    let out = dir.path().join("trimmed.pdf");
    let report = crop(&source, Crop::Trim { padding: 6.0, white_level: 240 }, &out).unwrap();
    assert_eq!(report.cropped, 10);
    qpdf_check_clean(&out);
    let [left, bottom, right, top] = crop_box(&out);
    assert!(left > 36.0 && bottom > 36.0 && right < 576.0 && top < 756.0, "{:?}", crop_box(&out));
    assert_eq!(page_text(&out, 1), page_text(&source, 1), "no text cut");
    // Rendered, the trimmed page has ink within the padding of each edge.
    let rendered = run("pdftoppm", ["-cropbox", "-r", "72", "-f", "1", "-l", "1", "-png", out.to_str().unwrap()]);
    let png = image::load_from_memory(&rendered.stdout).unwrap().into_luma8();
    assert!((f64::from(png.width()) - (right - left)).abs() < 2.0, "the viewer shows the crop box");
    let (w, h) = png.dimensions();
    let inked = |xs: std::ops::Range<u32>, ys: std::ops::Range<u32>| {
        xs.flat_map(|x| ys.clone().map(move |y| (x, y))).any(|(x, y)| png.get_pixel(x, y).0[0] < 240)
    };
    let band = 10;
    assert!(inked(0..band, 0..h) && inked(w - band..w, 0..h) && inked(0..w, 0..band) && inked(0..w, h - band..h));
}
