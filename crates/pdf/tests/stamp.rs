//! Stamping (watermarks, page numbers, signatures' machinery) on corpus files, each output
//! checked independently: qpdf for structure, pdftotext for the text, pdffonts for the embedded
//! subset font, pdfimages for images, pdftoppm renders for where marks land.

use scanpro_core::ErrorCode;
use scanpro_core::params::{Layer, Position, StampFont};
use scanpro_pdf::lopdf::{Document, Object, Stream, dictionary};
use scanpro_pdf::{Anchor, Mark, MarkContent, MarkSize, Placement, StampPlan, TextMark};
use scanpro_testkit::checkers::{page_text, qpdf_check, rotations, stdout};
use scanpro_testkit::corpus::{corpus, text_pdf};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

const RED: [u8; 3] = [255, 0, 0];

fn text(text: &str, font_size: f32, color: [u8; 3]) -> MarkContent {
    MarkContent::Text(TextMark { text: text.into(), font: StampFont::Sans, font_size, color })
}

fn at(position: Position) -> Placement {
    Placement {
        anchor: Anchor::Position { position, margin: 36.0 },
        size: MarkSize::Natural,
        rotation: 0.0,
        opacity: 1.0,
        tile: None,
        layer: Layer::Over,
    }
}

/// One content on each of `pages`, placed the same way.
fn plan(content: MarkContent, placement: Placement, pages: &[u32]) -> StampPlan {
    let mark = Mark { content: 0, placement };
    StampPlan { contents: vec![content], pages: pages.iter().map(|&p| (p, vec![mark])).collect() }
}

fn stamp(input: &Path, plan: StampPlan, out: &Path) -> scanpro_pdf::StampReport {
    let report = scanpro_pdf::stamp(input, |_| Ok(plan), out).unwrap();
    assert_eq!(qpdf_check(out), 0, "qpdf --check must be clean");
    report
}

/// The words of one page, as a sorted list.
fn words(path: &Path, page: u32) -> Vec<String> {
    let mut words: Vec<String> = page_text(path, page).split_whitespace().map(str::to_owned).collect();
    words.sort();
    words
}

/// The words `after` has on `page` that `before` does not (a multiset difference).
fn added_words(before: &Path, after: &Path, page: u32) -> Vec<String> {
    let mut remaining = words(before, page);
    let mut added = Vec::new();
    for word in words(after, page) {
        match remaining.iter().position(|w| *w == word) {
            Some(i) => drop(remaining.remove(i)),
            None => added.push(word),
        }
    }
    assert!(remaining.is_empty(), "page {page} lost words: {remaining:?}");
    added
}

fn sorted(words: &[&str]) -> Vec<String> {
    let mut words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    words.sort();
    words
}

