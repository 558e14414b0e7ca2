//! Imposition: the source's pages drawn onto new sheets, each page as a Form XObject placed by
//! one `cm`: several pages per sheet ([`n_up`]), folded booklets ([`booklet`]), or one page per
//! sheet of another size ([`scale_pages`]).
//!
//! A page becomes a Form XObject holding its content and resources, clipped to the box readers
//! show (the crop box within the media box); it is drawn upright, as displayed (its `/Rotate`
//! applied), scaled to fit its cell and centred in it. Each page's XObject is made once, however
//! many sheets show it. The sheets replace the page tree; what pointed at the old pages goes
//! with them: annotations (links, form widgets: flatten a form first), bookmarks, the structure
//! tree and page labels. `Info`, XMP metadata, `Lang` and viewer preferences are kept.

use crate::dests::deref;
use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::page_tree::{inherited, page_count};
use crate::rewrite::prepare;
use crate::save::save_atomic;
use crate::stamp::geometry::{Matrix, PageFrame, number, real, visible_box};
use lopdf::{DEFAULT_MAX_DECOMPRESSED_SIZE, Dictionary, Document, Object, ObjectId, Stream};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// Catalog entries about the document as a whole, kept on the imposed one.
const CARRIED_CATALOG_KEYS: [&[u8]; 4] = [b"Lang", b"ViewerPreferences", b"Metadata", b"PageLayout"];

/// The graphics state highlights are drawn in.
const MARKER: &str = "Marker";

/// Border width around each placed page, in points.
const BORDER_WIDTH: f64 = 0.5;

/// The size of a sheet, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SheetSize {
    /// The (first) source page's displayed size.
    Source,
    /// Width and height of a portrait sheet; turned where landscape fits better.
    Paper(f64, f64),
}

pub const A4: (f64, f64) = (595.276, 841.89);
pub const LETTER: (f64, f64) = (612.0, 792.0);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orientation {
    /// Whichever shows the pages larger.
    Auto,
    Portrait,
    Landscape,
}

/// The order pages fill a sheet's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Rows left to right, top to bottom.
    Across,
    /// Columns top to bottom, left to right.
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NUp {
    pub pages_per_sheet: u32,
    pub sheet: SheetSize,
    pub orientation: Orientation,
    pub order: Order,
    pub borders: bool,
    /// Around the sheet's edge and between cells, in points.
    pub margin: f64,
}

/// What an imposition made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImposeReport {
    pub pages: u32,
    pub sheets: u32,
    /// Sheet size in points, `[width, height]` (of the first sheet).
    pub sheet_size: [f64; 2],
    /// Blank pages added (booklets fill up to a multiple of four).
    pub blank_pages_added: u32,
}

/// A cell on a sheet, in points from its bottom left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cell {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

/// One output sheet: its size and, per cell, the source page (0-based) drawn there.
pub(crate) struct Sheet {
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) slots: Vec<Slot>,
}

/// A cell and what is drawn in it.
pub(crate) struct Slot {
    pub(crate) cell: Cell,
    pub(crate) page: Option<usize>,
    /// Boxes marked over the page, in points from its displayed bottom left.
    pub(crate) highlights: Vec<Highlight>,
}

impl Slot {
    fn new(cell: Cell, page: Option<usize>) -> Self {
        Self { cell, page, highlights: Vec::new() }
    }
}

/// A translucent box drawn over a placed page, as a highlighter would (multiplied, so the text
/// under it stays readable).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Highlight {
    pub(crate) rect: [f64; 4],
    pub(crate) rgb: [f64; 3],
}

/// `pages_per_sheet` source pages on each sheet, in a grid.
pub fn n_up(input: &Path, layout: &NUp, out: &Path) -> Result<ImposeReport, ToolError> {
    impose(input, out, layout.borders, |frames| {
        let grids: &[(u32, u32)] = match layout.pages_per_sheet {
            2 => &[(2, 1), (1, 2)],
            4 => &[(2, 2)],
            6 => &[(3, 2), (2, 3)],
            9 => &[(3, 3)],
            16 => &[(4, 4)],
            other => {
                return Err(ToolError::invalid_param("pages_per_sheet", format!("{other}: one of 2, 4, 6, 9 or 16")));
            }
        };
        let first = frames[0];
        let (width, height, columns, rows) = best_fit(layout, grids, (first.width, first.height));
        let cells = grid_cells(width, height, columns, rows, layout.margin, layout.order)?;
        let sheets = (0..frames.len())
            .collect::<Vec<_>>()
            .chunks(cells.len())
            .map(|pages| Sheet {
                width,
                height,
                slots: cells.iter().enumerate().map(|(i, cell)| Slot::new(*cell, pages.get(i).copied())).collect(),
            })
            .collect();
        Ok((sheets, 0))
    })
}

