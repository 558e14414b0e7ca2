//! The page, security, metadata and repair tools (and split by size) through `run`, outputs
//! checked with qpdf and poppler.

use scanpro_core::ErrorCode;
use scanpro_testkit::checkers::{
    page_count, page_text, pdfinfo_field, qpdf_check_clean, qpdf_show_encryption, render_png,
};
use scanpro_testkit::corpus::corpus;
use scanpro_tools::{Input, Output, StepResult, find, run, validate};
use serde_json::{Value, json};
use std::path::PathBuf;
mod common;
use common::input;

/// `qpdf --check` exits 0 and poppler counts `pages` pages.
fn assert_valid(output: &Output, pages: u32) {
    assert_eq!(output.content_type, "application/pdf");
    qpdf_check_clean(&output.path);
    assert_eq!(page_count(&output.path), pages, "{}", output.filename);
}

fn lscape_path() -> PathBuf {
    corpus("pdf-text/lscape.pdf")
}

fn one(result: &StepResult) -> &Output {
    assert_eq!(result.outputs.len(), 1, "{:?}", result.outputs);
    &result.outputs[0]
}

fn error(tool_name: &str, params: Value, inputs: &[Input]) -> scanpro_core::ToolError {
    let dir = tempfile::tempdir().unwrap();
    run(tool_name, &params, inputs, dir.path()).unwrap_err()
}

#[test]
fn page_tools_are_listed_with_their_parameters() {
    for (name, field) in [
        ("remove_pages", "pages"),
        ("extract_pages", "pages"),
        ("reorder", "order"),
        ("protect", "owner_password"),
        ("unlock", "password"),
        ("metadata", "title"),
        ("split", "max_size_mb"),
    ] {
        let info = find(name).unwrap_or_else(|| panic!("{name} is not in the catalogue"));
        let described = info.params_schema["properties"][field]["description"].as_str().unwrap_or_default().to_owned();
        assert!(!described.is_empty(), "{name}.{field}: {}", info.params_schema);
    }
    assert!(find("repair").is_some());
    assert_eq!(find("reorder").unwrap().params_schema["required"], json!(["order"]));
    assert_eq!(find("protect").unwrap().params_schema.get("required"), None, "protect needs one password, either");
}

#[test]
fn extract_and_reorder_keep_pages_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let source = input("pdf-text/lroundrect.pdf");
    let result = run("extract_pages", &json!({"pages": "5,1-3"}), std::slice::from_ref(&source), dir.path()).unwrap();
    let out = one(&result);
    assert_eq!(out.filename, "lroundrect_extract.pdf");
    assert_valid(out, 4);
    assert_eq!(result.report.as_ref().unwrap()["outputs"][0]["source_order"], json!([5, 1, 2, 3]));
    for (out_page, in_page) in [(1, 5), (2, 1), (4, 3)] {
        assert_eq!(page_text(&out.path, out_page), page_text(&source.path, in_page));
        assert!(
            render_png(&out.path, out_page, 50) == render_png(&source.path, in_page, 50),
            "page {in_page} renders the same"
        );
    }

    let reordered = tempfile::tempdir().unwrap();
    let result =
        run("reorder", &json!({"order": [3, 1, 2]}), &[input("pdf-text/lscape.pdf")], reordered.path()).unwrap();
    let out = one(&result);
    assert_eq!(out.filename, "lscape_reordered.pdf");
    assert_valid(out, 3);
    let lscape = corpus("pdf-text/lscape.pdf");
    assert_eq!(page_text(&out.path, 1), page_text(&lscape, 3));
    assert!(render_png(&out.path, 2, 50) == render_png(&lscape, 1, 50));

    let text_order = tempfile::tempdir().unwrap();
    let result =
        run("reorder", &json!({"order": "2-last,1"}), &[input("pdf-text/lscape.pdf")], text_order.path()).unwrap();
    assert_eq!(page_text(&one(&result).path, 3), page_text(&lscape, 1));
}

#[test]
fn remove_pages_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let source = input("pdf-text/pdfjs_tracemonkey.pdf");
    let result =
        run("remove_pages", &json!({"pages": "2,4-5,last"}), std::slice::from_ref(&source), dir.path()).unwrap();
    let out = one(&result);
    assert_eq!(out.filename, "pdfjs_tracemonkey_removed.pdf");
    assert_valid(out, 10);
    assert_eq!(page_text(&out.path, 2), page_text(&source.path, 3));
    assert_eq!(page_text(&out.path, 10), page_text(&source.path, 13));
    let report = result.report.unwrap();
    assert_eq!(report["outputs"][0]["input"], "pdfjs_tracemonkey.pdf");
    assert_eq!(report["outputs"][0]["pages"], 10);
}

