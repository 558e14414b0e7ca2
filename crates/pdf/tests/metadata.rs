//! Writing document metadata, read back with poppler's `pdfinfo`.

mod common;

use common::bookmarks;
use scanpro_pdf::MetadataUpdate;
use scanpro_testkit::checkers::{info_field, page_count, page_text, pdfinfo, pdfinfo_field, qpdf_check_clean, run};
use scanpro_testkit::corpus::text_pdf;

/// A date field as the document writes it (`D:20240301143005+01'00'`); empty when absent.
fn raw_date(path: &std::path::Path, field: &str) -> String {
    info_field(&pdfinfo(path, &["-rawdates"]), field).unwrap_or("").to_owned()
}

#[test]
fn written_fields_show_in_pdfinfo_and_others_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lscape.pdf");
    let out = dir.path().join("meta.pdf");
    let update = MetadataUpdate {
        title: Some("Répertoire — 報告書 2024".into()),
        author: Some("Zoë Ångström".into()),
        keywords: Some("maps, landscape".into()),
        creator: Some("ScanPro".into()),
        creation_date: Some("D:20240301143005+01'00'".into()),
        ..Default::default()
    };
    let report = scanpro_pdf::write_metadata(&input, &update, &out).unwrap();
    assert_eq!(report.written, ["Title", "Author", "Keywords", "Creator", "CreationDate"]);
    assert_eq!(report.metadata.title.as_deref(), Some("Répertoire — 報告書 2024"));
    assert_eq!(report.metadata.subject.as_deref(), Some("Landscape Pages (DPC)"), "absent fields are kept");
    qpdf_check_clean(&out);
    assert_eq!(pdfinfo_field(&out, "Title").as_deref(), Some("Répertoire — 報告書 2024"));
    assert_eq!(pdfinfo_field(&out, "Author").as_deref(), Some("Zoë Ångström"));
    assert_eq!(pdfinfo_field(&out, "Keywords").as_deref(), Some("maps, landscape"));
    assert_eq!(pdfinfo_field(&out, "Creator").as_deref(), Some("ScanPro"));
    assert_eq!(pdfinfo_field(&out, "Subject").as_deref(), Some("Landscape Pages (DPC)"));
    assert_eq!(raw_date(&out, "CreationDate"), "D:20240301143005+01'00'");
    assert_eq!(raw_date(&out, "ModDate"), raw_date(&input, "ModDate"));
    assert_eq!(page_count(&out), 3);
    assert_eq!(page_text(&out, 2), page_text(&input, 2));
}

#[test]
fn empty_values_remove_fields() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lscape.pdf");
    let out = dir.path().join("cleared.pdf");
    let update = MetadataUpdate { title: Some(String::new()), mod_date: Some(String::new()), ..Default::default() };
    let report = scanpro_pdf::write_metadata(&input, &update, &out).unwrap();
    assert_eq!(report.metadata.title, None);
    assert_eq!(report.metadata.mod_date, None);
    qpdf_check_clean(&out);
    assert_eq!(pdfinfo_field(&out, "Title").unwrap_or_default(), "");
    assert_eq!(raw_date(&out, "ModDate"), "");
    assert_eq!(pdfinfo_field(&out, "Subject").as_deref(), Some("Landscape Pages (DPC)"));
}

#[test]
fn a_document_without_info_gets_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("ocrmypdf_masks.pdf");
    assert_eq!(pdfinfo_field(&input, "Title").unwrap_or_default(), "");
    let out = dir.path().join("titled.pdf");
    let update = MetadataUpdate { title: Some("Plain title".into()), ..Default::default() };
    scanpro_pdf::write_metadata(&input, &update, &out).unwrap();
    qpdf_check_clean(&out);
    assert_eq!(pdfinfo_field(&out, "Title").as_deref(), Some("Plain title"));
}

#[test]
fn xmp_is_reported_as_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let xmp = |path: &std::path::Path| run("pdfinfo", ["-meta".as_ref(), path.as_os_str()]).stdout;
    let update = MetadataUpdate { author: Some("Someone".into()), ..Default::default() };
    let out = dir.path().join("out.pdf");

    let with_xmp = text_pdf("ocrmypdf_tagged.pdf");
    assert!(!xmp(&with_xmp).is_empty());
    let report = scanpro_pdf::write_metadata(&with_xmp, &update, &out).unwrap();
    assert!(report.xmp_unchanged);
    qpdf_check_clean(&out);
    assert_eq!(xmp(&out), xmp(&with_xmp));
    assert_eq!(pdfinfo_field(&out, "Author").as_deref(), Some("Someone"));

    let without = text_pdf("ghsystem-manual.pdf");
    assert!(xmp(&without).is_empty());
    let report = scanpro_pdf::write_metadata(&without, &update, &out).unwrap();
    assert!(!report.xmp_unchanged);
    qpdf_check_clean(&out);
    assert_eq!(bookmarks(&out), bookmarks(&without), "the rest of the document is kept");
}
