//! `run` end to end on corpus files, outputs checked with qpdf and poppler.

use scanpro_core::ErrorCode;
use scanpro_testkit::checkers::{page_count, pdftotext, qpdf_check_clean, rotations};
use scanpro_testkit::corpus::corpus;
use scanpro_tools::{Input, Output, detect_content_type, run};
use serde_json::json;
mod common;
use common::input;

/// Passes `qpdf --check` cleanly and has `pages` pages according to poppler.
fn assert_valid_pdf(output: &Output, pages: u32) {
    assert_eq!(output.content_type, "application/pdf");
    assert_eq!(output.path.file_name().unwrap().to_string_lossy(), output.filename);
    qpdf_check_clean(&output.path);
    assert_eq!(page_count(&output.path), pages, "{}", output.filename);
}

fn names(outputs: &[Output]) -> Vec<&str> {
    outputs.iter().map(|o| o.filename.as_str()).collect()
}

#[test]
fn merge_writes_merged_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [input("pdf-text/lroundrect.pdf"), input("pdf-text/ltnews17.pdf")];
    let result = run("merge", &json!({"order": [1, 0]}), &inputs, dir.path()).unwrap();
    assert_eq!(names(&result.outputs), ["merged.pdf"]);
    assert_valid_pdf(&result.outputs[0], 12);
    assert_eq!(result.report, Some(serde_json::json!({"streaming": false})), "small inputs stay in process");

    let err = run("merge", &json!({"order": [0, 0]}), &inputs, dir.path()).unwrap_err();
    assert!(err.message.starts_with("order: "), "{err}");
}

#[test]
fn split_modes_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [input("pdf-text/lroundrect.pdf")];
    let result = run("split", &json!({"ranges": "1-3,5,8-"}), &inputs, dir.path()).unwrap();
    assert_eq!(names(&result.outputs), ["lroundrect_01-03.pdf", "lroundrect_05.pdf", "lroundrect_08-10.pdf"]);
    for (output, pages) in result.outputs.iter().zip([3, 1, 3]) {
        assert_valid_pdf(output, pages);
    }

    let every = tempfile::tempdir().unwrap();
    let result = run("split", &json!({"mode": "every", "every": 4}), &inputs, every.path()).unwrap();
    assert_eq!(names(&result.outputs), ["lroundrect_01-04.pdf", "lroundrect_05-08.pdf", "lroundrect_09-10.pdf"]);

    let each = tempfile::tempdir().unwrap();
    let twice = [input("pdf-text/ltnews17.pdf"), input("pdf-text/ltnews17.pdf")];
    let result = run("split", &json!({"mode": "each"}), &twice, each.path()).unwrap();
    assert_eq!(names(&result.outputs), ["ltnews17_1.pdf", "ltnews17_2.pdf", "ltnews17_2_1.pdf", "ltnews17_2_2.pdf"]);

    let err = run("split", &json!({"ranges": "1-3,12"}), &inputs, dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert_eq!(err.message, "ranges: \"12\": page 12 is beyond the last page (10)");
}

#[test]
fn rotate_turns_each_input() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [input("pdf-text/lscape.pdf"), input("pdf-text/ltnews17.pdf")];
    let result = run("rotate", &json!({"angle": -90, "pages": "1,last"}), &inputs, dir.path()).unwrap();
    assert_eq!(names(&result.outputs), ["lscape_rotated.pdf", "ltnews17_rotated.pdf"]);
    assert_valid_pdf(&result.outputs[0], 3);
    assert_eq!(rotations(&result.outputs[0].path), [270, 0, 270]);
    assert_valid_pdf(&result.outputs[1], 2);
    assert_eq!(rotations(&result.outputs[1].path), [270, 270]);

    let err = run("rotate", &json!({"angle": 90, "pages": "1,7"}), &inputs, dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.starts_with("pages: \"7\": page 7 is beyond the last page (3)"), "{err}");
}

#[test]
fn info_writes_json_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let result = run("info", &json!({}), &[input("pdf-text/lscape.pdf")], dir.path()).unwrap();
    assert_eq!(names(&result.outputs), ["lscape_info.json"]);
    assert_eq!(result.outputs[0].content_type, "application/json");
    let report = result.report.unwrap();
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&result.outputs[0].path).unwrap()).unwrap();
    assert_eq!(written, report);
    assert_eq!(report["pages"], 3);
    assert_eq!(report["metadata"]["title"], "The lscape package");
    assert_eq!(report["page_sizes"][0], json!({"width": 595.276, "height": 841.89, "rotation": 0}));
}

