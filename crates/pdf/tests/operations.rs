//! merge, split, rotate, info and open on real corpus files, each output checked independently
//! with qpdf and poppler.

mod common;

use common::outline;
use scanpro_core::ErrorCode;
use scanpro_pdf::lopdf::{Dictionary, Document, Object, Stream, dictionary};
use scanpro_testkit::checkers::{page_count, page_sizes, page_text, pdfinfo_field, qpdf_check, qpdf_json, rotations};
use scanpro_testkit::corpus::{corpus, text_pdf};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn same_text(a: (&Path, u32), b: (&Path, u32)) {
    let (left, right) = (page_text(a.0, a.1), page_text(b.0, b.1));
    assert!(!left.trim().is_empty(), "page {} of {} has no text to compare", a.1, a.0.display());
    assert_eq!(left, right, "text of page {} of {} differs from page {} of {}", a.1, a.0.display(), b.1, b.0.display());
}

/// The same words, in any order: extraction order follows the page's rotation.
fn same_words(a: (&Path, u32), b: (&Path, u32)) {
    let words = |(path, page): (&Path, u32)| {
        let mut words: Vec<String> = page_text(path, page).split_whitespace().map(str::to_owned).collect();
        words.sort();
        words
    };
    let left = words(a);
    assert!(!left.is_empty(), "page {} of {} has no text to compare", a.1, a.0.display());
    assert_eq!(
        left,
        words(b),
        "words of page {} of {} differ from page {} of {}",
        a.1,
        a.0.display(),
        b.1,
        b.0.display()
    );
}

#[test]
fn open_classifies_what_is_not_a_readable_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let png = corpus("images/ocrmypdf_baiona.png");
    let err = scanpro_pdf::open(&png).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat);
    assert!(err.message.contains("PNG image"), "{err}");

    let header_only = dir.path().join("header.pdf");
    std::fs::write(&header_only, b"%PDF-1.4\n%%EOF\n").unwrap();
    assert_eq!(scanpro_pdf::open(&header_only).unwrap_err().code, ErrorCode::InvalidPdf);

    let truncated = dir.path().join("truncated.pdf");
    let bytes = std::fs::read(text_pdf("ltnews17.pdf")).unwrap();
    std::fs::write(&truncated, &bytes[..600]).unwrap();
    assert_eq!(scanpro_pdf::open(&truncated).unwrap_err().code, ErrorCode::InvalidPdf);

    for locked in ["pdfjs_saslprep-r6.pdf", "pypdf_libreoffice-writer-password.pdf"] {
        let err = scanpro_pdf::open(&corpus(format!("pdf-broken/{locked}"))).unwrap_err();
        assert_eq!(err.code, ErrorCode::EncryptedInput, "{locked}: {err}");
        assert!(err.message.contains("password"), "{err}");
    }
}

#[test]
fn empty_user_password_opens_and_outputs_are_clean() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("pdfjs_issue17069.pdf");
    let info = scanpro_pdf::info(&input).unwrap();
    assert!(info.encrypted);
    assert_eq!(info.pages, page_count(&input));
    let out = dir.path().join("rotated.pdf");
    scanpro_pdf::rotate(&input, 90, &[], &out).unwrap();
    assert_eq!(qpdf_check(&out), 0, "a decrypted, renumbered file checks clean");
    assert_eq!(rotations(&out), [90]);
    let parts = scanpro_pdf::split(&input, vec![vec![1]], dir.path(), "part").unwrap();
    assert_eq!(qpdf_check(&parts[0]), 0);
    same_text((&input, 1), (&parts[0], 1));
}

