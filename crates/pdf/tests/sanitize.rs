//! Sanitising, checked with poppler (`pdfinfo -js`, `pdfinfo -meta`, `pdfdetach`) and by
//! searching the whole file, decompressed by qpdf, for what was removed.

use scanpro_pdf::attachments::{Attachment, attach};
use scanpro_pdf::sanitize::{Sanitize, sanitize};
use scanpro_testkit::checkers::{pdfinfo, qpdf_check_clean, stdout};
use scanpro_testkit::corpus::text_pdf;
use std::path::Path;

const DEFAULTS: Sanitize =
    Sanitize { scripts: true, embedded_files: true, links: false, xmp_metadata: false, document_metadata: false };

/// The file with every stream decompressed and no object streams, as text.
fn whole_file(path: &Path) -> String {
    stdout("qpdf", ["--qdf", "--object-streams=disable", path.to_str().unwrap(), "-"])
}

/// The scripts `pdfinfo -js` prints after the document's information.
fn scripts(path: &Path) -> String {
    let with_scripts = pdfinfo(path, &["-js"]);
    let plain = pdfinfo(path, &[]);
    with_scripts.replacen(&plain, "", 1).trim().to_owned()
}

#[test]
fn scripts_and_their_triggers_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["tikz-among-us.pdf", "pdfjs_issue15096.pdf", "VisualPSTricks.pdf"] {
        let source = text_pdf(name);
        assert!(!scripts(&source).is_empty(), "{name} holds scripts to begin with");
        let out = dir.path().join(name);
        let report = sanitize(&source, DEFAULTS, &out).unwrap();
        assert!(report.found.scripts > 0, "{name}: {report:?}");
        assert_eq!(report.removed, ["scripts", "embedded_files"]);
        qpdf_check_clean(&out);
        assert_eq!(scripts(&out), "", "{name}: poppler finds no script");
        let raw = whole_file(&out);
        for left in ["/JavaScript", "/AA "] {
            let at = raw.find(left).map(|i| &raw[i.saturating_sub(300)..(i + 100).min(raw.len())]);
            assert!(at.is_none(), "{name}: {left} left in the file: {at:?}");
        }
        assert_eq!(
            pdfinfo(&out, &[]).lines().find(|l| l.starts_with("Pages:")),
            pdfinfo(&source, &[]).lines().find(|l| l.starts_with("Pages:"))
        );
    }
}

#[test]
fn links_out_go_and_links_inside_stay() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("hyperref.pdf");
    assert!(whole_file(&source).contains("/URI"));
    let kept = dir.path().join("kept.pdf");
    let report = sanitize(&source, DEFAULTS, &kept).unwrap();
    assert!(report.found.links > 0, "{report:?}");
    assert!(whole_file(&kept).contains("/URI"), "links are kept unless asked");

    let out = dir.path().join("no-links.pdf");
    sanitize(&source, Sanitize { links: true, ..DEFAULTS }, &out).unwrap();
    qpdf_check_clean(&out);
    let raw = whole_file(&out);
    assert!(!raw.contains("/URI"), "no web address left");
    let internal = |raw: &str| raw.matches("/Subtype /Link").count();
    assert!(internal(&raw) > 0 && internal(&raw) < internal(&whole_file(&source)), "links inside the document stay");
}

#[test]
fn embedded_files_and_metadata_are_removed_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("payload.xml");
    std::fs::write(&payload, "<secret>ledger</secret>").unwrap();
    let attached = dir.path().join("attached.pdf");
    let file = Attachment { name: "payload.xml".into(), path: &payload, mime_type: None, relationship: None };
    attach(&text_pdf("lscape.pdf"), &[file], &attached).unwrap();
    assert!(stdout("pdfdetach", ["-list", attached.to_str().unwrap()]).starts_with("1 embedded files"));

    let out = dir.path().join("clean.pdf");
    let everything = Sanitize { links: true, xmp_metadata: true, document_metadata: true, ..DEFAULTS };
    let report = sanitize(&attached, everything, &out).unwrap();
    assert_eq!(report.found.embedded_files, 1);
    assert!(report.found.document_metadata);
    qpdf_check_clean(&out);
    assert!(stdout("pdfdetach", ["-list", out.to_str().unwrap()]).starts_with("0 embedded files"));
    let raw = whole_file(&out);
    assert!(!raw.contains("ledger") && !raw.contains("/EmbeddedFile"), "the file's bytes are gone too");
    let info = pdfinfo(&out, &[]);
    assert!(!info.contains("Title:") && !info.contains("Author:") && !info.contains("Subject:"), "{info}");
    assert!(pdfinfo(&out, &["-meta"]).trim().is_empty() && info.contains("Metadata Stream: no"), "no XMP stream");

    let untouched = dir.path().join("untouched.pdf");
    sanitize(&attached, Sanitize { embedded_files: false, ..DEFAULTS }, &untouched).unwrap();
    assert!(stdout("pdfdetach", ["-list", untouched.to_str().unwrap()]).starts_with("1 embedded files"));
    assert!(pdfinfo(&untouched, &[]).contains("Subject:"), "metadata is kept unless asked");
}