#[test]
fn form_fields_lists_and_fill_form_fills_and_flattens() {
    let dir = tempfile::tempdir().unwrap();
    let form = [input("pdf-text/pdfjs_issue15096.pdf")];
    let listed = run("form_fields", &json!({}), &form, dir.path()).unwrap();
    assert_eq!(names(&listed.outputs), ["pdfjs_issue15096_fields.json"]);
    let report = listed.report.unwrap();
    let dropdown = report["fields"].as_array().unwrap().iter().find(|f| f["name"] == "Dropdown9").unwrap();
    assert_eq!(dropdown["type"], "combo");
    assert_eq!(dropdown["options"], json!(["Technical", "non tech", "value1", "value2"]));

    let params =
        json!({"values": {"name": "Grace Hopper", "checkbox": true, "List Box8": ["item1", "item3"]}, "flatten": true});
    let filled = run("fill_form", &params, &form, dir.path()).unwrap();
    assert_eq!(names(&filled.outputs), ["pdfjs_issue15096_filled.pdf"]);
    assert_valid_pdf(&filled.outputs[0], 1);
    assert!(pdftotext(&filled.outputs[0].path).contains("Grace Hopper"));
    assert_eq!(filled.report.unwrap()["outputs"][0]["filled"], json!(["List Box8", "checkbox", "name"]));

    let err = run("fill_form", &json!({"values": {}}), &form, dir.path()).unwrap_err();
    assert_eq!(err.message, "values: give at least one field's value");
    let flood: serde_json::Map<String, serde_json::Value> =
        (0..10_001).map(|i| (format!("f{i}"), json!("x"))).collect();
    let err = run("fill_form", &json!({"values": flood}), &form, dir.path()).unwrap_err();
    assert_eq!(err.message, "values: at most 10000 fields");
    let err = run("fill_form", &json!({"values": {"name": 42}}), &form, dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.contains("values"), "{err}");
}

#[test]
fn layout_tools_make_sheets_and_refuse_what_they_cannot_lay_out() {
    let dir = tempfile::tempdir().unwrap();
    let book = [input("pdf-text/lroundrect.pdf")];
    let four =
        run("n_up", &json!({"pages_per_sheet": 4, "sheet_size": "a4", "borders": true}), &book, dir.path()).unwrap();
    assert_eq!(names(&four.outputs), ["lroundrect_4up.pdf"]);
    assert_valid_pdf(&four.outputs[0], 3);
    assert_eq!(four.report.unwrap()["outputs"][0]["sheet_size"], json!([595.28, 841.89]));
    let folded = run("booklet", &json!({}), &book, dir.path()).unwrap();
    assert_valid_pdf(&folded.outputs[0], 6);
    assert_eq!(folded.report.unwrap()["outputs"][0]["blank_pages_added"], 2);
    let scaled = run("scale_pages", &json!({"width": 300, "height": 400}), &book, dir.path()).unwrap();
    assert_valid_pdf(&scaled.outputs[0], 10);
    assert_eq!(scanpro_testkit::checkers::page_sizes(&scaled.outputs[0].path)[0], "300 x 400 pts");

    for (tool, params, expected) in [
        ("n_up", json!({"pages_per_sheet": 5}), "pages_per_sheet: 5: one of 2, 4, 6, 9 or 16"),
        ("n_up", json!({"margin": -3}), "margin: must be between 0 and 144, got -3"),
        ("scale_pages", json!({"size": "a4", "width": 300}), "size: give either size or width and height, not both"),
        ("scale_pages", json!({"width": 300}), "width: width and height go together"),
        ("scale_pages", json!({"width": 3, "height": 400}), "width: must be between 72 and 14400, got 3"),
        ("scale_pages", json!({"size": "same"}), "size: \"same\" would change nothing: choose a paper size"),
        ("booklet", json!({"binding": "top"}), "binding"),
    ] {
        let err = run(tool, &params, &book, dir.path()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParams, "{tool} {params}");
        assert!(err.message.contains(expected), "{tool} {params}: {}", err.message);
    }
}

/// Where `first` and `second` occur in `page`'s text in content-stream order (`pdftotext
/// -raw`): whether `first` is drawn before `second`.
fn drawn_before(path: &std::path::Path, page: u32, first: &str, second: &str) -> bool {
    let n = page.to_string();
    let raw = scanpro_testkit::checkers::stdout("pdftotext", ["-raw", "-f", &n, "-l", &n, path.to_str().unwrap(), "-"]);
    raw.find(first).unwrap() < raw.find(second).unwrap()
}