/// The sheet size and grid that show pages of `page` size largest.
fn best_fit(layout: &NUp, grids: &[(u32, u32)], page: (f64, f64)) -> (f64, f64, u32, u32) {
    let (short, long) = match layout.sheet {
        SheetSize::Source => (page.0.min(page.1), page.0.max(page.1)),
        SheetSize::Paper(w, h) => (w.min(h), w.max(h)),
    };
    let source_landscape = page.0 > page.1;
    let orientations: &[bool] = match layout.orientation {
        Orientation::Auto => &[false, true],
        Orientation::Portrait => &[false],
        Orientation::Landscape => &[true],
    };
    let mut best = None;
    for &landscape in orientations {
        let (width, height) = if landscape { (long, short) } else { (short, long) };
        for &(columns, rows) in grids {
            let cell_w = (width - layout.margin * f64::from(columns + 1)) / f64::from(columns);
            let cell_h = (height - layout.margin * f64::from(rows + 1)) / f64::from(rows);
            let scale = (cell_w / page.0).min(cell_h / page.1);
            // Ties go to the sheet turned like the source.
            let rank = (scale, landscape == source_landscape);
            if best.is_none_or(|(best_rank, _): ((f64, bool), _)| rank > best_rank) {
                best = Some((rank, (width, height, columns, rows)));
            }
        }
    }
    best.map_or((short, long, 1, 1), |(_, fit)| fit)
}

fn grid_cells(
    width: f64,
    height: f64,
    columns: u32,
    rows: u32,
    margin: f64,
    order: Order,
) -> Result<Vec<Cell>, ToolError> {
    let cell_w = (width - margin * f64::from(columns + 1)) / f64::from(columns);
    let cell_h = (height - margin * f64::from(rows + 1)) / f64::from(rows);
    if cell_w < 1.0 || cell_h < 1.0 {
        return Err(ToolError::invalid_param("margin", format!("{margin} pt leaves no room for the pages")));
    }
    let cell = |column: u32, row: u32| Cell {
        x: margin + f64::from(column) * (cell_w + margin),
        // Row 0 is the top row.
        y: height - f64::from(row + 1) * (cell_h + margin),
        width: cell_w,
        height: cell_h,
    };
    Ok(match order {
        Order::Across => (0..rows).flat_map(|r| (0..columns).map(move |c| (c, r))).map(|(c, r)| cell(c, r)).collect(),
        Order::Down => (0..columns).flat_map(|c| (0..rows).map(move |r| (c, r))).map(|(c, r)| cell(c, r)).collect(),
    })
}

/// Where the spine is: `Left` for left-to-right scripts, `Right` for right-to-left ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Left,
    Right,
}

/// A saddle-stitched booklet: two pages side by side on each sheet side, in the order that
/// reads right once the printed stack (duplex, flipped on the short edge) is folded in half.
/// Blank pages fill the document up to a multiple of four.
pub fn booklet(
    input: &Path,
    sheet: SheetSize,
    binding: Binding,
    borders: bool,
    out: &Path,
) -> Result<ImposeReport, ToolError> {
    impose(input, out, borders, |frames| {
        let first = frames[0];
        let (width, height) = match sheet {
            // Two pages side by side at their own size.
            SheetSize::Source => (2.0 * first.width, first.height),
            SheetSize::Paper(w, h) => (w.max(h), w.min(h)),
        };
        let left = Cell { x: 0.0, y: 0.0, width: width / 2.0, height };
        let right = Cell { x: width / 2.0, ..left };
        let pages = frames.len();
        let padded = pages.div_ceil(4) * 4;
        let page = |i: usize| (i < pages).then_some(i);
        let mut sheets = Vec::with_capacity(padded / 2);
        for k in 0..padded / 4 {
            // Front: the last unplaced page outside, the first inside; back: the next pair.
            let front = (page(padded - 1 - 2 * k), page(2 * k));
            let back = (page(2 * k + 1), page(padded - 2 - 2 * k));
            for (outer_left, outer_right) in [front, back] {
                let (on_left, on_right) = match binding {
                    Binding::Left => (outer_left, outer_right),
                    Binding::Right => (outer_right, outer_left),
                };
                sheets.push(Sheet { width, height, slots: vec![Slot::new(left, on_left), Slot::new(right, on_right)] });
            }
        }
        Ok((sheets, u32::try_from(padded - pages).unwrap_or(0)))
    })
}