/// A page rendered by poppler: width, height, RGB bytes.
struct Render {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

/// The page's media box rendered (what `pdftoppm` shows by default).
fn render(path: &Path, page: u32, dpi: u32) -> Render {
    render_with(path, page, dpi, &[])
}

fn render_with(path: &Path, page: u32, dpi: u32, extra: &[&str]) -> Render {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let (page, dpi) = (page.to_string(), dpi.to_string());
    let mut args = vec!["-r", &dpi, "-f", &page, "-l", &page, "-singlefile"];
    args.extend(extra);
    args.extend([path.to_str().unwrap(), prefix.to_str().unwrap()]);
    stdout("pdftoppm", &args);
    parse_ppm(&std::fs::read(prefix.with_extension("ppm")).unwrap())
}

fn parse_ppm(bytes: &[u8]) -> Render {
    // "P6\n<width> <height>\n255\n" then the pixels.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let (width, height) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    Render { width, height, rgb: bytes[at + 1..].to_vec() }
}

/// The bounding box (left, top, right, bottom, in pixels from the top left) of strongly red
/// pixels, and how many there are.
fn red_box(render: &Render) -> Option<(usize, usize, usize, usize, usize)> {
    let mut found: Option<(usize, usize, usize, usize, usize)> = None;
    for (i, px) in render.rgb.chunks(3).enumerate() {
        if px[0] > 200 && px[1] < 90 && px[2] < 90 {
            let (x, y) = (i % render.width, i / render.width);
            found = Some(match found {
                None => (x, y, x, y, 1),
                Some((l, t, r, b, n)) => (l.min(x), t.min(y), r.max(x), b.max(y), n + 1),
            });
        }
    }
    found
}

fn temp_out(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn latin_and_cyrillic_text_lands_on_selected_pages_only() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lroundrect.pdf");
    let out = temp_out(&dir, "marked.pdf");
    let mark = text("ЧЕРНОВИК Entwurf αβγ Ñandú", 36.0, [128, 128, 128]);
    let report = stamp(&input, plan(mark, at(Position::Center), &[2, 5]), &out);
    assert_eq!((report.pages, report.stamped), (10, vec![2, 5]));
    for page in [2, 5] {
        assert_eq!(added_words(&input, &out, page), sorted(&["ЧЕРНОВИК", "Entwurf", "αβγ", "Ñandú"]), "page {page}");
    }
    for page in [1, 3, 10] {
        assert!(added_words(&input, &out, page).is_empty(), "page {page} has no mark");
        assert_eq!(render(&input, page, 40).rgb, render(&out, page, 40).rgb, "page {page} renders as before");
    }
    assert_ne!(render(&input, 2, 40).rgb, render(&out, 2, 40).rgb, "page 2 shows the mark");

    // One embedded, subset TrueType font with a ToUnicode map, added once for both pages.
    let fonts = stdout("pdffonts", [out.to_str().unwrap()]);
    let dejavu: Vec<&str> = fonts.lines().filter(|l| l.contains("DejaVuSans")).collect();
    assert_eq!(dejavu.len(), 1, "{fonts}");
    let columns: Vec<&str> = dejavu[0].split_whitespace().collect();
    assert_eq!(columns[columns.len() - 5..columns.len() - 2], ["yes", "yes", "yes"], "emb sub uni: {fonts}");
    let growth = std::fs::metadata(&out).unwrap().len() as i64 - std::fs::metadata(&input).unwrap().len() as i64;
    assert!(growth < 40_000, "a subset font and two tiny streams, not the whole font: grew {growth} bytes");
}

#[test]
fn text_missing_from_the_font_is_refused_by_name() {
    let err = scanpro_pdf::stamp::check_glyphs("text", StampFont::Sans, "Draft 草稿").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.starts_with("text: DejaVu Sans has no glyph for '草' (U+8349)"), "{err}");
    scanpro_pdf::stamp::check_glyphs("text", StampFont::Mono, "ЧЕРНОВИК Ἀθῆναι Łódź").unwrap();
}

#[test]
fn positions_follow_the_displayed_page_of_rotated_pages() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lscape.pdf");
    assert!(red_box(&render(&input, 1, 40)).is_none(), "the source has no red to confuse the check");
    // Pages 1, 2, 3 turned by 90, 180 and 270 degrees.
    let turned = temp_out(&dir, "turned.pdf");
    scanpro_pdf::rotate(&input, 90, &[1], &turned).unwrap();
    let turned2 = temp_out(&dir, "turned2.pdf");
    scanpro_pdf::rotate(&turned, 180, &[2], &turned2).unwrap();
    scanpro_pdf::rotate(&turned2, 270, &[3], &turned).unwrap();
    assert_eq!(rotations(&turned), [90, 180, 270]);

    let out = temp_out(&dir, "marked.pdf");
    let placement =
        Placement { anchor: Anchor::Position { position: Position::BottomLeft, margin: 36.0 }, ..at(Position::Center) };
    stamp(&turned, plan(text("UPRIGHT STAMP TEXT", 24.0, RED), placement, &[1, 2, 3]), &out);
    for page in 1..=3 {
        let page_render = render(&out, page, 40);
        let (left, top, right, bottom, _) = red_box(&page_render).expect("red text shows");
        let (w, h) = (page_render.width, page_render.height);
        // Upright: wider than tall, at the bottom left of the page as displayed.
        assert!(right - left > 4 * (bottom - top), "page {page}: text runs across ({left},{top})-({right},{bottom})");
        assert!(
            left < w / 6 && left > 0 && bottom > h * 9 / 10 && bottom < h,
            "page {page}: {left},{bottom} in {w}x{h}"
        );
        // 36 pt margin = 20 px at 40 dpi.
        assert!((left as i64 - 20).abs() <= 4, "page {page}: left edge at {left}px, expected ~20");
    }
}