#[test]
fn page_selections_that_make_no_sense_are_refused() {
    let lscape = [input("pdf-text/lscape.pdf")];
    let err = error("remove_pages", json!({"pages": "1-3"}), &lscape);
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.starts_with("pages: \"1-3\" removes every page (3)"), "{err}");
    let err = error("reorder", json!({"order": "3,1"}), &lscape);
    assert_eq!(err.message, "order: page 2 is missing: the order must name each of the 3 pages exactly once");
    let err = error("reorder", json!({"order": [1, 2, 3, 1]}), &lscape);
    assert_eq!(err.message, "order: page 1 appears more than once");
    let err = error("extract_pages", json!({"pages": "2,9"}), &lscape);
    assert!(err.message.starts_with("pages: \"9\": page 9 is beyond the last page (3)"), "{err}");
    assert!(validate("extract_pages", &json!({}), Some(1)).unwrap_err().message.contains("missing field `pages`"));
    assert!(validate("reorder", &json!({"order": true}), Some(1)).unwrap_err().message.starts_with("order: "));
    let locked = [input("pdf-broken/pypdf_libreoffice-writer-password.pdf")];
    let err = error("extract_pages", json!({"pages": "1"}), &locked);
    assert_eq!(err.code, ErrorCode::EncryptedInput);
    assert!(err.message.contains("unlock"), "{err}");
}

#[test]
fn protect_then_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let params = json!({"user_password": "reader-pw", "owner_password": "owner-pw", "permissions": {"print": false, "copy": false}});
    let result = run("protect", &params, &[input("pdf-text/ltnews17.pdf")], dir.path()).unwrap();
    let protected = one(&result);
    assert_eq!(protected.filename, "ltnews17_protected.pdf");
    let shown = qpdf_show_encryption(&protected.path, Some("reader-pw"));
    for line in [
        "R = 6",
        "file encryption method: AESv3",
        "print high resolution: not allowed",
        "extract for any purpose: not allowed",
        "modify annotations: allowed",
    ] {
        assert!(shown.lines().any(|l| l == line), "no \"{line}\" in:\n{shown}");
    }
    let report = result.report.clone().unwrap();
    assert_eq!(
        report["outputs"][0]["permissions"],
        json!({"print": false, "copy": false, "modify": true, "annotate": true, "fill_forms": true})
    );
    assert!(!report.to_string().contains("reader-pw") && !report.to_string().contains("owner-pw"));

    let locked = Input { path: protected.path.clone(), filename: "locked.pdf".into() };
    let err = error("unlock", json!({"password": "guess"}), std::slice::from_ref(&locked));
    assert_eq!(err.code, ErrorCode::WrongPassword);
    assert!(!err.message.contains("guess"));
    let err = error("rotate", json!({"angle": 90}), std::slice::from_ref(&locked));
    assert_eq!(err.code, ErrorCode::EncryptedInput);
    assert!(err.message.contains("unlock"), "{err}");

    let unlocked_dir = tempfile::tempdir().unwrap();
    let result = run("unlock", &json!({"password": "owner-pw"}), &[locked], unlocked_dir.path()).unwrap();
    let unlocked = one(&result);
    assert_eq!(unlocked.filename, "locked_unlocked.pdf");
    assert_valid(unlocked, 2);
    assert_eq!(pdfinfo_field(&unlocked.path, "Encrypted").as_deref(), Some("no"));
    assert_eq!(result.report.unwrap()["outputs"][0]["was_encrypted"], true);

    let plain_dir = tempfile::tempdir().unwrap();
    let result = run("unlock", &json!({}), &[input("pdf-text/lscape.pdf")], plain_dir.path()).unwrap();
    assert_eq!(result.report.unwrap()["outputs"][0]["was_encrypted"], false);
}

#[test]
fn protect_with_only_a_password_to_open_keeps_its_restrictions() {
    // Restricted: the owner password is one nobody knows, so the password to open lifts nothing.
    let dir = tempfile::tempdir().unwrap();
    let params = json!({"user_password": "reader-only", "permissions": ["print"]});
    let result = run("protect", &params, &[input("pdf-text/ltnews17.pdf")], dir.path()).unwrap();
    let shown = qpdf_show_encryption(&one(&result).path, Some("reader-only"));
    for line in ["Supplied password is user password", "extract for any purpose: not allowed"] {
        assert!(shown.lines().any(|l| l == line), "no \"{line}\" in:\n{shown}");
    }
    // Unrestricted: the password to open is the owner's too.
    let dir = tempfile::tempdir().unwrap();
    let result =
        run("protect", &json!({"user_password": "reader-only"}), &[input("pdf-text/ltnews17.pdf")], dir.path())
            .unwrap();
    let shown = qpdf_show_encryption(&one(&result).path, Some("reader-only"));
    assert!(shown.lines().any(|l| l == "Supplied password is owner password"), "{shown}");
}

#[test]
fn protect_parameters_are_checked_without_echoing_passwords() {
    let m = |params: Value| validate("protect", &params, Some(1)).unwrap_err().message;
    assert_eq!(
        m(json!({"owner_password": "", "user_password": ""})),
        "user_password: give a user_password, an owner_password or both"
    );
    assert_eq!(m(json!({"owner_password": 98765, "user_password": "x"})), "owner_password: must be a string");
    assert_eq!(m(json!({"owner_password": "o", "user_password": ["s3cret"]})), "user_password: must be a string");
    assert!(m(json!({"owner_password": "o", "permissions": ["print", "scan"]})).starts_with("permissions"));
    assert!(m(json!({"owner_password": "o"})).starts_with("user_password: give a user_password or deny"));
    assert_eq!(
        validate("unlock", &json!({"password": 1234}), Some(1)).unwrap_err().message,
        "password: must be a string"
    );
    validate("protect", &json!({"owner_password": "o", "permissions": ["print"]}), Some(1)).unwrap();
}

