//! PDF to Markdown and HTML: the structure found from the layout, checked by reading the
//! Markdown back with a CommonMark parser (pulldown-cmark) and the HTML's elements, on a
//! document whose layout the test sets, and on corpus documents.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use scanpro_pdf::reflow::{TextFormat, reflow};
use scanpro_testkit::corpus::text_pdf;
use scanpro_testkit::documents::placed_text_pdf;
use std::path::Path;

/// A report: a title, two sections, a hyphenated paragraph, bullets, numbered steps, a table,
/// running heads and page numbers, and a sentence that goes on across the page break.
fn report(path: &Path) {
    let mut items = vec![
        (0, 72.0, 720.0, 24.0, "Annual Report"),
        (0, 72.0, 680.0, 16.0, "Introduction"),
        (0, 72.0, 655.0, 11.0, "This report explains how the figures were gathered and what the docu-"),
        (0, 72.0, 641.0, 11.0, "ments say about the year."),
        (0, 72.0, 615.0, 11.0, "\u{2022} Sales grew in every region"),
        (0, 72.0, 601.0, 11.0, "\u{2022} Costs fell slightly"),
        (0, 72.0, 575.0, 11.0, "1. Collect the data"),
        (0, 72.0, 561.0, 11.0, "2. Check the totals"),
        (0, 72.0, 530.0, 16.0, "Results"),
        (0, 72.0, 505.0, 11.0, "Region"),
        (0, 220.0, 505.0, 11.0, "Sales"),
        (0, 360.0, 505.0, 11.0, "Growth"),
        (0, 72.0, 491.0, 11.0, "North"),
        (0, 220.0, 491.0, 11.0, "120"),
        (0, 360.0, 491.0, 11.0, "5%"),
        (0, 72.0, 477.0, 11.0, "South"),
        (0, 220.0, 477.0, 11.0, "95"),
        (0, 360.0, 477.0, 11.0, "3%"),
        (0, 72.0, 440.0, 11.0, "The outlook for next year depends on"),
        (1, 72.0, 720.0, 11.0, "prices and on the weather in the spring."),
        (1, 72.0, 690.0, 16.0, "Summary"),
        (1, 72.0, 665.0, 11.0, "A good year overall."),
        (2, 72.0, 720.0, 11.0, "Appendix text without a heading."),
    ];
    for page in 0..3 {
        items.push((page, 72.0, 760.0, 9.0, "ACME Corp - Annual Report"));
        items.push((page, 300.0, 40.0, 9.0, ["1", "2", "3"][page]));
    }
    placed_text_pdf(path, 3, &items);
}

struct Read {
    headings: Vec<(u8, String)>,
    paragraphs: Vec<String>,
    list_items: Vec<String>,
    ordered_lists: usize,
    table_cells: Vec<String>,
    images: Vec<String>,
}

fn read_markdown(text: &str) -> Read {
    let mut read = Read {
        headings: vec![],
        paragraphs: vec![],
        list_items: vec![],
        ordered_lists: 0,
        table_cells: vec![],
        images: vec![],
    };
    let mut current = String::new();
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::List(Some(_))) => read.ordered_lists += 1,
            Event::Start(Tag::Image { dest_url, .. }) => read.images.push(dest_url.to_string()),
            Event::Text(t) => current.push_str(&t),
            Event::End(TagEnd::Heading(level)) => read.headings.push((level as u8, std::mem::take(&mut current))),
            Event::End(TagEnd::Paragraph) => read.paragraphs.push(std::mem::take(&mut current)),
            Event::End(TagEnd::Item) => read.list_items.push(std::mem::take(&mut current)),
            Event::End(TagEnd::TableCell) => read.table_cells.push(std::mem::take(&mut current)),
            _ => {}
        }
    }
    read
}

