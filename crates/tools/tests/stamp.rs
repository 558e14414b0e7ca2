//! `watermark`, `page_numbers` and `sign` end to end through `run`, outputs checked with
//! qpdf, pdftotext, pdfimages and pdftoppm renders.

use scanpro_core::ErrorCode;
use scanpro_testkit::checkers::{page_text, qpdf_check_clean, render_png, stdout};
use scanpro_tools::{Input, Output, run, validate};
use serde_json::{Value, json};
use std::path::Path;
mod common;
use common::input;

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs the tool into a fresh directory; every output must pass `qpdf --check` cleanly.
fn run_ok(name: &str, params: Value, inputs: &[Input], dir: &Path) -> Vec<Output> {
    let out_dir = dir.join(format!("out-{}", std::fs::read_dir(dir).unwrap().count()));
    std::fs::create_dir(&out_dir).unwrap();
    let result = run(name, &params, inputs, &out_dir).unwrap_or_else(|e| panic!("{name} {params}: {e}"));
    for output in &result.outputs {
        qpdf_check_clean(&output.path);
        assert_eq!(output.content_type, "application/pdf");
    }
    result.outputs
}

fn run_err(name: &str, params: Value, inputs: &[Input], dir: &Path) -> (ErrorCode, String) {
    let err = run(name, &params, inputs, dir).unwrap_err();
    (err.code, err.message)
}

/// Words on `page` of `after` that `before` does not have there, sorted.
fn added_words(before: &Path, after: &Path, page: u32) -> Vec<String> {
    let words = |path| {
        let mut words: Vec<String> = page_text(path, page).split_whitespace().map(str::to_owned).collect();
        words.sort();
        words
    };
    let mut remaining = words(before);
    let mut added = Vec::new();
    for word in words(after) {
        match remaining.iter().position(|w| *w == word) {
            Some(i) => drop(remaining.remove(i)),
            None => added.push(word),
        }
    }
    added
}

fn sorted(words: &[&str]) -> Vec<String> {
    let mut words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    words.sort();
    words
}

/// The page rendered at 30 dpi, as PNG bytes.
fn render(path: &Path, page: u32) -> Vec<u8> {
    render_png(path, page, 30)
}

#[test]
fn watermark_marks_each_pdf_on_the_selected_pages() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [input("pdf-text/lroundrect.pdf"), input("pdf-text/ltnews17.pdf")];
    let outputs = run_ok("watermark", json!({"text": "ЧЕРНОВИК", "pages": "2", "opacity": 0.3}), &inputs, dir.path());
    let names: Vec<&str> = outputs.iter().map(|o| o.filename.as_str()).collect();
    assert_eq!(names, ["lroundrect_watermarked.pdf", "ltnews17_watermarked.pdf"]);
    for (input, output) in inputs.iter().zip(&outputs) {
        assert_eq!(added_words(&input.path, &output.path, 2), ["ЧЕРНОВИК"]);
        assert!(added_words(&input.path, &output.path, 1).is_empty());
        assert_eq!(render(&input.path, 1), render(&output.path, 1), "page 1 is untouched");
    }
}

