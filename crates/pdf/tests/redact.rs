//! Redaction, checked with tools that share nothing with ScanPro: poppler's `pdftotext` and
//! `pdfimages`, the whole file decompressed by qpdf and searched for the redacted text, and
//! page renders read pixel by pixel.

use regex::Regex;
use scanpro_pdf::redact::{Redaction, redact};
use scanpro_testkit::checkers::{page_count, page_text, pdftotext, qpdf_check_clean, run, stdout};
use scanpro_testkit::corpus::text_pdf;
use std::path::Path;

const EMAIL: &str = "contact@mychemistry.eu";

fn whole_file(path: &Path) -> String {
    stdout("qpdf", ["--qdf", "--object-streams=disable", path.to_str().unwrap(), "-"])
}

fn searching(patterns: &[&str]) -> Redaction {
    Redaction {
        patterns: patterns.iter().map(|p| Regex::new(p).unwrap()).collect(),
        rgb: [0.0; 3],
        dpi: 100,
        ..Redaction::default()
    }
}

#[test]
fn searched_text_is_gone_from_the_text_layer_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("ghsystem-manual.pdf");
    assert!(pdftotext(&source).contains(EMAIL));
    let out = dir.path().join("redacted.pdf");
    let email = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}";
    let report = redact(&source, &searching(&[email]), &out).unwrap();
    assert!(report.matches >= 1 && report.boxes >= 1, "{report:?}");
    qpdf_check_clean(&out);
    assert_eq!(page_count(&out), 20);
    let text = pdftotext(&out);
    assert!(!text.contains("mychemistry"), "poppler reads no trace of it");
    assert!(!whole_file(&out).contains("mychemistry"), "not in any stream either");
    let page = report.pages_redacted[0];
    let before = page_text(&source, page);
    let after = page_text(&out, page);
    let kept = before.split_whitespace().filter(|w| !w.contains('@')).filter(|w| after.contains(w)).count();
    assert!(kept * 10 >= before.split_whitespace().count() * 8, "the rest of the page's text stays: {after}");
    assert!(report.rasterized.is_empty(), "text in embedded Type 1 fonts is cut glyph by glyph: {report:?}");
}

/// The share of pixels in a region of a page render that are nearly black.
fn black_share(path: &Path, page: u32, [x, y, w, h]: [u32; 4]) -> f64 {
    let n = page.to_string();
    let rendered = run("pdftoppm", ["-r", "72", "-f", &n, "-l", &n, "-png", path.to_str().unwrap()]);
    let png = image::load_from_memory(&rendered.stdout).unwrap().into_luma8();
    let pixels: Vec<u8> = (y..y + h)
        .flat_map(|yy| (x..x + w).map(move |xx| (xx, yy)))
        .map(|(xx, yy)| png.get_pixel(xx, yy).0[0])
        .collect();
    pixels.iter().filter(|&&p| p < 40).count() as f64 / pixels.len() as f64
}

#[test]
fn an_area_removes_the_text_under_it_and_is_painted() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("lroundrect.pdf");
    let title = "The lroundrect Package";
    assert!(page_text(&source, 1).contains(title));
    let out = dir.path().join("area.pdf");
    // The title block at the top of page 1 (points from the top left).
    let what =
        Redaction { areas: vec![(1, [200.0, 155.0, 250.0, 35.0])], rgb: [0.0; 3], dpi: 100, ..Redaction::default() };
    let report = redact(&source, &what, &out).unwrap();
    qpdf_check_clean(&out);
    assert_eq!(report.pages_redacted, [1]);
    assert!(!page_text(&out, 1).contains("lroundrect Package"), "{}", page_text(&out, 1));
    assert!(page_text(&out, 1).contains("Abstract"), "text outside the area stays");
    assert!(black_share(&out, 1, [205, 160, 240, 25]) > 0.95, "the box is painted");
    assert_eq!(page_text(&out, 2), page_text(&source, 2));
}

#[test]
fn rasterized_pages_hold_one_image_and_no_text() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("lroundrect.pdf");
    let out = dir.path().join("raster.pdf");
    let what = Redaction {
        areas: vec![(2, [72.0, 72.0, 200.0, 100.0])],
        rasterize: true,
        rgb: [0.0; 3],
        dpi: 100,
        ..Redaction::default()
    };
    let report = redact(&source, &what, &out).unwrap();
    assert_eq!(report.rasterized, [2]);
    qpdf_check_clean(&out);
    assert!(page_text(&out, 2).trim().is_empty(), "no text layer left on the page");
    let images = stdout("pdfimages", ["-list", "-f", "2", "-l", "2", out.to_str().unwrap()]);
    assert_eq!(images.lines().skip(2).count(), 1, "{images}");
    assert!(black_share(&out, 2, [80, 80, 180, 80]) > 0.95);
    assert!(page_text(&out, 3).contains(page_text(&source, 3).lines().next().unwrap()), "other pages keep their text");
}

