//! Imposition (n-up, booklets, paper sizes) read back with poppler: where each source page
//! landed is found by `pdftotext` of a region of the sheet, sheet sizes by `pdfinfo`.

use scanpro_pdf::impose::{A4, Binding, NUp, Order, Orientation, SheetSize, booklet, n_up, scale_pages};
use scanpro_testkit::checkers::{page_count, page_sizes, page_text, qpdf_check_clean, stdout};
use scanpro_testkit::corpus::text_pdf;
use std::path::Path;

/// A line that identifies `page` of `source`: its first line of ten characters or more.
fn first_line(source: &Path, page: u32) -> String {
    page_text(source, page).lines().map(str::trim).find(|l| l.chars().count() >= 10).unwrap().to_owned()
}

/// The text inside a region of `page`, in points from the top left.
fn region_text(path: &Path, page: u32, [x, y, w, h]: [f64; 4]) -> String {
    let n = page.to_string();
    let [x, y, w, h] = [x, y, w, h].map(|v| format!("{:.0}", v));
    stdout("pdftotext", ["-f", &n, "-l", &n, "-x", &x, "-y", &y, "-W", &w, "-H", &h, path.to_str().unwrap(), "-"])
}

/// `[width, height]` of `page` as pdfinfo reads it.
fn size(path: &Path, page: usize) -> [f64; 2] {
    let sizes = page_sizes(path);
    let mut numbers = sizes[page - 1].split_whitespace().filter_map(|n| n.parse::<f64>().ok());
    [numbers.next().unwrap(), numbers.next().unwrap()]
}

fn layout(pages_per_sheet: u32, order: Order) -> NUp {
    NUp {
        pages_per_sheet,
        sheet: SheetSize::Source,
        orientation: Orientation::Auto,
        order,
        borders: false,
        margin: 0.0,
    }
}

#[test]
fn four_up_fills_rows_then_columns_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("lroundrect.pdf");
    let across = dir.path().join("across.pdf");
    let report = n_up(&source, &layout(4, Order::Across), &across).unwrap();
    assert_eq!((report.pages, report.sheets), (10, 3));
    qpdf_check_clean(&across);
    assert_eq!(page_count(&across), 3);
    let [w, h] = size(&across, 1);
    assert_eq!([w.round(), h.round()], [612.0, 792.0], "a sheet the size of the pages");
    let quadrant = |column: f64, row: f64| [column * w / 2.0, row * h / 2.0, w / 2.0, h / 2.0];
    let expect = |path: &Path, sheet: u32, cell: [f64; 4], page: u32| {
        let found = region_text(path, sheet, cell);
        let line = first_line(&source, page);
        assert!(found.contains(&line), "sheet {sheet} {cell:?}: page {page}'s {line:?} not in {found:?}");
    };
    expect(&across, 1, quadrant(0.0, 0.0), 1);
    expect(&across, 1, quadrant(1.0, 0.0), 2);
    expect(&across, 1, quadrant(0.0, 1.0), 3);
    expect(&across, 1, quadrant(1.0, 1.0), 4);
    expect(&across, 3, quadrant(1.0, 0.0), 10);
    assert!(region_text(&across, 3, quadrant(0.0, 1.0)).trim().is_empty(), "the last sheet's empty cells stay blank");

    let down = dir.path().join("down.pdf");
    n_up(&source, &NUp { borders: true, margin: 18.0, ..layout(4, Order::Down) }, &down).unwrap();
    qpdf_check_clean(&down);
    expect(&down, 1, quadrant(0.0, 1.0), 2);
    expect(&down, 1, quadrant(1.0, 0.0), 3);
}

#[test]
fn two_up_turns_the_sheet_and_paper_sizes_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("lroundrect.pdf");
    let out = dir.path().join("two.pdf");
    n_up(&source, &NUp { sheet: SheetSize::Paper(A4.0, A4.1), ..layout(2, Order::Across) }, &out).unwrap();
    qpdf_check_clean(&out);
    assert_eq!(page_count(&out), 5);
    let [w, h] = size(&out, 1);
    assert_eq!([w.round(), h.round()], [842.0, 595.0], "two portrait pages side by side on landscape A4");
    assert!(region_text(&out, 1, [w / 2.0, 0.0, w / 2.0, h]).contains(&first_line(&source, 2)));

    let nine = dir.path().join("nine.pdf");
    let report = n_up(&source, &layout(9, Order::Across), &nine).unwrap();
    assert_eq!(report.sheets, 2);
    assert_eq!(page_count(&nine), 2);
}