#[test]
fn watermark_image_is_the_last_input() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = input("pdf-text/ltnews17.pdf");
    let png = input("images/ocrmypdf_baiona.png");
    let outputs = run_ok(
        "watermark",
        json!({"scale": 0.3, "position": "top_right", "pages": "last"}),
        &[pdf.clone(), png.clone()],
        dir.path(),
    );
    assert_eq!(outputs.len(), 1, "the image is the watermark, not a document");
    let list = stdout("pdfimages", ["-list", path_str(&outputs[0].path)]);
    let pages: Vec<&str> = list.lines().skip(2).map(|row| row.split_whitespace().next().unwrap()).collect();
    assert_eq!(pages, ["2"], "one image, on the last page: {list}");

    let (code, message) = run_err("watermark", json!({}), &[png.clone(), pdf.clone()], dir.path());
    assert_eq!(code, ErrorCode::InvalidParams);
    assert!(message.starts_with("inputs: ocrmypdf_baiona.png (input 0) is an image"), "{message}");
    let (code, message) = run_err("watermark", json!({"text": "x"}), &[pdf.clone(), png.clone()], dir.path());
    assert_eq!(
        (code, message.as_str()),
        (ErrorCode::InvalidParams, "text: give either a text or an image (the last input), not both")
    );
    let (_, message) = run_err("watermark", json!({"font_size": 20}), &[pdf.clone(), png.clone()], dir.path());
    assert!(message.starts_with("font_size: applies to text watermarks"), "{message}");
    let (_, message) = run_err("watermark", json!({}), std::slice::from_ref(&pdf), dir.path());
    assert!(message.starts_with("text: required"), "{message}");
    let (code, message) =
        run_err("watermark", json!({}), &[pdf.clone(), input("images/tesseract_phototest.tif")], dir.path());
    assert_eq!(code, ErrorCode::UnsupportedFormat, "{message}");
    let (code, message) = run_err("watermark", json!({"text": "草稿"}), &[pdf], dir.path());
    assert_eq!(code, ErrorCode::InvalidParams);
    assert!(message.starts_with("text: DejaVu Sans has no glyph for '草'"), "{message}");
}

#[test]
fn page_numbers_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let book = input("pdf-text/lroundrect.pdf");
    let numbered = |params: Value| run_ok("page_numbers", params, std::slice::from_ref(&book), dir.path()).remove(0);

    let roman = numbered(json!({"format": "roman"}));
    assert_eq!(roman.filename, "lroundrect_numbered.pdf");
    assert_eq!(added_words(&book.path, &roman.path, 4), ["iv"]);
    assert_eq!(added_words(&book.path, &roman.path, 10), ["x"]);

    let letters = numbered(json!({"format": "letters", "position": "top_right"}));
    assert_eq!(added_words(&book.path, &letters.path, 3), ["C"]);

    let of_total = numbered(json!({"template": "Page {n} of {total}"}));
    assert_eq!(added_words(&book.path, &of_total.path, 3), sorted(&["Page", "3", "of", "10"]));
    assert!(page_text(&of_total.path, 3).contains("Page 3 of 10"));

    let skipped = numbered(json!({"template": "Page {n} of {total}", "skip_first": true}));
    assert!(added_words(&book.path, &skipped.path, 1).is_empty(), "the first page has no number");
    assert_eq!(render(&book.path, 1), render(&skipped.path, 1));
    assert!(page_text(&skipped.path, 2).contains("Page 1 of 9"));
    assert!(page_text(&skipped.path, 10).contains("Page 9 of 9"));

    // (pdftotext joins "- V -" into "-V-": it reads evenly spaced letters as one word.)
    let later =
        numbered(json!({"pages": "3-", "start": 5, "format": "roman_upper", "prefix": "Sheet ", "suffix": " done"}));
    assert!(added_words(&book.path, &later.path, 2).is_empty());
    assert_eq!(added_words(&book.path, &later.path, 3), sorted(&["Sheet", "V", "done"]));
    assert_eq!(added_words(&book.path, &later.path, 10), sorted(&["Sheet", "XII", "done"]));
}