#[test]
fn overlay_draws_the_last_input_under_or_over_chosen_pages() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [input("pdf-text/lroundrect.pdf"), input("pdf-text/lscape.pdf")];
    let letterhead_line = "This file has version number v3.02";
    let result = run("overlay", &json!({"pages": "1,3"}), &inputs, dir.path()).unwrap();
    assert_eq!(names(&result.outputs), ["lroundrect_overlaid.pdf"]);
    let out = &result.outputs[0].path;
    assert_valid_pdf(&result.outputs[0], 10);
    assert_eq!(result.report.unwrap()["outputs"][0]["overlaid"], 2);
    let text = |page| scanpro_testkit::checkers::page_text(out, page);
    assert!(text(1).contains(letterhead_line) && text(1).contains("The lroundrect Package"), "{}", text(1));
    assert!(!text(2).contains(letterhead_line));
    assert!(text(3).contains(letterhead_line));
    assert!(drawn_before(out, 1, "Carlisle", "Goodman"), "under: drawn first");

    let over = run("overlay", &json!({"layer": "over", "match_pages": true}), &inputs, dir.path()).unwrap();
    let out = &over.outputs[0].path;
    assert!(drawn_before(out, 1, "Goodman", "Carlisle"), "over: drawn last");
    let text = |page| scanpro_testkit::checkers::page_text(out, page);
    assert!(text(2).contains("PassOptionsToPackage"), "page 2 of the overlay on page 2: {}", text(2));

    let err = run("overlay", &json!({"pages": "12"}), &inputs, dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.starts_with("pages: "), "{err}");
    let err = run("overlay", &json!({}), &inputs[..1], dir.path()).unwrap_err();
    assert!(err.message.contains("at least 2"), "{err}");
}

/// How often `needle` occurs in the file, every stream decompressed by qpdf.
fn occurrences(path: &std::path::Path, needle: &str) -> usize {
    let raw =
        scanpro_testkit::checkers::stdout("qpdf", ["--qdf", "--object-streams=disable", path.to_str().unwrap(), "-"]);
    raw.matches(needle).count()
}

#[test]
fn remove_annotations_takes_the_kinds_and_pages_asked() {
    let dir = tempfile::tempdir().unwrap();
    let highlights = [input("pdf-text/pdfjs_highlights.pdf")];
    let result = run("remove_annotations", &json!({"kinds": ["comments"]}), &highlights, dir.path()).unwrap();
    assert_eq!(result.report.unwrap()["outputs"][0]["comments"], 8, "six highlights and two drawings");
    let out = &result.outputs[0].path;
    qpdf_check_clean(out);
    assert_eq!(occurrences(out, "/Subtype /Highlight") + occurrences(out, "/Subtype /Popup"), 0);

    let form = [input("pdf-text/pdfjs_issue15096.pdf")];
    let result = run("remove_annotations", &json!({"kinds": ["form_fields"]}), &form, dir.path()).unwrap();
    let report = result.report.unwrap();
    assert_eq!(
        (report["outputs"][0]["form_fields"].as_u64(), report["outputs"][0]["form_removed"].as_bool()),
        (Some(11), Some(true))
    );
    let info = scanpro_testkit::checkers::pdfinfo(&result.outputs[0].path, &[]);
    assert!(info.contains("Form:            none"), "{info}");

    let linked = [input("pdf-text/hyperref.pdf")];
    let before = occurrences(&linked[0].path, "/Subtype /Link");
    let result = run("remove_annotations", &json!({"kinds": ["links"], "pages": "1-3"}), &linked, dir.path()).unwrap();
    let removed = usize::try_from(result.report.unwrap()["outputs"][0]["links"].as_u64().unwrap()).unwrap();
    let after = occurrences(&result.outputs[0].path, "/Subtype /Link");
    assert!(
        removed > 0 && after > 0 && after == before - removed,
        "{before} - {removed} = {after}: only pages 1-3 lose theirs"
    );

    let err = run("remove_annotations", &json!({"kinds": []}), &form, dir.path()).unwrap_err();
    assert_eq!(err.message, "kinds: choose at least one kind to remove");
}

#[test]
fn sanitize_reports_what_it_found_and_refuses_to_do_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let scripted = [input("pdf-text/tikz-among-us.pdf")];
    let result = run("sanitize", &json!({"links": true}), &scripted, dir.path()).unwrap();
    let report = result.report.unwrap();
    assert!(report["outputs"][0]["found"]["scripts"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["outputs"][0]["removed"], json!(["scripts", "embedded_files", "links"]));
    assert_eq!(occurrences(&result.outputs[0].path, "/JavaScript") + occurrences(&result.outputs[0].path, "/URI"), 0);
    let nothing = json!({"scripts": false, "embedded_files": false});
    let err = run("sanitize", &nothing, &scripted, dir.path()).unwrap_err();
    assert_eq!(err.message, "scripts: choose at least one thing to remove");
}