/// Each page on a sheet of `size` (portrait or landscape like the page), its content scaled to
/// fit and centred.
pub fn scale_pages(input: &Path, size: (f64, f64), out: &Path) -> Result<ImposeReport, ToolError> {
    impose(input, out, false, |frames| {
        let (short, long) = (size.0.min(size.1), size.0.max(size.1));
        let sheets = frames
            .iter()
            .enumerate()
            .map(|(i, frame)| {
                let (width, height) = if frame.width > frame.height { (long, short) } else { (short, long) };
                Sheet { width, height, slots: vec![Slot::new(Cell { x: 0.0, y: 0.0, width, height }, Some(i))] }
            })
            .collect();
        Ok((sheets, 0))
    })
}

/// Opens `input`, lays its pages out with `plan` (which gets each page's displayed frame and
/// returns the sheets and the blank pages it added), and writes the sheets to `out`.
pub(crate) fn impose(
    input: &Path,
    out: &Path,
    borders: bool,
    plan: impl FnOnce(&[PageFrame]) -> Result<(Vec<Sheet>, u32), ToolError>,
) -> Result<ImposeReport, ToolError> {
    guarded("impose", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let page_ids: Vec<ObjectId> = doc.page_iter().collect();
        let frames: Vec<PageFrame> = page_ids
            .iter()
            .map(|&id| doc.get_dictionary(id).map(|page| PageFrame::of(&doc, page)))
            .collect::<Result<_, _>>()
            .map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "a page of the PDF is not a page"))?;
        if frames.is_empty() {
            return Err(ToolError::new(ErrorCode::InvalidPdf, "the PDF has no pages"));
        }
        let (sheets, blank_pages_added) = plan(&frames)?;
        let mut forms: HashMap<usize, ObjectId> = HashMap::new();
        let mut sheet_ids = Vec::with_capacity(sheets.len());
        let pages_id = doc.new_object_id();
        for sheet in &sheets {
            let mut content = String::new();
            let mut xobjects = Dictionary::new();
            for Slot { cell, page, highlights } in &sheet.slots {
                let Some(index) = *page else { continue };
                let form = match forms.get(&index) {
                    Some(&form) => form,
                    None => {
                        let form = page_form(&mut doc, page_ids[index])?;
                        forms.insert(index, form);
                        form
                    }
                };
                let name = format!("P{index}");
                let frame = frames[index];
                let scale = (cell.width / frame.width).min(cell.height / frame.height);
                let (w, h) = (frame.width * scale, frame.height * scale);
                let (x, y) = (cell.x + (cell.width - w) / 2.0, cell.y + (cell.height - h) / 2.0);
                let placed = invert(frame.to_user).then(Matrix::scale(scale)).then(Matrix::translate(x, y));
                content.push_str(&format!("q {} cm /{name} Do Q\n", placed.operands()));
                if borders {
                    let rect = [x, y, w, h].map(number).join(" ");
                    content.push_str(&format!("q {} w 0 G {rect} re S Q\n", number(BORDER_WIDTH)));
                }
                for Highlight { rect: [x0, y0, x1, y1], rgb } in highlights {
                    let rect =
                        [x + x0 * scale, y + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale].map(number).join(" ");
                    let color = rgb.map(number).join(" ");
                    content.push_str(&format!("q /{MARKER} gs {color} rg {rect} re f Q\n"));
                }
                xobjects.set(name, Object::Reference(form));
            }
            let mut resources = Dictionary::new();
            resources.set("XObject", xobjects);
            if sheet.slots.iter().any(|slot| !slot.highlights.is_empty()) {
                let mut marker = Dictionary::new();
                marker.set("Type", Object::Name(b"ExtGState".to_vec()));
                marker.set("BM", Object::Name(b"Multiply".to_vec()));
                marker.set("ca", real(0.45));
                let mut states = Dictionary::new();
                states.set(MARKER, marker);
                resources.set("ExtGState", states);
            }
            let mut stream = Stream::new(Dictionary::new(), content.into_bytes());
            let _ = stream.compress();
            let content_id = doc.add_object(stream);
            let mut page = Dictionary::new();
            page.set("Type", Object::Name(b"Page".to_vec()));
            page.set("Parent", Object::Reference(pages_id));
            page.set("MediaBox", vec![0.into(), 0.into(), real(sheet.width), real(sheet.height)]);
            page.set("Resources", resources);
            page.set("Contents", Object::Reference(content_id));
            sheet_ids.push(doc.add_object(page));
        }
        replace_page_tree(&mut doc, pages_id, &sheet_ids)?;
        doc.prune_objects();
        save_atomic(&mut doc, out)?;
        let first = sheets.first().map_or([0.0; 2], |s| [s.width, s.height]);
        Ok(ImposeReport {
            pages: prepared.pages,
            sheets: page_count(sheets.len())?,
            sheet_size: first.map(|n| (n * 100.0).round() / 100.0),
            blank_pages_added,
        })
    })
}