#[test]
fn merge_concatenates_in_order_and_keeps_bookmarks() {
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<PathBuf> = ["lroundrect.pdf", "ltnews17.pdf", "lscape.pdf"].iter().map(|n| text_pdf(n)).collect();
    let out = dir.path().join("merged.pdf");
    let report = scanpro_pdf::merge(&inputs, &[1, 0, 2], &out).unwrap();
    assert_eq!(report.pages, 15);
    assert_eq!(report.input_pages, [2, 10, 3]);
    assert!(report.bookmarks);
    assert_eq!(qpdf_check(&out), 0);
    assert_eq!(page_count(&out), 15);
    same_text((&out, 1), (&inputs[1], 1));
    same_text((&out, 3), (&inputs[0], 1));
    same_text((&out, 12), (&inputs[0], 10));
    same_text((&out, 15), (&inputs[2], 3));

    let outline = outline(&out);
    let tops: Vec<(&str, Option<u64>)> = outline.iter().map(|(t, p, _)| (t.as_str(), *p)).collect();
    assert_eq!(tops, [("ltnews17", Some(1)), ("lroundrect", Some(3)), ("lscape", Some(13))]);
    assert_eq!(outline[0].2, 7, "ltnews17's seven bookmarks sit under its entry");
}

#[test]
fn merged_bookmarks_and_links_point_at_the_right_pages() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = vec![text_pdf("lscape.pdf"), text_pdf("ltnews17.pdf")];
    let out = dir.path().join("merged.pdf");
    scanpro_pdf::merge(&inputs, &[0, 1], &out).unwrap();
    // ltnews17's named destinations are now explicit: every child bookmark lands on page 4 or 5.
    let json = qpdf_json(&out, &["outlines"]);
    let kids = json["outlines"][1]["kids"].as_array().unwrap();
    assert_eq!(kids.len(), 7);
    for kid in kids {
        let page = kid["destpageposfrom1"].as_u64().unwrap_or_else(|| panic!("bookmark without a page: {kid}"));
        assert!((4..=5).contains(&page), "{kid}");
    }
}

#[test]
fn merge_of_twenty_copies_keeps_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = vec![text_pdf("pdfjs_tracemonkey.pdf"); 20];
    let order: Vec<usize> = (0..20).collect();
    let out = dir.path().join("merged.pdf");
    let started = Instant::now();
    let report = scanpro_pdf::merge(&inputs, &order, &out).unwrap();
    eprintln!("merge of 20 × 14-page tracemonkey: {:.2?}", started.elapsed());
    assert_eq!(report.pages, 280);
    assert_eq!(qpdf_check(&out), 0);
    assert_eq!(page_count(&out), 280);
    same_text((&out, 14 * 19 + 5), (&inputs[0], 5));
}

#[test]
fn split_by_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lroundrect.pdf");
    let groups = vec![vec![1, 2, 3], vec![5], vec![8, 9, 10]];
    let outputs = scanpro_pdf::split(&input, groups.clone(), dir.path(), "lroundrect").unwrap();
    let names: Vec<_> = outputs.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["lroundrect_01-03.pdf", "lroundrect_05.pdf", "lroundrect_08-10.pdf"]);
    for (output, group) in outputs.iter().zip(&groups) {
        assert_eq!(qpdf_check(output), 0);
        assert_eq!(page_count(output), u32::try_from(group.len()).unwrap());
        for (index, &page) in group.iter().enumerate() {
            same_text((output, u32::try_from(index).unwrap() + 1), (&input, page));
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).collect();
    assert_eq!(leftovers.len(), 3, "no temp files left behind");
}

#[test]
fn split_pgfmanual_into_single_pages() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("pgfmanual.pdf");
    let groups: Vec<Vec<u32>> = (1..=1321).map(|p| vec![p]).collect();
    let started = Instant::now();
    let outputs = scanpro_pdf::split(&input, groups, dir.path(), "pgfmanual").unwrap();
    let elapsed = started.elapsed();
    let total: u64 = outputs.iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    eprintln!("split of pgfmanual into 1321 pages: {elapsed:.2?}, {} MB written", total / 1_000_000);
    assert_eq!(outputs.len(), 1321);
    assert!(outputs[0].ends_with("pgfmanual_0001.pdf") && outputs[1320].ends_with("pgfmanual_1321.pdf"));
    for page in [1u32, 2, 100, 500, 777, 1000, 1321] {
        let output = &outputs[page as usize - 1];
        assert_eq!(qpdf_check(output), 0, "page {page}");
        assert_eq!(page_count(output), 1);
        same_text((output, 1), (&input, page));
    }
}