#[test]
fn bookmarks_are_listed_and_written_and_split_chapters() {
    let dir = tempfile::tempdir().unwrap();
    let manual = [input("pdf-text/ghsystem-manual.pdf")];
    let listed = run("bookmarks", &json!({}), &manual, dir.path()).unwrap();
    assert_eq!(names(&listed.outputs), ["ghsystem-manual_bookmarks.json"]);
    let report = listed.report.unwrap();
    assert_eq!(report["bookmarks"][5], json!({"title": "4.1 Simple Statements", "level": 2, "page": 2}));

    let toc = json!({"mode": "replace", "bookmarks": [{"title": "Start", "page": 1}, {"title": "Middle", "page": 5, "level": 2}]});
    let written = run("bookmarks", &toc, &manual, dir.path()).unwrap();
    assert_valid_pdf(&written.outputs[0], 20);
    let outline = scanpro_testkit::checkers::qpdf_json(&written.outputs[0].path, &["outlines"]);
    assert_eq!(outline["outlines"][0]["kids"][0]["title"], "Middle");
    assert_eq!(outline["outlines"][0]["kids"][0]["destpageposfrom1"], 5);

    let parts = run("split", &json!({"mode": "bookmarks"}), &manual, dir.path()).unwrap();
    let counts: Vec<u32> = parts.outputs.iter().map(|o| page_count(&o.path)).collect();
    assert_eq!(counts, [1, 4, 2, 1, 10, 2], "chapters start at pages 1, 2, 6, 8, 9 and 19");
    let report = parts.report.unwrap();
    assert_eq!(report["parts"][2]["bookmark"], "5 Pictograms");
    let text = |path: &std::path::Path, page| scanpro_testkit::checkers::page_text(path, page);
    assert_eq!(text(&parts.outputs[2].path, 1), text(&manual[0].path, 6));
    let sections = run("split", &json!({"mode": "bookmarks", "level": 2}), &manual, dir.path()).unwrap();
    assert!(sections.outputs.len() > counts.len(), "level 2 cuts at sections too");

    let plain = [input("pdf-text/lroundrect.pdf")];
    for (tool, params, expected) in [
        (
            "split",
            json!({"mode": "bookmarks"}),
            "level: lroundrect.pdf: no bookmark of level 1 opens a page to split at",
        ),
        ("split", json!({"mode": "each", "level": 2}), "level: only applies with mode \"bookmarks\""),
        ("bookmarks", json!({"mode": "add"}), "bookmarks: give the bookmarks to add"),
        (
            "bookmarks",
            json!({"mode": "replace", "bookmarks": vec![json!({"title": "x", "page": 1}); 10_001]}),
            "bookmarks: at most 10000",
        ),
        (
            "bookmarks",
            json!({"bookmarks": [{"title": "x", "page": 1}]}),
            "bookmarks: only used with mode \"replace\" or \"add\"",
        ),
    ] {
        let err = run(tool, &params, &plain, dir.path()).unwrap_err();
        assert_eq!(err.message, expected, "{tool} {params}");
    }
}

#[test]
fn crop_and_remove_blank_pages_check_their_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let book = [input("pdf-text/lroundrect.pdf")];
    let cropped = run("crop", &json!({"mode": "margins", "top": 72, "left": 36}), &book, dir.path()).unwrap();
    assert_valid_pdf(&cropped.outputs[0], 10);
    let boxes = scanpro_testkit::checkers::pdfinfo(&cropped.outputs[0].path, &["-box", "-f", "1", "-l", "1"]);
    assert!(boxes.lines().any(|l| l.contains("CropBox:") && l.contains("36.00") && l.contains("720.00")), "{boxes}");
    let kept = run("remove_blank_pages", &json!({}), &book, dir.path()).unwrap();
    assert_valid_pdf(&kept.outputs[0], 10);
    assert_eq!(kept.report.unwrap()["outputs"][0]["removed"], json!([]));

    for (tool, params, expected) in [
        ("crop", json!({"top": 10}), "top: only applies with mode \"margins\""),
        ("crop", json!({"mode": "margins"}), "top: give at least one margin to cut"),
        ("crop", json!({"padding": -1}), "padding: must be between 0 and 720, got -1"),
        ("remove_blank_pages", json!({"threshold": 80}), "threshold: must be between 0 and 50, got 80"),
        ("remove_blank_pages", json!({"white_level": 0}), "white_level: must be between 1 and 255, got 0"),
    ] {
        let err = run(tool, &params, &book, dir.path()).unwrap_err();
        assert_eq!(err.message, expected, "{tool} {params}");
    }
}