#[test]
fn turned_pages_are_placed_upright() {
    let dir = tempfile::tempdir().unwrap();
    let turned = dir.path().join("turned.pdf");
    scanpro_pdf::rotate(&text_pdf("lroundrect.pdf"), 90, &[], &turned).unwrap();
    let out = dir.path().join("four.pdf");
    n_up(&turned, &layout(4, Order::Across), &out).unwrap();
    qpdf_check_clean(&out);
    let [w, h] = size(&out, 1);
    assert!(w > h, "four landscape (turned) pages on a landscape sheet: {w} × {h}");
    // pdftotext reads text in its reading direction: upright text gives whole lines back.
    let found = region_text(&out, 1, [0.0, 0.0, w / 2.0, h / 2.0]);
    assert!(found.contains(&first_line(&turned, 1)), "{found}");
    let words = stdout("pdftotext", ["-f", "1", "-l", "1", "-bbox", out.to_str().unwrap(), "-"]);
    let upright = words.lines().filter(|l| l.contains("<word")).filter(|l| {
        let number = |key: &str| {
            l.split(&format!("{key}=\"")).nth(1).unwrap().split('"').next().unwrap().parse::<f64>().unwrap()
        };
        number("xMax") - number("xMin") > number("yMax") - number("yMin")
    });
    assert!(upright.count() > 20, "words run left to right, not up the page");
}

#[test]
fn booklets_pair_pages_for_folding_and_fill_up_to_four() {
    let dir = tempfile::tempdir().unwrap();
    let source = text_pdf("lroundrect.pdf");
    let out = dir.path().join("booklet.pdf");
    let report = booklet(&source, SheetSize::Source, Binding::Left, false, &out).unwrap();
    assert_eq!((report.pages, report.blank_pages_added, report.sheets), (10, 2, 6));
    qpdf_check_clean(&out);
    let [w, h] = size(&out, 1);
    assert_eq!([w.round(), h.round()], [1224.0, 792.0]);
    let half = |side: f64| [side * w / 2.0, 0.0, w / 2.0, h];
    let holds = |sheet: u32, side: f64, page: Option<u32>| {
        let found = region_text(&out, sheet, half(side));
        match page {
            Some(page) => assert!(
                found.contains(&first_line(&source, page)),
                "side {sheet}/{side}: page {page} missing in {found:?}"
            ),
            None => assert!(found.trim().is_empty(), "side {sheet}/{side} should be blank: {found:?}"),
        }
    };
    // 12 pages: 12|1, 2|11, 10|3, 4|9, 8|5, 6|7 (pages 11 and 12 blank).
    holds(1, 0.0, None);
    holds(1, 1.0, Some(1));
    holds(2, 0.0, Some(2));
    holds(2, 1.0, None);
    holds(3, 0.0, Some(10));
    holds(3, 1.0, Some(3));
    holds(6, 0.0, Some(6));
    holds(6, 1.0, Some(7));

    let right = dir.path().join("right.pdf");
    booklet(&source, SheetSize::Paper(A4.0, A4.1), Binding::Right, true, &right).unwrap();
    let [w, h] = size(&right, 1);
    assert_eq!([w.round(), h.round()], [842.0, 595.0]);
    assert!(
        region_text(&right, 1, [0.0, 0.0, w / 2.0, h]).contains(&first_line(&source, 1)),
        "right-bound: page 1 on the left"
    );
}

#[test]
fn pages_scaled_to_a_paper_size_keep_their_orientation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a4.pdf");
    let source = text_pdf("lroundrect.pdf");
    let report = scale_pages(&source, A4, &out).unwrap();
    assert_eq!(report.sheets, 10);
    qpdf_check_clean(&out);
    assert_eq!(size(&out, 1).map(f64::round), [595.0, 842.0]);
    assert!(page_text(&out, 3).contains(&first_line(&source, 3)));

    let wide = dir.path().join("wide.pdf");
    scanpro_pdf::rotate(&source, 90, &[1], &wide).unwrap();
    let letter = dir.path().join("letter.pdf");
    scale_pages(&wide, (612.0, 792.0), &letter).unwrap();
    assert_eq!(size(&letter, 1).map(f64::round), [792.0, 612.0], "the turned page stays landscape");
    assert_eq!(size(&letter, 2).map(f64::round), [612.0, 792.0]);
}

#[test]
fn margins_that_leave_no_room_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = n_up(
        &text_pdf("lroundrect.pdf"),
        &NUp { margin: 400.0, ..layout(16, Order::Across) },
        &dir.path().join("x.pdf"),
    )
    .unwrap_err();
    assert!(error.message.starts_with("margin: "), "{}", error.message);
}