#[test]
fn headings_lists_tables_and_paragraphs_come_out_as_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("report.pdf");
    report(&source);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let done = reflow(&source, &out, "report", TextFormat::Markdown, true).unwrap();
    let markdown = std::fs::read_to_string(&done.text).unwrap();
    let read = read_markdown(&markdown);
    assert_eq!(
        read.headings,
        [(1, "Annual Report".into()), (2, "Introduction".into()), (2, "Results".into()), (2, "Summary".into())],
        "{markdown}"
    );
    assert!(
        read.paragraphs.contains(
            &"This report explains how the figures were gathered and what the documents say about the year.".into()
        ),
        "a hyphenated word joined: {markdown}"
    );
    assert!(
        read.paragraphs
            .contains(&"The outlook for next year depends on prices and on the weather in the spring.".into()),
        "a sentence across the page break: {markdown}"
    );
    assert_eq!(
        read.list_items,
        ["Sales grew in every region", "Costs fell slightly", "Collect the data", "Check the totals"],
        "{markdown}"
    );
    assert_eq!(read.ordered_lists, 1);
    assert_eq!(
        read.table_cells,
        ["Region", "Sales", "Growth", "North", "120", "5%", "South", "95", "3%"],
        "{markdown}"
    );
    assert!(!markdown.contains("ACME Corp"), "running heads left out: {markdown}");
    assert!(read.paragraphs.iter().all(|p| p.trim() != "2"), "page numbers left out: {markdown}");
    assert_eq!((done.report.headings, done.report.tables, done.report.lists), (4, 1, 2));

    let done = reflow(&source, &out, "report", TextFormat::Html, true).unwrap();
    let html = std::fs::read_to_string(&done.text).unwrap();
    for expected in [
        "<h1>Annual Report</h1>",
        "<h2>Results</h2>",
        "<ul>\n<li>Sales grew in every region</li>",
        "<ol>",
        "<th>Region</th>",
        "<td>5%</td>",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
}

#[test]
fn images_are_extracted_beside_the_markdown_and_inside_the_html() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("pdfjs_images.pdf");
    let out = dir.path().join("md");
    std::fs::create_dir(&out).unwrap();
    let done = reflow(&source, &out, "images", TextFormat::Markdown, true).unwrap();
    assert!(!done.images.is_empty(), "{:?}", done.report);
    let read = read_markdown(&std::fs::read_to_string(&done.text).unwrap());
    let names: Vec<String> =
        done.images.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(read.images, names, "each image file is referenced, in order");
    for image in &done.images {
        image::open(image).unwrap_or_else(|e| panic!("{} does not decode: {e}", image.display()));
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), names.len() + 1, "only the text and its images: {leftovers:?}");

    let without = dir.path().join("plain");
    std::fs::create_dir(&without).unwrap();
    let done = reflow(&source, &without, "images", TextFormat::Html, false).unwrap();
    assert!(done.images.is_empty());
    assert!(!std::fs::read_to_string(&done.text).unwrap().contains("<img"));
    let done = reflow(&source, &without, "images", TextFormat::Html, true).unwrap();
    assert!(std::fs::read_to_string(&done.text).unwrap().contains("<img alt=\"\" src=\"data:image/"));
}

#[test]
fn a_real_manual_keeps_its_section_headings() {
    let dir = tempfile::tempdir().unwrap();
    let done = reflow(&text_pdf("hyperref.pdf"), dir.path(), "hyperref", TextFormat::Markdown, false).unwrap();
    let read = read_markdown(&std::fs::read_to_string(&done.text).unwrap());
    let headings: Vec<&str> = read.headings.iter().map(|(_, text)| text.as_str()).collect();
    // Poppler's outline names the sections; each is a heading.
    for section in ["1 Documentation overview for hyperref", "3 File hycheck.tex", "4 Package options and setup"] {
        assert!(headings.contains(&section), "{section} among {headings:?}");
    }
}

#[test]
fn numbered_headings_stay_headings_and_keep_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("numbered.pdf");
    placed_text_pdf(
        &source,
        1,
        &[
            (0, 72.0, 720.0, 18.0, "2. Method"),
            (0, 72.0, 690.0, 11.0, "1234. was a year, not an item."),
            (0, 72.0, 670.0, 11.0, "# not a heading, and a *star* with [brackets]"),
        ],
    );
    let done = reflow(&source, dir.path(), "numbered", TextFormat::Markdown, false).unwrap();
    let markdown = std::fs::read_to_string(&done.text).unwrap();
    let read = read_markdown(&markdown);
    assert_eq!(read.headings, [(1, "2. Method".to_owned())], "{markdown}");
    assert_eq!(read.ordered_lists, 0, "{markdown}");
    assert_eq!(
        read.paragraphs,
        ["1234. was a year, not an item.", "# not a heading, and a *star* with [brackets]"],
        "{markdown}"
    );
}