#[test]
fn attachments_are_listed_and_extracted_under_safe_names() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let xml = files.join("invoice.xml");
    std::fs::write(&xml, "<invoice total=\"12.50\"/>").unwrap();
    let script = files.join("escape.sh");
    std::fs::write(&script, "#!/bin/sh\necho pwned\n").unwrap();
    let inputs = [
        input("pdf-text/lscape.pdf"),
        Input { path: xml, filename: "invoice.xml".into() },
        Input { path: script, filename: "../../../tmp/escape.sh".into() },
    ];
    let attached = run("attach", &json!({"files": 2}), &inputs, dir.path()).unwrap();
    let document = [common::input_at(attached.outputs[0].path.clone())];

    let out = dir.path().join("listed");
    std::fs::create_dir(&out).unwrap();
    let listed = run("attachments", &json!({}), &document, &out).unwrap();
    let report = listed.report.unwrap();
    let names: Vec<&str> =
        report["attachments"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 2, "{report}");
    assert!(names.contains(&"invoice.xml"));
    let poppler = scanpro_testkit::checkers::stdout("pdfdetach", ["-list", document[0].path.to_str().unwrap()]);
    assert!(poppler.starts_with("2 embedded files"), "{poppler}");

    let out = dir.path().join("extracted");
    std::fs::create_dir(&out).unwrap();
    let extracted = run("attachments", &json!({"mode": "extract"}), &document, &out).unwrap();
    for output in &extracted.outputs {
        assert_eq!(output.path.parent().unwrap(), out, "written inside the step's directory: {output:?}");
        assert!(!output.filename.contains('/') && !output.filename.contains(".."), "{output:?}");
    }
    let invoice = extracted.outputs.iter().find(|o| o.filename == "invoice.xml").unwrap();
    assert_eq!(std::fs::read_to_string(&invoice.path).unwrap(), "<invoice total=\"12.50\"/>");
    assert!(extracted.outputs.iter().any(|o| o.filename == "escape.sh"));
    assert!(!dir.path().join("tmp/escape.sh").exists() && !std::path::Path::new("/tmp/escape.sh").exists());

    let err = run("attachments", &json!({"mode": "extract"}), &[input("pdf-text/lscape.pdf")], &out).unwrap_err();
    assert_eq!(err.message, "mode: lscape.pdf has no embedded files to extract");
}

/// An attachment that inflates past the decompression budget (a few hundred kilobytes of
/// Flate holding 300 MB of zeros) is refused, not unpacked.
#[test]
fn an_attachment_bomb_is_refused() {
    use lopdf::{Document, Object, Stream, dictionary};
    let dir = tempfile::tempdir().unwrap();
    let mut doc = Document::load(corpus("pdf-text/lscape.pdf")).unwrap();
    let mut bomb = Stream::new(dictionary! { "Type" => "EmbeddedFile" }, vec![0u8; 300 * 1024 * 1024]);
    bomb.compress().unwrap();
    assert!(bomb.content.len() < 2 * 1024 * 1024);
    let bomb = doc.add_object(bomb);
    let spec = doc.add_object(dictionary! { "Type" => "Filespec", "F" => Object::string_literal("zeros.bin"), "EF" => dictionary! { "F" => bomb } });
    let tree =
        doc.add_object(dictionary! { "Names" => vec![Object::string_literal("zeros.bin"), Object::Reference(spec)] });
    doc.catalog_mut().unwrap().set("Names", dictionary! { "EmbeddedFiles" => tree });
    let path = dir.path().join("bomb.pdf");
    doc.save(&path).unwrap();

    let listed = run("attachments", &json!({}), &[common::input_at(path.clone())], dir.path()).unwrap();
    assert_eq!(listed.report.unwrap()["attachments"][0]["name"], "zeros.bin");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let err = run("attachments", &json!({"mode": "extract"}), &[common::input_at(path)], &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidPdf, "{err}");
    assert!(err.message.starts_with("attachment \"zeros.bin\": "), "{err}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "nothing written");
}

#[test]
fn compare_answers_with_sheets_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [input("pdf-text/lroundrect.pdf"), input("pdf-text/ltnews17.pdf")];
    let result = run("compare", &json!({}), &inputs, dir.path()).unwrap();
    assert_eq!(names(&result.outputs), ["lroundrect_vs_ltnews17.pdf", "lroundrect_vs_ltnews17.json"]);
    assert_valid_pdf(&result.outputs[0], 10);
    let report = result.report.unwrap();
    assert_eq!(
        (report["old_pages"].as_u64(), report["new_pages"].as_u64(), report["identical"].as_bool()),
        (Some(10), Some(2), Some(false))
    );
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&result.outputs[1].path).unwrap()).unwrap();
    assert_eq!(written, report);
    let err = run("compare", &json!({}), &inputs[..1], dir.path()).unwrap_err();
    assert!(err.message.contains("at least 2"), "{err}");
}