/// The page as a Form XObject in the same document: its content, its resources, its visible
/// box as `/BBox`, its transparency group.
fn page_form(doc: &mut Document, page_id: ObjectId) -> Result<ObjectId, ToolError> {
    let page = doc.get_dictionary(page_id).map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "a page is missing"))?;
    let bbox = visible_box(doc, page);
    let resources =
        deref(doc, inherited(doc, page, b"Resources")).cloned().unwrap_or(Object::Dictionary(Dictionary::new()));
    let group = page.get(b"Group").ok().cloned();
    // `prepare` has checked that every page's content decodes.
    let content = doc
        .get_page_content_with_limit(page_id, DEFAULT_MAX_DECOMPRESSED_SIZE)
        .map_err(|e| ToolError::new(ErrorCode::InvalidPdf, format!("a page's content cannot be read: {e}")))?;
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set("BBox", bbox.iter().map(|&n| real(n)).collect::<Vec<_>>());
    dict.set("Resources", resources);
    if let Some(group) = group {
        dict.set("Group", group);
    }
    let mut form = Stream::new(dict, content);
    let _ = form.compress();
    Ok(doc.add_object(form))
}

/// The inverse of an invertible affine matrix (the page frames': rotations and translations).
fn invert(matrix: Matrix) -> Matrix {
    let [a, b, c, d, e, f] = matrix.0;
    let det = a * d - b * c;
    let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
    Matrix([ia, ib, ic, id, -(e * ia + f * ic), -(e * ib + f * id)])
}

/// Installs `sheets` as the document's only pages under a new `/Pages` node, in a catalog that
/// keeps only what describes the document as a whole.
fn replace_page_tree(doc: &mut Document, pages_id: ObjectId, sheets: &[ObjectId]) -> Result<(), ToolError> {
    let mut pages = Dictionary::new();
    pages.set("Type", Object::Name(b"Pages".to_vec()));
    pages.set("Kids", sheets.iter().map(|&id| Object::Reference(id)).collect::<Vec<_>>());
    pages.set("Count", i64::try_from(sheets.len()).unwrap_or(i64::MAX));
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let old = doc.catalog().map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "the PDF has no catalog"))?.clone();
    let mut catalog = Dictionary::new();
    catalog.set("Type", Object::Name(b"Catalog".to_vec()));
    catalog.set("Pages", Object::Reference(pages_id));
    for key in CARRIED_CATALOG_KEYS {
        if let Ok(value) = old.get(key) {
            catalog.set(key, value.clone());
        }
    }
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", Object::Reference(catalog_id));
    Ok(())
}