#[test]
fn metadata_is_written_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let params = json!({"title": "Ĉiuj homoj — 人人生而自由", "author": "Anna", "creation_date": "2024-03-01T14:30:00+01:00", "subject": ""});
    let result = run("metadata", &params, &[input("pdf-text/lscape.pdf")], dir.path()).unwrap();
    let out = one(&result);
    assert_eq!(out.filename, "lscape_metadata.pdf");
    assert_valid(out, 3);
    assert_eq!(pdfinfo_field(&out.path, "Title").as_deref(), Some("Ĉiuj homoj — 人人生而自由"));
    assert_eq!(pdfinfo_field(&out.path, "Author").as_deref(), Some("Anna"));
    assert_eq!(pdfinfo_field(&out.path, "CreationDate").as_deref(), Some("2024-03-01T14:30:00+01"));
    assert_eq!(pdfinfo_field(&lscape_path(), "Subject").as_deref(), Some("Landscape Pages (DPC)"));
    assert_eq!(pdfinfo_field(&out.path, "Subject"), None, "an empty value removes the field");
    let report = result.report.unwrap();
    assert_eq!(report["outputs"][0]["metadata"]["title"], "Ĉiuj homoj — 人人生而自由");
    assert_eq!(report["outputs"][0]["metadata"]["creation_date"], "D:20240301143000+01'00'");

    let err = error("metadata", json!({"mod_date": "31/12/2024"}), &[input("pdf-text/lscape.pdf")]);
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.starts_with("mod_date: \"31/12/2024\""), "{err}");
}

#[test]
fn repair_reports_method_and_damage() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = [input("pdf-broken/qpdf_dangling-bad-xref.pdf"), input("pdf-broken/pdfjs_issue9418.pdf")];
    let result = run("repair", &json!({}), &inputs, dir.path()).unwrap();
    assert_eq!(result.outputs.len(), 2);
    for output in &result.outputs {
        assert_valid(output, 1);
    }
    let report = result.report.unwrap();
    assert_eq!(report["outputs"][0]["method"], "lopdf");
    assert!(report["outputs"][0]["problems"].to_string().contains("missing objects"), "{report}");
    assert_eq!(report["outputs"][1]["method"], "ghostscript");
    assert!(!page_text(&result.outputs[1].path, 1).trim().is_empty());

    let err = error("repair", json!({}), &[input("pdf-broken/ocrmypdf_invalid.pdf")]);
    assert_eq!(err.code, ErrorCode::InvalidPdf);
    assert!(err.message.contains("Ghostscript") && !err.message.contains("/work/"), "{err}");
}

#[test]
fn split_by_size_reports_its_parts() {
    let dir = tempfile::tempdir().unwrap();
    let params = json!({"mode": "size", "max_size_mb": 0.5});
    let result = run("split", &params, &[input("pdf-text/pdfjs_tracemonkey.pdf")], dir.path()).unwrap();
    let report = result.report.unwrap();
    let parts = report["parts"].as_array().unwrap();
    assert_eq!(parts.len(), result.outputs.len());
    assert!(parts.len() >= 2, "{report}");
    let mut next = 1;
    for (part, output) in parts.iter().zip(&result.outputs) {
        assert_eq!(part["file"], output.filename.as_str());
        assert_eq!(part["first_page"], next);
        next = part["last_page"].as_u64().unwrap() + 1;
        let bytes = std::fs::metadata(&output.path).unwrap().len();
        let single = part["first_page"] == part["last_page"];
        assert_eq!(part["over_limit"], bytes > 512 * 1024, "{part}");
        assert!(bytes <= 512 * 1024 || single, "only a single page may be over the limit: {part}");
        assert_valid(
            output,
            u32::try_from(part["last_page"].as_u64().unwrap() + 1 - part["first_page"].as_u64().unwrap()).unwrap(),
        );
    }
    assert_eq!(next, 15);

    let tiny = tempfile::tempdir().unwrap();
    let result =
        run("split", &json!({"mode": "size", "max_size_mb": 0.001}), &[input("pdf-text/ltnews17.pdf")], tiny.path())
            .unwrap();
    let notes = result.report.unwrap()["notes"].to_string();
    assert!(notes.contains("page 1 alone is") && notes.contains("page 2 alone is"), "{notes}");

    let m = |params: Value| validate("split", &params, Some(1)).unwrap_err().message;
    assert!(m(json!({"mode": "size"})).starts_with("max_size_mb: required"));
    assert!(m(json!({"mode": "size", "max_size_mb": 0})).starts_with("max_size_mb: must be a number above 0"));
    assert!(m(json!({"mode": "each", "max_size_mb": 2})).starts_with("max_size_mb: only applies"));
}