/// A one-page letter holding personal data, its title repeating the address.
fn personal_letter(dir: &std::path::Path) -> std::path::PathBuf {
    let lines = [
        "Dear customer,",
        "please write to jane.doe@example.org or call +49 30 1234 5678.",
        "Pay to IBAN DE89 3704 0044 0532 0130 00 by Friday.",
        "Kind regards",
    ];
    let path = dir.join("letter.pdf");
    scanpro_testkit::documents::lines_pdf(&path, &[&lines], Some("Letter to jane.doe@example.org"));
    path
}

#[test]
fn redact_presets_leave_no_trace_in_text_file_or_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let letter = [common::input_at(personal_letter(dir.path()))];
    let result = run("redact", &json!({"presets": ["email", "phone", "iban"]}), &letter, dir.path()).unwrap();
    let out = &result.outputs[0].path;
    assert_valid_pdf(&result.outputs[0], 1);
    let report = result.report.unwrap();
    assert!(report["outputs"][0]["matches"].as_u64().unwrap() >= 3, "{report}");
    assert_eq!(report["outputs"][0]["rasterized"], json!([]), "cut glyph by glyph: {report}");
    assert_eq!(report["outputs"][0]["metadata_removed"], json!(["Title"]));
    let text = pdftotext(out);
    for gone in ["jane.doe", "example.org", "1234", "5678", "DE89", "3704", "0130"] {
        assert!(!text.contains(gone), "{gone} still read: {text}");
        assert_eq!(occurrences(out, gone), 0, "{gone} still in the file");
    }
    for kept in ["Dear customer", "please write to", "Pay to IBAN", "by Friday", "Kind regards"] {
        assert!(text.contains(kept), "{kept} lost: {text}");
    }
    assert!(
        scanpro_testkit::checkers::pdfinfo(out, &[]).contains("Author:          Billing"),
        "unmatched metadata stays"
    );

    let words = run("redact", &json!({"search": ["KIND regards"], "color": "#ff0000"}), &letter, dir.path()).unwrap();
    let text = pdftotext(&words.outputs[0].path);
    assert!(!text.contains("Kind") && !text.contains("regards") && text.contains("Dear customer"), "{text}");

    let letter_path = &letter[0].path;
    for (params, expected) in [
        (json!({}), "search: give words, patterns, presets or areas to redact"),
        (json!({"patterns": ["(unclosed"]}), "patterns: \"(unclosed\": "),
        (json!({"areas": [{"page": 0, "x": 0, "y": 0, "width": 5, "height": 5}]}), "areas[0]: page from 1"),
        (json!({"search": ["x"], "color": "black"}), "color: \"black\" is not a #RRGGBB colour"),
        (json!({"search": ["x"], "dpi": 1200}), "dpi: must be between 72 and 300, got 1200"),
    ] {
        let err = run("redact", &params, &[common::input_at(letter_path.clone())], dir.path()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParams);
        assert!(err.message.starts_with(expected), "{params}: {}", err.message);
    }
}

#[test]
fn inputs_are_checked_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let photo = Input { path: corpus("images/ocrmypdf_baiona.png"), filename: "holiday.pdf".into() };
    let err = run("rotate", &json!({"angle": 90}), &[photo], dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat);
    assert_eq!(err.message, "holiday.pdf: this is a PNG image (image/png), but rotate takes PDF files");

    let locked = input("pdf-broken/pypdf_libreoffice-writer-password.pdf");
    assert_eq!(run("info", &json!({}), &[locked], dir.path()).unwrap_err().code, ErrorCode::EncryptedInput);

    let err =
        run("info", &json!({}), &[input("pdf-text/lscape.pdf"), input("pdf-text/lscape.pdf")], dir.path()).unwrap_err();
    assert!(err.message.starts_with("inputs: "), "{err}");
    assert_eq!(run("nope", &json!({}), &[], dir.path()).unwrap_err().code, ErrorCode::InvalidParams);
}