#[test]
fn sign_places_text_date_and_images() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = input("pdf-text/lroundrect.pdf");
    let png = input("images/ocrmypdf_typewriter.png");
    let params = json!({"elements": [
        {"text": "Jana Nováková", "x": 72, "y": 100, "font_size": 14},
        {"type": "date", "date_format": "%d.%m.%Y", "position": "bottom_left", "page": "1,last"},
        {"image": 1, "x": 300, "y": 80, "width": 120, "page": 10},
    ]});
    let day_before = chrono::Utc::now().format("%d.%m.%Y").to_string();
    let outputs = run_ok("sign", params, &[pdf.clone(), png.clone()], dir.path());
    let day_after = chrono::Utc::now().format("%d.%m.%Y").to_string();
    assert_eq!(outputs.len(), 1);
    let signed = &outputs[0].path;
    assert_eq!(outputs[0].filename, "lroundrect_signed.pdf");
    // A run across midnight sees the new day.
    let today = if page_text(signed, 1).contains(&day_before) { day_before } else { day_after };
    assert_eq!(added_words(&pdf.path, signed, 10), sorted(&["Jana", "Nováková", &today]));
    assert_eq!(added_words(&pdf.path, signed, 1), std::slice::from_ref(&today));
    assert!(added_words(&pdf.path, signed, 5).is_empty());
    let list = stdout("pdfimages", ["-list", path_str(signed)]);
    let pages: Vec<&str> = list.lines().skip(2).map(|row| row.split_whitespace().next().unwrap()).collect();
    assert_eq!(pages, ["10"], "{list}");

    let (code, message) =
        run_err("sign", json!({"elements": [{"text": "x"}]}), &[pdf.clone(), png.clone()], dir.path());
    assert_eq!(code, ErrorCode::InvalidParams);
    assert!(message.starts_with("inputs: input 1 (ocrmypdf_typewriter.png) is not used"), "{message}");
    let (_, message) = run_err("sign", json!({"elements": [{"image": 2}]}), &[pdf.clone(), png.clone()], dir.path());
    assert!(message.starts_with("elements[0].image: input 2 does not exist"), "{message}");
    let (_, message) =
        run_err("sign", json!({"elements": [{"text": "x", "page": 11}]}), std::slice::from_ref(&pdf), dir.path());
    assert!(message.starts_with("elements[0].page: \"11\": page 11 is beyond the last page (10)"), "{message}");
    let (_, message) = run_err("sign", json!({"elements": [{"image": 1}]}), &[png, pdf], dir.path());
    assert!(message.starts_with("inputs: input 0 (ocrmypdf_typewriter.png) must be the PDF"), "{message}");
}