#[test]
fn crop_box_origin_and_leftover_graphics_state_do_not_move_marks() {
    let dir = tempfile::tempdir().unwrap();
    let input = temp_out(&dir, "odd.pdf");
    // A page whose boxes start far from 0 and whose content leaves a scaled, unbalanced state.
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let content = doc.add_object(Stream::new(dictionary! {}, b"q 0.1 0 0 0.1 0 0 cm 0 0 1 rg".to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![100.into(), 200.into(), 712.into(), 992.into()],
        "CropBox" => vec![150.into(), 250.into(), 662.into(), 942.into()],
        "Resources" => dictionary! {},
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.save(&input).unwrap();

    let out = temp_out(&dir, "marked.pdf");
    let placement =
        Placement { anchor: Anchor::Position { position: Position::TopRight, margin: 72.0 }, ..at(Position::Center) };
    stamp(&input, plan(text("CORNER", 36.0, RED), placement, &[1]), &out);
    let page = render_with(&out, 1, 72, &["-cropbox"]);
    assert_eq!((page.width, page.height), (512, 692), "the crop box is what readers show");
    let (_, top, right, _, _) = red_box(&page).expect("the mark shows");
    // One inch from the top right corner of the crop box, at full size (not scaled by 0.1).
    assert!((right as i64 - (512 - 72)).abs() <= 3 && (top as i64 - 72).abs() <= 10, "right {right}, top {top}");
    assert!(page_text(&out, 1).contains("CORNER"));
}

#[test]
fn rotation_opacity_and_tiling_change_what_shows() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("ltnews17.pdf");
    let mark = || text("SAMPLE", 40.0, RED);

    let upright = temp_out(&dir, "upright.pdf");
    stamp(&input, plan(mark(), at(Position::Center), &[1]), &upright);
    let (l, t, r, b, solid) = red_box(&render(&upright, 1, 40)).unwrap();
    assert!(r - l > 3 * (b - t), "upright text is wide");

    let turned = temp_out(&dir, "turned.pdf");
    stamp(&input, plan(mark(), Placement { rotation: 90.0, ..at(Position::Center) }, &[1]), &turned);
    let (l, t, r, b, _) = red_box(&render(&turned, 1, 40)).unwrap();
    assert!(b - t > 3 * (r - l), "text turned 90 degrees is tall");

    let faint = temp_out(&dir, "faint.pdf");
    stamp(&input, plan(mark(), Placement { opacity: 0.3, ..at(Position::Center) }, &[1]), &faint);
    assert!(red_box(&render(&faint, 1, 40)).is_none(), "30% red over white is pink, never strong red");
    assert_ne!(render(&faint, 1, 40).rgb, render(&input, 1, 40).rgb, "but it shows");

    let tiled = temp_out(&dir, "tiled.pdf");
    // Upright or quarter-turned text only: pdftotext reads diagonal text letter by letter.
    stamp(&input, plan(mark(), Placement { tile: Some(36.0), rotation: 90.0, ..at(Position::Center) }, &[1]), &tiled);
    let copies = page_text(&tiled, 1).matches("SAMPLE").count();
    assert!(copies >= 12, "tiling repeats the mark over the page: {copies} copies");
    let (l, t, r, b, many) = red_box(&render(&tiled, 1, 40)).unwrap();
    let page = render(&tiled, 1, 40);
    let (w, h) = (page.width, page.height);
    assert!(
        l < w / 8 && t < h / 8 && r > w * 7 / 8 && b > h * 7 / 8,
        "tiles spread to every edge: ({l},{t})-({r},{b}) of {w}x{h}"
    );
    assert!(many > 8 * solid, "tiles: {many} red pixels vs {solid} for one copy");
}

#[test]
fn under_layer_hides_beneath_an_opaque_scan_and_over_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("pdf-scanned/ocrmypdf_linn.pdf");
    let mark = || text("BENEATH", 60.0, RED);
    let under = temp_out(&dir, "under.pdf");
    stamp(&input, plan(mark(), Placement { layer: Layer::Under, ..at(Position::Center) }, &[1]), &under);
    assert_eq!(render(&under, 1, 40).rgb, render(&input, 1, 40).rgb, "the scan covers the mark");
    assert!(page_text(&under, 1).contains("BENEATH"), "yet it is there");
    let over = temp_out(&dir, "over.pdf");
    stamp(&input, plan(mark(), at(Position::Center), &[1]), &over);
    assert!(red_box(&render(&over, 1, 40)).is_some(), "over the scan it shows");
}

