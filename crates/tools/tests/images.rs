//! `images_to_pdf`, `pdf_to_image` and `thumbnails` through `run`, as the worker and the CLI call
//! them: input checks, parameters, output names and types, reports; results checked with qpdf,
//! poppler and the image bytes.

use scanpro_core::ErrorCode;
use scanpro_testkit::checkers::{pdfinfo, qpdf_check_clean};
use scanpro_testkit::corpus::corpus;
use scanpro_tools::{Output, StepResult, find, run, validate};
use serde_json::{Value, json};
mod common;
use common::input_at as input;

fn names(result: &StepResult) -> Vec<&str> {
    result.outputs.iter().map(|o| o.filename.as_str()).collect()
}

/// Magic bytes and pixel size read from the file itself.
fn image_file(output: &Output, content_type: &str) -> (u32, u32) {
    assert_eq!(output.content_type, content_type);
    assert_eq!(output.path.file_name().unwrap().to_string_lossy(), output.filename);
    let bytes = std::fs::read(&output.path).unwrap();
    let magic: &[u8] = if content_type == "image/png" { b"\x89PNG\r\n\x1a\n" } else { b"\xFF\xD8\xFF" };
    assert!(bytes.starts_with(magic), "{} is not {content_type}", output.filename);
    image::image_dimensions(&output.path).unwrap()
}

#[test]
fn the_three_tools_are_listed() {
    let images = find("images_to_pdf").expect("images_to_pdf is in the catalogue");
    assert_eq!(images.inputs.formats, ["jpeg", "png", "webp", "tiff"]);
    for field in ["page_size", "orientation", "margin"] {
        assert!(
            images.params_schema["properties"][field]["description"].is_string(),
            "{field}: {}",
            images.params_schema
        );
    }
    let render = find("pdf_to_image").expect("pdf_to_image is in the catalogue");
    for field in ["format", "dpi", "quality", "pages", "password"] {
        assert!(render.params_schema["properties"][field].is_object(), "{field}: {}", render.params_schema);
    }
    assert!(find("thumbnails").unwrap().params_schema["properties"]["width"].is_object());
}

#[test]
fn images_become_one_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let one = [input(corpus("images/ocrmypdf_baiona.png"))];
    let result = run("images_to_pdf", &json!({"page_size": "a4"}), &one, dir.path()).unwrap();
    assert_eq!(names(&result), ["ocrmypdf_baiona.pdf"]);
    assert_eq!(result.outputs[0].content_type, "application/pdf");
    qpdf_check_clean(&result.outputs[0].path);
    let info = pdfinfo(&result.outputs[0].path, &[]);
    assert!(info.contains("Pages:           1\n") && info.contains("595.276 x 841.89 pts (A4)"), "{info}");

    let several = [input(corpus("images/tesseract_phototest.tif")), input(corpus("images/ocrmypdf_linn.png"))];
    let out = tempfile::tempdir().unwrap();
    let result = run("images_to_pdf", &json!({"page_size": "letter", "margin": 0}), &several, out.path()).unwrap();
    assert_eq!(names(&result), ["images.pdf"]);
    let info = pdfinfo(&result.outputs[0].path, &["-f", "1", "-l", "2"]);
    assert!(info.contains("Pages:           2\n"), "{info}");
    // The TIFF is wider than tall: its Letter page turns to landscape.
    assert!(
        info.contains("Page    1 size:  792 x 612 pts") && info.contains("Page    2 size:  612 x 792 pts"),
        "{info}"
    );
    let report = result.report.unwrap();
    assert_eq!(report["pages"][0]["input"], "tesseract_phototest.tif");
    assert_eq!(report["pages"][1]["input"], "ocrmypdf_linn.png");
}

#[test]
fn images_to_pdf_refuses_what_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = [input(corpus("pdf-text/ltnews17.pdf"))];
    let err = run("images_to_pdf", &json!({}), &pdf, dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat);
    assert!(err.message.starts_with("ltnews17.pdf: this is "), "{err}");
    assert!(err.message.ends_with("takes JPEG, PNG, WEBP or TIFF files"), "{err}");
    let err = validate("images_to_pdf", &json!({"orientation": "landscape"}), Some(1)).unwrap_err();
    assert!(err.message.starts_with("orientation: "), "{err}");
    let err = validate("images_to_pdf", &json!({"page_size": "a4", "margin": 500}), Some(1)).unwrap_err();
    assert!(err.message.starts_with("margin: "), "{err}");
    let err = validate("images_to_pdf", &json!({"page_size": "a3"}), Some(1)).unwrap_err();
    assert!(err.message.starts_with("page_size: unknown variant"), "{err}");
}