/// `base` with the keys of `extra` set (a `null` removes the key).
fn with(base: &Value, extra: Value) -> Value {
    let mut merged = base.as_object().unwrap().clone();
    for (key, value) in extra.as_object().unwrap() {
        if value.is_null() {
            merged.remove(key);
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    Value::Object(merged)
}

/// Each variation of `base` must render page 1 differently from `base` itself, so no option
/// is silently ignored.
fn assert_each_option_shows(name: &str, inputs: &[Input], base: Value, variations: &[Value]) {
    let dir = tempfile::tempdir().unwrap();
    let reference = render(&run_ok(name, base.clone(), inputs, dir.path())[0].path, 1);
    for variation in variations {
        let output = run_ok(name, with(&base, variation.clone()), inputs, dir.path()).remove(0);
        assert_ne!(render(&output.path, 1), reference, "{name}: {variation} over {base} changes nothing");
    }
}

#[test]
fn every_watermark_option_has_a_visible_effect() {
    let pdf = [input("pdf-text/ltnews17.pdf")];
    let base = json!({"text": "Draft", "position": "top_left", "opacity": 0.8});
    let variations = [
        json!({"font": "serif"}),
        json!({"font": "sans_bold"}),
        json!({"font": "mono"}),
        json!({"font_size": 30}),
        json!({"color": "#FF0000"}),
        json!({"opacity": 0.2}),
        json!({"rotation": 90}),
        json!({"position": "bottom_right"}),
        json!({"margin": 100}),
        json!({"tile": true}),
        json!({"pages": "2"}),
    ];
    assert_each_option_shows("watermark", &pdf, base, &variations);
    assert_each_option_shows("watermark", &pdf, json!({"text": "Draft", "tile": true}), &[json!({"spacing": 5})]);
    // Over the text the grey covers black letters; under it, the letters stay black.
    assert_each_option_shows(
        "watermark",
        &pdf,
        json!({"text": "Draft", "font_size": 200}),
        &[json!({"layer": "under"})],
    );
    let with_image = [input("pdf-text/ltnews17.pdf"), input("images/ocrmypdf_baiona.png")];
    let image_variations =
        [json!({"scale": 0.2}), json!({"opacity": 0.2}), json!({"rotation": 30}), json!({"position": "top_left"})];
    assert_each_option_shows("watermark", &with_image, json!({}), &image_variations);
}

#[test]
fn every_page_numbers_option_has_a_visible_effect() {
    let base = json!({"start": 7});
    let variations = [
        json!({"position": "top_left"}),
        json!({"format": "roman"}),
        json!({"format": "roman_upper"}),
        json!({"format": "letters"}),
        json!({"format": "letters_lower"}),
        json!({"start": 8}),
        json!({"template": "{n} / {total}"}),
        json!({"prefix": "p. "}),
        json!({"suffix": " *"}),
        json!({"font": "serif"}),
        json!({"font_size": 20}),
        json!({"color": "#0000FF"}),
        json!({"opacity": 0.3}),
        json!({"margin": 60}),
        json!({"pages": "2"}),
        json!({"skip_first": true}),
    ];
    assert_each_option_shows("page_numbers", &[input("pdf-text/ltnews17.pdf")], base, &variations);
}

#[test]
fn every_sign_option_has_a_visible_effect() {
    let inputs = [input("pdf-text/ltnews17.pdf"), input("images/ocrmypdf_typewriter.png")];
    let check = |element: Value, variations: &[Value]| {
        let params = |element: Value| json!({"elements": [element]});
        // The image input only when an element uses it: unused inputs are refused.
        let inputs = if element.get("image").is_some() { &inputs[..] } else { &inputs[..1] };
        let dir = tempfile::tempdir().unwrap();
        let reference = render(&run_ok("sign", params(element.clone()), inputs, dir.path())[0].path, 1);
        for variation in variations {
            let output = run_ok("sign", params(with(&element, variation.clone())), inputs, dir.path()).remove(0);
            assert_ne!(render(&output.path, 1), reference, "sign: {variation} over {element} changes nothing");
        }
    };
    let text = json!({"text": "Jane Doe", "page": 1, "x": 300, "y": 300});
    check(
        text.clone(),
        &[
            json!({"x": 100}),
            json!({"y": 100}),
            json!({"width": 300}),
            json!({"height": 80}),
            json!({"font_size": 30}),
            json!({"color": "#FF0000"}),
            json!({"font": "mono"}),
            json!({"rotation": 45}),
            json!({"opacity": 0.3}),
            json!({"page": 2}),
        ],
    );
    // A font size in a box wider than the text stays; without one the text fills the box.
    check(with(&text, json!({"width": 300})), &[json!({"font_size": 10})]);
    let anchored = json!({"text": "Jane Doe", "page": 1, "position": "bottom_left"});
    check(anchored, &[json!({"margin": 100}), json!({"position": "top_right"})]);
    let image = json!({"image": 1, "page": 1, "x": 100, "y": 100});
    check(image, &[json!({"width": 300}), json!({"height": 30}), json!({"rotation": 90}), json!({"opacity": 0.2})]);
    let date = json!({"type": "date", "page": 1, "date_format": "%H"});
    check(date, &[json!({"date_format": "%Y"}), json!({"utc_offset": "+12:00"})]);
}

#[test]
fn validation_names_the_field() {
    let message = |tool: &str, params: Value| validate(tool, &params, None).unwrap_err().message;
    assert_eq!(
        message("watermark", json!({"text": "x", "color": "#GG0000"})),
        "color: \"#GG0000\" is not a #RRGGBB colour"
    );
    assert_eq!(message("watermark", json!({"text": "x", "opacity": 2})), "opacity: must be between 0 and 1");
    assert!(
        message("watermark", json!({"text": "x", "position": "middle"}))
            .starts_with("position: unknown variant `middle`")
    );
    assert!(message("page_numbers", json!({"format": "greek"})).starts_with("format: unknown variant `greek`"));
    assert_eq!(
        message("page_numbers", json!({"template": "Page {page}"})),
        "template: must contain {n}, the page number"
    );
    assert!(
        message("sign", json!({"elements": [{"text": "x", "colour": "#000000"}]})).contains("unknown field `colour`")
    );
    assert_eq!(
        message("sign", json!({"elements": [{"image": 1, "font_size": 3}]})),
        "elements[0].font_size: does not apply to an image element"
    );
    validate("watermark", &json!({"text": "Entwurf", "tile": true, "spacing": 20, "layer": "under"}), Some(1)).unwrap();
    validate("page_numbers", &json!({"template": "Page {n} of {total}", "skip_first": true}), Some(1)).unwrap();
}