/// A JPEG made from a corpus page by poppler, so no image library is needed here.
fn jpeg(dir: &Path) -> PathBuf {
    let prefix = dir.join("logo");
    let args = ["-jpeg", "-r", "20", "-f", "1", "-l", "1", "-singlefile"];
    let input = text_pdf("ltnews17.pdf");
    let mut all: Vec<&str> = args.to_vec();
    all.extend([input.to_str().unwrap(), prefix.to_str().unwrap()]);
    stdout("pdftoppm", &all);
    prefix.with_extension("jpg")
}

/// `pdfimages -list` rows per page: page → image count.
fn images_per_page(path: &Path) -> BTreeMap<u32, usize> {
    let list = stdout("pdfimages", ["-list", path.to_str().unwrap()]);
    let mut counts = BTreeMap::new();
    for row in list.lines().skip(2) {
        let page: u32 = row.split_whitespace().next().unwrap().parse().unwrap();
        *counts.entry(page).or_default() += 1;
    }
    counts
}

#[test]
fn png_and_jpeg_images_are_placed_on_selected_pages() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lroundrect.pdf");
    let before = images_per_page(&input);
    let png = std::fs::read(corpus("images/ocrmypdf_baiona.png")).unwrap();
    let jpg = std::fs::read(jpeg(dir.path())).unwrap();
    let placement = Placement { size: MarkSize::PageWidth(0.5), opacity: 0.5, ..at(Position::Center) };
    let mut stamp_plan = StampPlan {
        contents: vec![
            MarkContent::Image { data: png, name: "baiona.png".into() },
            MarkContent::Image { data: jpg, name: "logo.jpg".into() },
        ],
        pages: BTreeMap::new(),
    };
    stamp_plan.pages.insert(1, vec![Mark { content: 0, placement }]);
    stamp_plan
        .pages
        .insert(3, vec![Mark { content: 0, placement }, Mark { content: 1, placement: at(Position::TopLeft) }]);
    let out = temp_out(&dir, "marked.pdf");
    stamp(&input, stamp_plan, &out);
    let after = images_per_page(&out);
    let count = |map: &BTreeMap<u32, usize>, page| map.get(&page).copied().unwrap_or(0);
    assert_eq!(count(&after, 1), count(&before, 1) + 1);
    assert_eq!(count(&after, 3), count(&before, 3) + 2);
    assert_eq!(count(&after, 2), count(&before, 2));
    let list = stdout("pdfimages", ["-list", out.to_str().unwrap()]);
    assert!(list.lines().any(|l| l.starts_with("   3") && l.contains(" jpeg ")), "the JPEG is kept as JPEG: {list}");
    assert_ne!(render(&input, 1, 40).rgb, render(&out, 1, 40).rgb);
    assert_eq!(render(&input, 2, 40).rgb, render(&out, 2, 40).rgb);
}