#[test]
fn content_types_come_from_bytes() {
    assert_eq!(detect_content_type(b"%PDF-1.7\n"), "application/pdf");
    assert_eq!(detect_content_type(b"\r\n\r\njunk%PDF-1.4\n"), "application/pdf");
    assert_eq!(detect_content_type(&std::fs::read(corpus("images/ocrmypdf_baiona.png")).unwrap()), "image/png");
    assert_eq!(detect_content_type(b"PK\x03\x04\x14\0\x06\0"), "application/zip");
    assert_eq!(detect_content_type(b"\x00\x01\x02"), "application/octet-stream");
}

#[test]
fn convert_runs_as_the_tool_its_input_calls_for() {
    let out = tempfile::tempdir().unwrap();
    let image = run("convert", &json!({"to": "pdf"}), &[input("images/ocrmypdf_baiona.png")], out.path()).unwrap();
    assert_valid_pdf(&image.outputs[0], 1);
    assert!(image.report.unwrap()["pages"].is_array(), "images_to_pdf's report");

    let pages = tempfile::tempdir().unwrap();
    let pdf = input("pdf-text/ltnews17.pdf");
    let images =
        run("convert", &json!({"to": "png", "pages": "2", "dpi": 40}), std::slice::from_ref(&pdf), pages.path())
            .unwrap();
    assert_eq!(images.outputs.len(), 1);
    assert_eq!(images.outputs[0].content_type, "image/png");
    assert_eq!(detect_content_type(&std::fs::read(&images.outputs[0].path).unwrap()), "image/png");

    let text = tempfile::tempdir().unwrap();
    let extracted = run("convert", &json!({"to": "txt"}), std::slice::from_ref(&pdf), text.path()).unwrap();
    assert!(!std::fs::read_to_string(&extracted.outputs[0].path).unwrap().trim().is_empty());

    let refused = run("convert", &json!({"to": "ods"}), &[pdf], out.path()).unwrap_err();
    assert_eq!(refused.code, ErrorCode::UnsupportedFormat);
    assert!(refused.message.contains("ltnews17.pdf: convert cannot turn a PDF into ODS"), "{refused}");
    let refused = run("convert", &json!({"to": "pdf", "dpi": 100}), &[input("images/ocrmypdf_baiona.png")], out.path())
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidParams);
    assert!(refused.message.starts_with("dpi:"), "{refused}");
}