#[test]
fn pages_past_the_end_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let what = Redaction { areas: vec![(11, [0.0, 0.0, 10.0, 10.0])], dpi: 100, ..Redaction::default() };
    let error = redact(&text_pdf("lroundrect.pdf"), &what, &dir.path().join("x.pdf")).unwrap_err();
    assert_eq!(error.message, "areas: page 11: the document has 10 pages");
    let what = Redaction { areas: vec![(0, [0.0, 0.0, 10.0, 10.0])], dpi: 100, ..Redaction::default() };
    let error = redact(&text_pdf("lroundrect.pdf"), &what, &dir.path().join("x.pdf")).unwrap_err();
    assert_eq!(error.message, "areas: page 0: the document has 10 pages", "pages count from 1");
}

/// How often `word` (lower case) occurs in the file, read by qpdf with every stream decoded:
/// in its strings and in every stream but font programs and character maps (whose own names
/// and notices are not the document's text).
fn hits_outside_fonts(path: &Path, word: &str) -> usize {
    use base64::Engine;
    let out = run(
        "qpdf",
        [
            "--json",
            "--json-key=qpdf",
            "--json-stream-data=inline",
            "--decode-level=generalized",
            path.to_str().unwrap(),
            "-",
        ],
    );
    assert!(matches!(out.status.code(), Some(0 | 3)), "qpdf --json {}", path.display());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let objects = json["qpdf"][1].as_object().unwrap();
    let names = Regex::new(r"/[^\s/<>\[\]()]+").unwrap();
    let mut hits = 0;
    for object in objects.values() {
        if let Some(stream) = object.get("stream") {
            let dict = &stream["dict"];
            let font_program = dict.get("/Length1").is_some()
                || ["/Type1C", "/CIDFontType0C", "/OpenType"].iter().any(|s| dict["/Subtype"] == *s);
            if !font_program && let Some(data) = stream["data"].as_str() {
                let bytes = base64::engine::general_purpose::STANDARD.decode(data).unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes).to_lowercase();
                // A font's character map (ToUnicode) carries its own comments; the names in a
                // content stream (`/TableCaption` marking content) are the format's words.
                if !text.contains("begincmap") {
                    hits += names.replace_all(&text, " ").matches(word).count();
                }
            }
            hits += text_strings(dict, word);
        } else {
            hits += text_strings(object, word);
        }
    }
    hits
}

/// Occurrences of `word` in the text strings (`u:…` in qpdf's JSON) of `value`; names, like a
/// structure element's `/Caption`, are the format's words, not the document's.
fn text_strings(value: &serde_json::Value, word: &str) -> usize {
    match value {
        serde_json::Value::String(s) => s.strip_prefix("u:").map_or(0, |t| t.to_lowercase().matches(word).count()),
        serde_json::Value::Array(items) => items.iter().map(|v| text_strings(v, word)).sum(),
        serde_json::Value::Object(map) => map.values().map(|v| text_strings(v, word)).sum(),
        _ => 0,
    }
}

/// Every short `dev` PDF of the corpus: a word of its first page, redacted wherever it is, is
/// read by poppler nowhere and found zero times in the file, decompressed, outside font programs.
#[test]
fn a_redacted_word_leaves_zero_hits_across_the_corpus() {
    let mut checked = 0;
    for path in scanpro_testkit::corpus::corpus_files("pdf-text") {
        let info = scanpro_testkit::checkers::pdfinfo(&path, &[]);
        let pages: u32 =
            scanpro_testkit::checkers::info_field(&info, "Pages").and_then(|p| p.parse().ok()).unwrap_or(0);
        if pages == 0 || pages > 40 || info.contains("Encrypted:       yes") {
            continue;
        }
        let first_page = page_text(&path, 1);
        let Some(word) = first_page
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|w| w.len() >= 7 && w.chars().all(|c| c.is_ascii_lowercase()))
            .map(str::to_owned)
        else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("redacted.pdf");
        let pattern = Regex::new(&format!("(?i){word}")).unwrap();
        let what = Redaction { patterns: vec![pattern], rgb: [0.0; 3], dpi: 72, ..Redaction::default() };
        let report = match redact(&path, &what, &out) {
            Ok(report) => report,
            Err(error) => panic!("{}: {error:?}", path.display()),
        };
        qpdf_check_clean(&out);
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(!pdftotext(&out).to_lowercase().contains(&word), "{name}: poppler still reads {word:?} ({report:?})");
        let hits = hits_outside_fonts(&out, &word);
        assert_eq!(hits, 0, "{name}: {word:?} is still in the file ({report:?})");
        checked += 1;
    }
    assert!(checked >= 10, "checked {checked} documents");
}

/// A running footer drawn from a form XObject shared by every page: the form is rewritten
/// for the redacted page, and the page keeps its text layer.
#[test]
fn text_inside_a_form_is_cut_too() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page9.pdf");
    let source = text_pdf("pdfjs_freeculture.pdf");
    run("qpdf", [source.to_str().unwrap(), "--pages", ".", "9", "--", page.to_str().unwrap()]);
    let out = dir.path().join("out.pdf");
    let report = redact(&page, &searching(&["free-culture"]), &out).unwrap();
    assert!(report.matches >= 1, "{report:?}");
    assert!(report.rasterized.is_empty(), "the footer's form is cut, not rasterised: {report:?}");
    qpdf_check_clean(&out);
    let text = pdftotext(&out);
    assert!(!text.contains("free-culture") && text.split_whitespace().count() > 100, "{text}");
    assert_eq!(hits_outside_fonts(&out, "free-culture"), 0);
}