#[test]
fn what_is_not_png_or_jpeg_is_refused_as_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let tiff = std::fs::read(corpus("images/tesseract_phototest.tif")).unwrap();
    let plan_with = |data: Vec<u8>| plan(MarkContent::Image { data, name: "x.tif".into() }, at(Position::Center), &[1]);
    let out = temp_out(&dir, "never.pdf");
    let err = scanpro_pdf::stamp(&text_pdf("ltnews17.pdf"), |_| Ok(plan_with(tiff)), &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat);
    assert!(err.message.starts_with("x.tif: this is a TIF"), "{err}");
    let mut broken = std::fs::read(corpus("images/ocrmypdf_baiona.png")).unwrap();
    broken.truncate(100);
    let err = scanpro_pdf::stamp(&text_pdf("ltnews17.pdf"), |_| Ok(plan_with(broken)), &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat, "{err}");
    assert!(!out.exists());
}

#[test]
fn one_label_per_page_shares_one_font() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lroundrect.pdf");
    let placement = Placement {
        anchor: Anchor::Position { position: Position::BottomCenter, margin: 28.0 },
        ..at(Position::Center)
    };
    let contents: Vec<MarkContent> = (1..=10).map(|n| text(&format!("Page {n} of 10"), 11.0, RED)).collect();
    let pages = (1..=10).map(|n| (n, vec![Mark { content: n as usize - 1, placement }])).collect();
    let out = temp_out(&dir, "numbered.pdf");
    stamp(&input, StampPlan { contents, pages }, &out);
    assert_eq!(added_words(&input, &out, 3), sorted(&["Page", "3", "of", "10"]));
    assert!(page_text(&out, 7).contains("Page 7 of 10"));
    let fonts = stdout("pdffonts", [out.to_str().unwrap()]);
    assert_eq!(fonts.lines().filter(|l| l.contains("DejaVuSans")).count(), 1, "{fonts}");
    let page = render(&out, 3, 40);
    let (l, _, r, b, _) = red_box(&page).unwrap();
    assert!(((l + r) as i64 - page.width as i64).abs() <= 6, "centred: {l}..{r} of {}", page.width);
    assert!(b > page.height - 20 && b < page.height - 10, "28 pt (16 px) above the bottom: {b} of {}", page.height);
}

#[test]
fn watermark_and_page_numbers_on_five_hundred_pages() {
    let dir = tempfile::tempdir().unwrap();
    let first_500 =
        scanpro_pdf::split(&text_pdf("pgfmanual.pdf"), vec![(1..=500).collect()], dir.path(), "pgf").unwrap().remove(0);
    let pages: Vec<u32> = (1..=500).collect();
    // Reading and writing the file back with nothing drawn: the floor under both timings.
    let started = Instant::now();
    stamp_unchecked(&first_500, StampPlan::default(), &temp_out(&dir, "unchanged.pdf"));
    let rewrite = started.elapsed();
    let out = temp_out(&dir, "watermarked.pdf");
    let started = Instant::now();
    let diagonal = Placement { rotation: 45.0, opacity: 0.4, ..at(Position::Center) };
    stamp_unchecked(&first_500, plan(text("CONFIDENTIAL", 48.0, RED), diagonal, &pages), &out);
    let watermark = started.elapsed();
    let placement = at(Position::BottomCenter);
    let contents: Vec<MarkContent> = pages.iter().map(|n| text(&format!("Page {n} of 500"), 10.0, [0, 0, 0])).collect();
    let numbered = temp_out(&dir, "numbered.pdf");
    let started = Instant::now();
    let labels = pages.iter().map(|&n| (n, vec![Mark { content: n as usize - 1, placement }])).collect();
    stamp_unchecked(&first_500, StampPlan { contents, pages: labels }, &numbered);
    let numbers = started.elapsed();
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    eprintln!(
        "500 pages ({} bytes): rewrite alone {rewrite:?}, watermark {watermark:?} (+{} bytes), page numbers {numbers:?} (+{} bytes)",
        size(&first_500),
        size(&out) - size(&first_500),
        size(&numbered) - size(&first_500)
    );
    assert_eq!(qpdf_check(&out), 0);
    assert_eq!(qpdf_check(&numbered), 0);
    assert_eq!(added_words(&first_500, &numbered, 432), sorted(&["Page", "432", "of", "500"]));
    assert_ne!(
        render(&out, 500, 20).rgb,
        render(&first_500, 500, 20).rgb,
        "the diagonal watermark shows on the last page"
    );
    // One subset font, shared by all 500 labels.
    let fonts = stdout("pdffonts", [numbered.to_str().unwrap()]);
    assert_eq!(fonts.lines().filter(|l| l.contains("DejaVuSans")).count(), 1, "{fonts}");
}