#[test]
fn digital_sign_takes_the_certificate_among_the_inputs_and_verify_signatures_reads_it_back() {
    use scanpro_testkit::signing::{P12_PASSWORD, TestPki, pdfsig};
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(&dir.path().join("pki"));
    let document = input("pdf-text/lroundrect.pdf");
    let certificate = common::input_at(pki.rsa_p12.clone());
    let logo = input("images/ocrmypdf_linn.png");
    let inputs = [document.clone(), certificate.clone(), logo];
    // The one image among the inputs is the one shown.
    let params = json!({"password": P12_PASSWORD, "visible": true, "page": 2, "reason": "Reviewed"});
    let result = run("digital_sign", &params, &inputs, dir.path()).unwrap();
    assert_eq!(names(&result.outputs), ["lroundrect_signed.pdf"]);
    let signed = &result.outputs[0];
    assert_valid_pdf(signed, 10);
    let poppler = pdfsig(&signed.path);
    assert!(poppler.contains("Signature is Valid") && poppler.contains("Total document signed"), "{poppler}");
    let report = result.report.unwrap();
    assert_eq!((report["signer"].as_str(), report["page"].as_u64()), (Some("Alice Example"), Some(2)), "{report}");
    assert!(scanpro_testkit::checkers::page_text(&signed.path, 2).contains("Reason: Reviewed"));

    scanpro_tools::signing::configure(scanpro_tools::SigningSettings {
        trust_store_pem: Some(std::fs::read_to_string(&pki.root_pem).unwrap()),
        ..Default::default()
    });
    let checked = run("verify_signatures", &json!({}), &[common::input_at(signed.path.clone())], dir.path()).unwrap();
    let report = checked.report.unwrap();
    assert_eq!(report["valid"], 1, "{report}");
    assert_eq!(report["signatures"][0]["reason"], "Reviewed", "{report}");
    assert_eq!(report["signatures"][0]["trusted"], true, "{report}");

    let refusals = [
        (
            json!({"password": "guess"}),
            vec![document.clone(), certificate.clone()],
            ErrorCode::WrongPassword,
            "password:",
        ),
        (
            json!({"password": P12_PASSWORD}),
            vec![document.clone(), input("images/ocrmypdf_linn.png")],
            ErrorCode::InvalidParams,
            "inputs: add the certificate",
        ),
        (
            json!({"password": P12_PASSWORD, "page": 2}),
            vec![document.clone(), certificate.clone()],
            ErrorCode::InvalidParams,
            "page: applies to a visible signature",
        ),
        (
            json!({"password": P12_PASSWORD, "timestamp": true}),
            vec![document.clone(), certificate.clone()],
            ErrorCode::InvalidParams,
            "timestamp: this server has no time-stamping authority",
        ),
        (
            json!({"password": P12_PASSWORD, "visible": true, "image": 1}),
            vec![document.clone(), certificate.clone()],
            ErrorCode::InvalidParams,
            "image: input 1 is not a PNG or JPEG",
        ),
        (
            json!({"password": P12_PASSWORD, "visible": true, "area": [0, 0, 1e9, 5]}),
            vec![document.clone(), certificate.clone()],
            ErrorCode::InvalidParams,
            "area:",
        ),
        (
            json!({"password": P12_PASSWORD, "field": "a.b"}),
            vec![document.clone(), certificate.clone()],
            ErrorCode::InvalidParams,
            "field:",
        ),
        (
            json!({"password": P12_PASSWORD}),
            vec![document.clone(), certificate.clone(), input("images/ocrmypdf_linn.png")],
            ErrorCode::InvalidParams,
            "visible: an image input is shown only in a visible signature",
        ),
    ];
    for (params, inputs, code, message) in refusals {
        let err = run("digital_sign", &params, &inputs, dir.path()).unwrap_err();
        assert_eq!(err.code, code, "{params}: {err}");
        assert!(err.message.starts_with(message), "{params}: {}", err.message);
    }
    // An image too large to decode safely is refused before it is decoded: 20 000 × 20 000 pixels
    // (a few kilobytes of PNG, 1.6 GB once decoded).
    let huge = dir.path().join("huge.png");
    let mut encoded = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut encoded);
    image::ImageEncoder::write_image(encoder, &[255u8; 20_000], 20_000, 1, image::ExtendedColorType::L8).unwrap();
    // The header's height is raised after encoding (its checksum with it): the decoder is never
    // reached.
    encoded[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let checksum = crc32(&encoded[12..29]);
    encoded[29..33].copy_from_slice(&checksum.to_be_bytes());
    std::fs::write(&huge, &encoded).unwrap();
    let params = json!({"password": P12_PASSWORD, "visible": true});
    let err =
        run("digital_sign", &params, &[document.clone(), certificate.clone(), common::input_at(huge)], dir.path())
            .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams, "{err}");
    assert!(err.message.starts_with("image: 20000 × 20000 pixels is larger than"), "{}", err.message);

    let err =
        run("digital_sign", &json!({"password": P12_PASSWORD}), &[certificate, document], dir.path()).unwrap_err();
    assert!(err.message.contains("the PDF to sign comes first"), "{err}");
}

#[test]
fn pdf_to_markdown_and_html_answer_the_text_first_then_its_images() {
    let dir = tempfile::tempdir().unwrap();
    let images = [input("pdf-text/pdfjs_images.pdf")];
    let result = run("pdf_to_markdown", &json!({}), &images, dir.path()).unwrap();
    assert_eq!(result.outputs[0].filename, "pdfjs_images.md");
    assert_eq!(result.outputs[0].content_type, "text/markdown; charset=utf-8");
    assert!(result.outputs.len() > 1, "the images follow");
    for image in &result.outputs[1..] {
        assert!(image.content_type.starts_with("image/"), "{}", image.content_type);
        let markdown = std::fs::read_to_string(&result.outputs[0].path).unwrap();
        assert!(markdown.contains(&format!("]({})", image.filename)), "{} referenced", image.filename);
    }
    let report = result.report.unwrap();
    assert_eq!(report["images"].as_u64(), Some(u64::try_from(result.outputs.len() - 1).unwrap()), "{report}");

    let out = tempfile::tempdir().unwrap();
    let result = run("pdf_to_html", &json!({"images": false}), &[input("pdf-text/hyperref.pdf")], out.path()).unwrap();
    assert_eq!(names(&result.outputs), ["hyperref.html"]);
    let html = std::fs::read_to_string(&result.outputs[0].path).unwrap();
    assert!(html.contains("<h2>1 Documentation overview for hyperref</h2>"), "{}", &html[..2000]);

    let err = run("pdf_to_html", &json!({"images": "yes"}), &images, dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    let err = run("pdf_to_markdown", &json!({}), &[input("images/ocrmypdf_linn.png")], dir.path()).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat);
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