#[test]
fn pdf_pages_become_images() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = [input(corpus("pdf-text/pdfjs_tracemonkey.pdf"))];
    let result = run("pdf_to_image", &json!({"pages": "1-3,14", "dpi": 72}), &pdf, dir.path()).unwrap();
    assert_eq!(
        names(&result),
        [
            "pdfjs_tracemonkey_p001.png",
            "pdfjs_tracemonkey_p002.png",
            "pdfjs_tracemonkey_p003.png",
            "pdfjs_tracemonkey_p014.png"
        ]
    );
    // Letter pages (612 × 792 points) at 72 dpi.
    for output in &result.outputs {
        assert_eq!(image_file(output, "image/png"), (612, 792), "{}", output.filename);
    }
    let report = result.report.unwrap();
    assert_eq!(report["pages"].as_array().unwrap().len(), 4);
    assert_eq!(report["pages"][3]["page"], 14);
    assert_eq!(report["pages"][3]["renderer"], "hayro");
    assert_eq!(report["fallback_pages"], json!([]));

    let out = tempfile::tempdir().unwrap();
    let result =
        run("pdf_to_image", &json!({"format": "jpg", "quality": 60, "dpi": 36, "pages": "last"}), &pdf, out.path())
            .unwrap();
    assert_eq!(names(&result), ["pdfjs_tracemonkey_p014.jpg"]);
    assert_eq!(image_file(&result.outputs[0], "image/jpeg"), (306, 396));
}

#[test]
fn pdf_to_image_refuses_bad_params_and_locked_files() {
    let dir = tempfile::tempdir().unwrap();
    for (params, field) in [
        (json!({"dpi": 601}), "dpi: "),
        (json!({"dpi": 5}), "dpi: "),
        (json!({"format": "jpg", "quality": 0}), "quality: "),
        (json!({"quality": 80}), "quality: "),
        (json!({"format": "gif"}), "format: "),
        (json!({"pages": "0"}), "pages: "),
    ] {
        let err = validate("pdf_to_image", &params, Some(1)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParams);
        assert!(err.message.starts_with(field), "{params}: {err}");
    }
    let short = [input(corpus("pdf-text/ltnews17.pdf"))];
    let err = run("pdf_to_image", &json!({"pages": "3"}), &short, dir.path()).unwrap_err();
    assert!(err.message.starts_with("pages: "), "{err}");
    let locked = [input(corpus("pdf-broken/pypdf_libreoffice-writer-password.pdf"))];
    let err = run("pdf_to_image", &json!({}), &locked, dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::EncryptedInput, "{err}");
    let err = run("pdf_to_image", &json!({"password": "guess"}), &locked, dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::WrongPassword, "{err}");
    let image = [input(corpus("images/ocrmypdf_baiona.png"))];
    let err = run("pdf_to_image", &json!({}), &image, dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat, "{err}");
}

#[test]
fn thumbnails_are_small_pngs() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = [input(corpus("pdf-text/lscape.pdf")), input(corpus("pdf-text/lscape.pdf"))];
    let result = run("thumbnails", &Value::Null, &pdf, dir.path()).unwrap();
    // Two inputs with one name: their thumbnails do not collide.
    assert_eq!(result.outputs.len(), 6);
    assert_eq!(names(&result)[0], "lscape_thumb_p001.png");
    assert_eq!(names(&result)[3], "lscape_thumb_2_p001.png");
    for output in &result.outputs {
        let (width, height) = image_file(output, "image/png");
        assert_eq!(width, 200);
        // A4: 200 × 283.
        assert!(height.abs_diff(283) <= 1, "{}: {width} × {height}", output.filename);
    }
    let out = tempfile::tempdir().unwrap();
    let result = run("thumbnails", &json!({"width": 64, "pages": "2"}), &pdf[..1], out.path()).unwrap();
    assert_eq!(names(&result), ["lscape_thumb_p002.png"]);
    assert_eq!(image_file(&result.outputs[0], "image/png").0, 64);
    let err = validate("thumbnails", &json!({"width": 4000}), Some(1)).unwrap_err();
    assert!(err.message.starts_with("width: "), "{err}");
}