fn stamp_unchecked(input: &Path, plan: StampPlan, out: &Path) {
    scanpro_pdf::stamp(input, |_| Ok(plan), out).unwrap();
}

#[test]
fn pages_outside_the_document_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = temp_out(&dir, "never.pdf");
    let err = scanpro_pdf::stamp(
        &text_pdf("ltnews17.pdf"),
        |_| Ok(plan(text("x", 10.0, RED), at(Position::Center), &[3])),
        &out,
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(err.message.contains("page 3 does not exist"), "{err}");
    let png = corpus("images/ocrmypdf_baiona.png");
    let err = scanpro_pdf::stamp(&png, |_| Ok(StampPlan::default()), &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::UnsupportedFormat);
}

/// `pages` pages that all use one inherited resource dictionary (a direct font inside), each
/// showing "Hello N".
fn shared_resources_pdf(path: &Path, pages: u32) {
    let mut doc = Document::with_version("1.3");
    let pages_id = doc.new_object_id();
    let font = dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" };
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let kids: Vec<Object> = (1..=pages)
        .map(|n| {
            let text = format!("BT /F1 24 Tf 72 600 Td (Hello {n}) Tj ET");
            let content = doc.add_object(Stream::new(dictionary! {}, text.into_bytes()));
            doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content }).into()
        })
        .collect();
    let tree = dictionary! {
        "Type" => "Pages", "Kids" => kids, "Count" => pages,
        "Resources" => resources, "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    };
    doc.objects.insert(pages_id, Object::Dictionary(tree));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.save(path).unwrap();
}

#[test]
fn pages_sharing_resources_keep_their_fonts_and_get_their_own_marks() {
    let dir = tempfile::tempdir().unwrap();
    let input = temp_out(&dir, "shared.pdf");
    shared_resources_pdf(&input, 20);
    let placement = Placement { opacity: 0.5, ..at(Position::BottomRight) };
    let contents: Vec<MarkContent> = (1..=20).map(|n| text(&format!("No {n}"), 12.0, RED)).collect();
    let mut pages: BTreeMap<u32, Vec<Mark>> =
        (1..=20).map(|n| (n, vec![Mark { content: n as usize - 1, placement }])).collect();
    // Pages 1 and 2 also get the same watermark.
    let mut contents = contents;
    contents.push(text("SHARED", 40.0, RED));
    for page in [1, 2] {
        pages.get_mut(&page).unwrap().push(Mark { content: 20, placement: at(Position::Center) });
    }
    let out = temp_out(&dir, "marked.pdf");
    stamp(&input, StampPlan { contents, pages }, &out);
    for page in 1..=20 {
        let mut expected = vec!["Hello".to_string(), page.to_string(), "No".into(), page.to_string()];
        if page <= 2 {
            expected.push("SHARED".into());
        }
        expected.sort();
        assert_eq!(words(&out, page), expected, "page {page}");
    }
}