#[test]
fn rotate_adds_to_the_existing_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lscape.pdf");
    let once = dir.path().join("once.pdf");
    let report = scanpro_pdf::rotate(&input, 90, &[1, 3], &once).unwrap();
    assert_eq!(report.rotated, [1, 3]);
    assert_eq!(qpdf_check(&once), 0);
    assert_eq!(rotations(&once), [90, 0, 90]);
    let twice = dir.path().join("twice.pdf");
    scanpro_pdf::rotate(&once, -180, &[], &twice).unwrap();
    assert_eq!(rotations(&twice), [270, 180, 270]);
    assert_eq!(pdfinfo_field(&twice, "Title").as_deref(), Some("The lscape package"), "everything else is kept");
    same_words((&twice, 2), (&input, 2));

    let err = scanpro_pdf::rotate(&input, 90, &[4], &twice).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.contains("page 4"), "{err}");
}

#[test]
fn info_reports_pages_metadata_and_sizes() {
    let input = text_pdf("lscape.pdf");
    let info = scanpro_pdf::info(&input).unwrap();
    assert_eq!(info.pages, 3);
    assert_eq!(info.pdf_version, "1.5");
    assert!(!info.encrypted);
    assert_eq!(info.file_size, std::fs::metadata(&input).unwrap().len());
    assert_eq!(info.metadata.title.as_deref(), Some("The lscape package"));
    assert_eq!(info.metadata.subject.as_deref(), Some("Landscape Pages (DPC)"));
    assert!(info.metadata.creation_date.as_deref().unwrap().starts_with("D:"));
    let poppler = page_sizes(&input);
    for (page, size) in info.page_sizes.iter().zip(&poppler) {
        assert!(size.starts_with(&format!("{} x {}", page.width, page.height)), "{size} vs {page:?}");
    }

    let big = scanpro_pdf::info(&text_pdf("pgfmanual.pdf")).unwrap();
    assert_eq!(big.pages, 1321);
    assert_eq!(big.page_sizes.len(), 1321);
    let json = serde_json::to_value(&big).unwrap();
    assert_eq!(json["pages"], 1321);
    assert_eq!(json["page_sizes"][0]["rotation"], 0);
}

/// A document whose pages inherit everything from their `/Pages` parent.
fn inheriting_document(path: &Path) {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let mut kids = Vec::new();
    for n in 1..=2 {
        let text = format!("BT /F1 24 Tf 50 100 Td (Inherited page {n}) Tj ET");
        let content = doc.add_object(Stream::new(Dictionary::new(), text.into_bytes()));
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        })));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => 2,
            "MediaBox" => vec![0.into(), 0.into(), 300.into(), 200.into()],
            "Rotate" => 90,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.save(path).unwrap();
}

#[test]
fn inherited_attributes_survive_split_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("inherit.pdf");
    inheriting_document(&input);
    assert_eq!(rotations(&input), [90, 90]);

    let parts = scanpro_pdf::split(&input, vec![vec![2]], dir.path(), "part").unwrap();
    assert_eq!(qpdf_check(&parts[0]), 0);
    assert_eq!(rotations(&parts[0]), [90]);
    assert!(page_sizes(&parts[0])[0].starts_with("300 x 200"));
    assert!(page_text(&parts[0], 1).contains("Inherited page 2"), "fonts inherited through /Resources");

    let merged = dir.path().join("merged.pdf");
    scanpro_pdf::merge(&[input.clone(), text_pdf("ltnews17.pdf")], &[1, 0], &merged).unwrap();
    assert_eq!(qpdf_check(&merged), 0);
    assert_eq!(rotations(&merged), [0, 0, 90, 90]);
    assert!(page_text(&merged, 4).contains("Inherited page 2"));

    let rotated = dir.path().join("rotated.pdf");
    scanpro_pdf::rotate(&input, 90, &[1], &rotated).unwrap();
    assert_eq!(rotations(&rotated), [180, 90]);
}
