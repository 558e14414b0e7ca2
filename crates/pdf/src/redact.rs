//! True redaction: what lies under each box is removed from the file, not covered.
//!
//! Boxes come from areas (page and rectangle) or from searching the text layer (poppler's word
//! boxes; a match redacts the whole words it touches). On each page with boxes:
//! - the glyphs of the page's text under a box are taken out of their text-showing operators,
//!   the rest of each line keeping its place (a removed glyph becomes a positioning offset);
//!   the forms the page draws are cut the same way, each rewritten for this page alone;
//! - annotations over a box go, and so do those whose text matches a search;
//! - the boxes are painted in the chosen colour.
//!
//! What this cannot take out glyph by glyph sends the page to be rasterised: an image or an
//! inline image under a box, a font whose codes it cannot measure. After writing,
//! poppler reads the text back; a page where any word still touches a box is rasterised too.
//! Rasterising renders the redacted page and replaces it with that image (boxes painted into
//! the pixels), so nothing of its text, images or vectors remains; `rasterize` does this to
//! every redacted page. Document metadata (`Info` entries, XMP) matching a search is removed,
//! and searched text is blacked out of every other string (bookmarks, links, alternate text).

use crate::dests::deref;
use crate::guard::guarded;
use crate::info::decode_text;
use crate::open::open_unguarded;
use crate::page_tree::inherited;
use crate::render::{RasterEncoding, RenderOptions, RenderSize, render_pages};
use crate::rewrite::prepare;
use crate::save::save_atomic;
use crate::stamp::geometry::{Matrix, PageFrame, number, number_value, real};
use crate::text_layer::words;
use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use regex::Regex;
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Room around a searched word's box: poppler's boxes hug the glyphs' advance, not their ink.
const WORD_PADDING: f64 = 1.0;

/// What to redact.
#[derive(Debug, Clone, Default)]
pub struct Redaction {
    /// Patterns searched in each page's text (words joined by single spaces).
    pub patterns: Vec<Regex>,
    /// Boxes by page (1-based), in points from the displayed page's top left:
    /// `[x, y, width, height]`.
    pub areas: Vec<(u32, [f64; 4])>,
    pub rgb: [f64; 3],
    /// Every redacted page becomes an image.
    pub rasterize: bool,
    pub dpi: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedactReport {
    pub pages: u32,
    /// Boxes painted.
    pub boxes: u32,
    /// Text found by the searches.
    pub matches: u32,
    /// The pages redacted (1-based).
    pub pages_redacted: Vec<u32>,
    /// The pages made images, asked for or needed.
    pub rasterized: Vec<u32>,
    pub annotations_removed: u32,
    /// `Info` entries (and `XMP`) removed because they hold searched text.
    pub metadata_removed: Vec<String>,
    /// Other strings of the document (bookmark titles, link addresses, alternate texts, field
    /// values) in which searched text was blacked out.
    pub strings_scrubbed: u32,
}

/// Boxes in display space, `[left, bottom, right, top]`, by 0-based page.
type Boxes = BTreeMap<usize, Vec<[f64; 4]>>;

pub fn redact(input: &Path, what: &Redaction, out: &Path) -> Result<RedactReport, ToolError> {
    let layer = words(input)?;
    let mut boxes: Boxes = BTreeMap::new();
    let mut matches = 0u32;
    if !what.patterns.is_empty() {
        let mut by_page: BTreeMap<usize, Vec<&crate::text_layer::Word>> = BTreeMap::new();
        for word in &layer.words {
            by_page.entry(word.page).or_default().push(word);
        }
        for (page, words) in by_page {
            let mut hit: BTreeSet<usize> = BTreeSet::new();
            // As read, and with words broken by a hyphen at a line's end joined again.
            for dehyphenate in [false, true] {
                let (text, spans) = join_words(&words, dehyphenate);
                for pattern in &what.patterns {
                    for found in pattern.find_iter(&text).filter(|m| !m.as_str().trim().is_empty()) {
                        let touched: Vec<usize> = spans
                            .iter()
                            .enumerate()
                            .filter(|(_, (start, end))| *start < found.end() && found.start() < *end)
                            .map(|(i, _)| i)
                            .collect();
                        if touched.iter().any(|i| !hit.contains(i)) {
                            matches += 1;
                        }
                        hit.extend(touched);
                    }
                }
            }
            for index in hit {
                let [x0, y0, x1, y1] = words[index].rect;
                boxes.entry(page).or_default().push([
                    x0 - WORD_PADDING,
                    y0 - WORD_PADDING,
                    x1 + WORD_PADDING,
                    y1 + WORD_PADDING,
                ]);
            }
        }
    }
    let mut report = guarded("redact", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let page_ids: Vec<ObjectId> = doc.page_iter().collect();
        for &(page, [x, y, w, h]) in &what.areas {
            let index = (page as usize).wrapping_sub(1);
            let Some(frame) =
                page_ids.get(index).and_then(|&id| doc.get_dictionary(id).ok()).map(|p| PageFrame::of(&doc, p))
            else {
                return Err(ToolError::invalid_param(
                    "areas",
                    format!("page {page}: the document has {} pages", page_ids.len()),
                ));
            };
            boxes.entry(index).or_default().push([x, frame.height - y - h, x + w, frame.height - y]);
        }
        let mut report = RedactReport {
            pages: prepared.pages,
            boxes: u32::try_from(boxes.values().map(Vec::len).sum::<usize>()).unwrap_or(u32::MAX),
            matches,
            pages_redacted: boxes.keys().map(|&p| page_number(p)).collect(),
            rasterized: Vec::new(),
            annotations_removed: 0,
            metadata_removed: Vec::new(),
            strings_scrubbed: 0,
        };
        let mut to_rasterize = BTreeSet::new();
        for (&index, page_boxes) in &boxes {
            let page_id = page_ids[index];
            let complete = remove_under(&mut doc, page_id, page_boxes)?;
            if !complete || what.rasterize {
                to_rasterize.insert(index);
            }
            report.annotations_removed += remove_annotations(&mut doc, page_id, page_boxes, &what.patterns);
            paint_boxes(&mut doc, page_id, page_boxes, what.rgb)?;
        }
        report.metadata_removed = scrub_metadata(&mut doc, &what.patterns);
        report.strings_scrubbed = scrub_strings(&mut doc, &what.patterns);
        doc.prune_objects();
        save_atomic(&mut doc, out)?;
        Ok((report, to_rasterize))
    })
    .and_then(|(report, mut to_rasterize)| {
        // What poppler still reads under a box was not removed: that page becomes an image.
        let left = words(out)?;
        for word in &left.words {
            if boxes.get(&word.page).is_some_and(|b| b.iter().any(|r| mostly_under(r, &word.rect))) {
                to_rasterize.insert(word.page);
            }
        }
        Ok((report, to_rasterize))
    })
    .and_then(|(mut report, to_rasterize)| {
        if !to_rasterize.is_empty() {
            rasterize_pages(out, &to_rasterize, &boxes, what)?;
        }
        report.rasterized = to_rasterize.iter().map(|&p| page_number(p)).collect();
        Ok(report)
    })?;
    report.pages_redacted.sort_unstable();
    Ok(report)
}

/// A whole non-negative number, saturating: pixel positions and character codes.
#[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "float to int casts saturate")]
fn whole(n: f64) -> u32 {
    n.max(0.0) as u32
}

fn page_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// The page's words joined by single spaces (or, `dehyphenate`d, a word ending in a hyphen
/// joined to the next without it), and each word's span in that text.
fn join_words(words: &[&crate::text_layer::Word], dehyphenate: bool) -> (String, Vec<(usize, usize)>) {
    let mut text = String::new();
    let mut spans = Vec::with_capacity(words.len());
    let mut glue = false;
    for word in words {
        if !text.is_empty() && !glue {
            text.push(' ');
        }
        let start = text.len();
        let broken = dehyphenate && word.text.len() > 1 && word.text.ends_with('-');
        text.push_str(if broken { &word.text[..word.text.len() - 1] } else { &word.text });
        spans.push((start, text.len()));
        glue = broken;
    }
    (text, spans)
}

/// Whether a fifth or more of `word` lies under `area`: a word of the next line that only
/// grazes a box's padding is not text left under it.
fn mostly_under(area: &[f64; 4], word: &[f64; 4]) -> bool {
    let width = (area[2].min(word[2]) - area[0].max(word[0])).max(0.0);
    let height = (area[3].min(word[3]) - area[1].max(word[1])).max(0.0);
    let size = (word[2] - word[0]).max(0.1) * (word[3] - word[1]).max(0.1);
    width * height >= 0.2 * size
}

fn overlaps(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// `rect` (display space) in the page's user space.
fn to_user(frame: &PageFrame, [x0, y0, x1, y1]: [f64; 4]) -> [f64; 4] {
    let (ax, ay) = frame.to_user.apply(x0, y0);
    let (bx, by) = frame.to_user.apply(x1, y1);
    [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)]
}

/// How a font's codes map to widths (glyph space, thousandths of the text size).
enum Widths {
    /// One byte per code: `/FirstChar` and `/Widths`.
    Simple { first: i64, widths: Vec<f64>, missing: f64 },
    /// Two bytes per code (Identity CMaps): `/W` ranges and `/DW`.
    Composite { widths: HashMap<u32, f64>, default: f64 },
}

impl Widths {
    fn of(doc: &Document, font: &Dictionary) -> Option<Self> {
        match font.get(b"Subtype").and_then(Object::as_name).ok()? {
            b"Type0" => {
                let encoding = font.get(b"Encoding").and_then(Object::as_name).ok()?;
                if encoding != b"Identity-H" && encoding != b"Identity-V" {
                    return None;
                }
                let descendants = deref(doc, font.get(b"DescendantFonts").ok())?.as_array().ok()?;
                let cid_font = deref(doc, descendants.first())?.as_dict().ok()?;
                let default = deref(doc, cid_font.get(b"DW").ok()).and_then(number_value).unwrap_or(1000.0);
                let mut widths = HashMap::new();
                if let Some(Object::Array(w)) = deref(doc, cid_font.get(b"W").ok()) {
                    let mut i = 0;
                    while i + 1 < w.len() && widths.len() < 1_000_000 {
                        let first = whole(deref(doc, Some(&w[i])).and_then(number_value).unwrap_or(0.0));
                        match deref(doc, Some(&w[i + 1])) {
                            Some(Object::Array(list)) => {
                                for (k, width) in list.iter().enumerate() {
                                    widths.insert(
                                        first.saturating_add(u32::try_from(k).unwrap_or(u32::MAX)),
                                        deref(doc, Some(width)).and_then(number_value).unwrap_or(default),
                                    );
                                }
                                i += 2;
                            }
                            Some(last) if i + 2 < w.len() => {
                                let last = whole(number_value(last).unwrap_or(0.0));
                                let width = deref(doc, Some(&w[i + 2])).and_then(number_value).unwrap_or(default);
                                for cid in first..=last.min(first.saturating_add(65_535)) {
                                    widths.insert(cid, width);
                                }
                                i += 3;
                            }
                            _ => break,
                        }
                    }
                }
                Some(Self::Composite { widths, default })
            }
            b"Type3" => None,
            _ => {
                let first = deref(doc, font.get(b"FirstChar").ok()).and_then(|o| o.as_i64().ok()).unwrap_or(0);
                let widths: Vec<f64> = match deref(doc, font.get(b"Widths").ok()) {
                    Some(Object::Array(w)) => {
                        w.iter().map(|o| deref(doc, Some(o)).and_then(number_value).unwrap_or(0.0)).collect()
                    }
                    // The standard 14 fonts need no widths: an average one places the rest
                    // of the line near enough.
                    _ => Vec::new(),
                };
                let descriptor = deref(doc, font.get(b"FontDescriptor").ok()).and_then(|d| d.as_dict().ok());
                let missing = descriptor.and_then(|d| deref(doc, d.get(b"MissingWidth").ok())).and_then(number_value);
                Some(Self::Simple {
                    first,
                    missing: missing.unwrap_or(if widths.is_empty() { 556.0 } else { 0.0 }),
                    widths,
                })
            }
        }
    }

    /// The codes of `bytes` with their widths (in thousandths) and whether the code is a space.
    fn glyphs(&self, bytes: &[u8]) -> Vec<(std::ops::Range<usize>, f64, bool)> {
        match self {
            Self::Simple { first, widths, missing } => bytes
                .iter()
                .enumerate()
                .map(|(i, &code)| {
                    let width = usize::try_from(i64::from(code) - first)
                        .ok()
                        .and_then(|k| widths.get(k))
                        .copied()
                        .unwrap_or(*missing);
                    (i..i + 1, width, code == b' ')
                })
                .collect(),
            Self::Composite { widths, default } => bytes
                .chunks(2)
                .enumerate()
                .map(|(k, pair)| {
                    let code = pair.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
                    (2 * k..2 * k + pair.len(), widths.get(&code).copied().unwrap_or(*default), false)
                })
                .collect(),
        }
    }
}

/// The text state the show operators need.
#[derive(Clone)]
struct TextState {
    font: Vec<u8>,
    size: f64,
    char_spacing: f64,
    word_spacing: f64,
    scale: f64,
    leading: f64,
    rise: f64,
}

fn operand(op: &Operation, i: usize) -> f64 {
    op.operands.get(i).and_then(number_value).unwrap_or(0.0)
}

/// Takes the page's text out from under `boxes`, in its content and in the forms it draws;
/// `false` when something under a box cannot be taken out this way (the page must be
/// rasterised).
fn remove_under(doc: &mut Document, page_id: ObjectId, boxes: &[[f64; 4]]) -> Result<bool, ToolError> {
    let page = doc.get_dictionary(page_id).map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "a page is missing"))?;
    let frame = PageFrame::of(doc, page);
    let areas: Vec<[f64; 4]> = boxes.iter().map(|b| to_user(&frame, *b)).collect();
    let resources =
        deref(doc, inherited(doc, page, b"Resources")).and_then(|r| r.as_dict().ok()).cloned().unwrap_or_default();
    let content = doc
        .get_page_content_with_limit(page_id, lopdf::DEFAULT_MAX_DECOMPRESSED_SIZE)
        .map_err(|e| ToolError::new(ErrorCode::InvalidPdf, format!("a page's content cannot be read: {e}")))?;
    let Some(cut) = cut_text(doc, &content, &resources, IDENTITY, &areas, 0)? else { return Ok(false) };
    let resources = with_xobjects(doc, resources, &cut.replaced);
    let mut stream = Stream::new(Dictionary::new(), cut.content);
    let _ = stream.compress();
    let content_id = doc.add_object(stream);
    if let Ok(page) = doc.get_dictionary_mut(page_id) {
        page.set("Contents", Object::Reference(content_id));
        page.set("Resources", resources);
    }
    Ok(cut.complete)
}

const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
/// Forms inside forms followed at most.
const MAX_FORM_DEPTH: usize = 8;

/// A content stream with the glyphs under the areas cut out.
struct Cut {
    content: Vec<u8>,
    /// Whether everything under the areas could be cut.
    complete: bool,
    /// Forms drawn by the content, rewritten: name → the new form.
    replaced: Vec<(Vec<u8>, ObjectId)>,
}

/// `resources` with the named XObjects pointed at their rewritten forms (a copy: resources are
/// often shared by pages that keep the originals).
fn with_xobjects(doc: &Document, mut resources: Dictionary, replaced: &[(Vec<u8>, ObjectId)]) -> Dictionary {
    if !replaced.is_empty() {
        let mut xobjects =
            deref(doc, resources.get(b"XObject").ok()).and_then(|x| x.as_dict().ok()).cloned().unwrap_or_default();
        for (name, id) in replaced {
            xobjects.set(name.clone(), Object::Reference(*id));
        }
        resources.set("XObject", xobjects);
    }
    resources
}

/// Cuts the glyphs under `areas` (user space of the page) out of `content`, drawn with
/// `resources` under the transformation `start`; `None` when the content does not parse.
fn cut_text(
    doc: &mut Document,
    content: &[u8],
    resources: &Dictionary,
    start: Matrix,
    areas: &[[f64; 4]],
    depth: usize,
) -> Result<Option<Cut>, ToolError> {
    let fonts = deref(doc, resources.get(b"Font").ok()).and_then(|f| f.as_dict().ok()).cloned().unwrap_or_default();
    let xobjects =
        deref(doc, resources.get(b"XObject").ok()).and_then(|f| f.as_dict().ok()).cloned().unwrap_or_default();
    let Ok(content) = Content::decode(content) else { return Ok(None) };
    let mut replaced = Vec::new();
    let mut widths: HashMap<Vec<u8>, Option<Widths>> = HashMap::new();
    let mut complete = true;
    let mut ctm = start;
    let mut stack: Vec<(Matrix, TextState)> = Vec::new();
    let mut text = TextState {
        font: Vec::new(),
        size: 0.0,
        char_spacing: 0.0,
        word_spacing: 0.0,
        scale: 1.0,
        leading: 0.0,
        rise: 0.0,
    };
    let identity = IDENTITY;
    let (mut tm, mut tlm) = (identity, identity);
    let mut rewritten: Vec<Operation> = Vec::with_capacity(content.operations.len());
    let hits = |m: Matrix, corners: [f64; 4]| {
        let points =
            [(corners[0], corners[1]), (corners[2], corners[1]), (corners[0], corners[3]), (corners[2], corners[3])]
                .map(|(x, y)| m.apply(x, y));
        let rect = [
            points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min),
            points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min),
            points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max),
            points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max),
        ];
        areas.iter().any(|a| overlaps(a, &rect))
    };
    for op in content.operations {
        match op.operator.as_str() {
            "q" => stack.push((ctm, text.clone())),
            "Q" => {
                if let Some((saved, state)) = stack.pop() {
                    ctm = saved;
                    text = state;
                }
            }
            "cm" => ctm = Matrix(std::array::from_fn(|i| operand(&op, i))).then(ctm),
            "BT" => (tm, tlm) = (identity, identity),
            "Tf" => {
                text.font = op.operands.first().and_then(|o| o.as_name().ok()).map(<[u8]>::to_vec).unwrap_or_default();
                text.size = operand(&op, 1);
            }
            "Tc" => text.char_spacing = operand(&op, 0),
            "Tw" => text.word_spacing = operand(&op, 0),
            "Tz" => text.scale = operand(&op, 0) / 100.0,
            "TL" => text.leading = operand(&op, 0),
            "Ts" => text.rise = operand(&op, 0),
            "Td" | "TD" => {
                if op.operator == "TD" {
                    text.leading = -operand(&op, 1);
                }
                tlm = Matrix::translate(operand(&op, 0), operand(&op, 1)).then(tlm);
                tm = tlm;
            }
            "Tm" => {
                tlm = Matrix(std::array::from_fn(|i| operand(&op, i)));
                tm = tlm;
            }
            "T*" => {
                tlm = Matrix::translate(0.0, -text.leading).then(tlm);
                tm = tlm;
            }
            "Do" => {
                let name = op.operands.first().and_then(|o| o.as_name().ok()).unwrap_or_default().to_vec();
                let Some(Object::Stream(xobject)) = deref(doc, xobjects.get(&name).ok()) else {
                    rewritten.push(op);
                    continue;
                };
                if xobject.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form") {
                    // An image under a box cannot be cut: the page is rasterised.
                    if hits(ctm, [0.0, 0.0, 1.0, 1.0]) {
                        complete = false;
                    }
                    rewritten.push(op);
                    continue;
                }
                let bbox: Vec<f64> = xobject
                    .dict
                    .get(b"BBox")
                    .and_then(Object::as_array)
                    .map(|a| a.iter().filter_map(number_value).collect())
                    .unwrap_or_default();
                let matrix = match xobject.dict.get(b"Matrix").and_then(Object::as_array) {
                    Ok(m) if m.len() == 6 => Matrix(std::array::from_fn(|i| number_value(&m[i]).unwrap_or(0.0))),
                    _ => identity,
                };
                let placed = matrix.then(ctm);
                let under = bbox.len() != 4 || hits(placed, [bbox[0], bbox[1], bbox[2], bbox[3]]);
                if !under {
                    rewritten.push(op);
                    continue;
                }
                let data = if xobject.dict.has(b"Filter") {
                    xobject.decompressed_content_with_limit(lopdf::DEFAULT_MAX_DECOMPRESSED_SIZE).ok()
                } else {
                    Some(xobject.content.clone())
                };
                let form_resources = deref(doc, xobject.dict.get(b"Resources").ok())
                    .and_then(|r| r.as_dict().ok())
                    .cloned()
                    .unwrap_or_else(|| resources.clone());
                let mut dict = xobject.dict.clone();
                let inner = match data {
                    Some(data) if depth < MAX_FORM_DEPTH => {
                        cut_text(doc, &data, &form_resources, placed, areas, depth + 1)?
                    }
                    _ => None,
                };
                let Some(inner) = inner else {
                    complete = false;
                    rewritten.push(op);
                    continue;
                };
                complete &= inner.complete;
                dict.remove(b"Filter");
                dict.remove(b"DecodeParms");
                dict.set("Resources", with_xobjects(doc, form_resources, &inner.replaced));
                let mut form = Stream::new(dict, inner.content);
                let _ = form.compress();
                replaced.push((name, doc.add_object(form)));
            }
            "BI" | "ID" | "EI" => complete = false,
            "Tj" | "'" | "\"" | "TJ" => {
                if op.operator == "'" || op.operator == "\"" {
                    if op.operator == "\"" {
                        text.word_spacing = operand(&op, 0);
                        text.char_spacing = operand(&op, 1);
                        rewritten.push(Operation::new("Tw", vec![real(text.word_spacing)]));
                        rewritten.push(Operation::new("Tc", vec![real(text.char_spacing)]));
                    }
                    tlm = Matrix::translate(0.0, -text.leading).then(tlm);
                    tm = tlm;
                    rewritten.push(Operation::new("T*", vec![]));
                }
                let font = widths.entry(text.font.clone()).or_insert_with(|| {
                    deref(doc, fonts.get(&text.font).ok())
                        .and_then(|f| f.as_dict().ok())
                        .and_then(|f| Widths::of(doc, f))
                });
                let items: Vec<Object> = match op.operator.as_str() {
                    "TJ" => op.operands.first().and_then(|o| o.as_array().ok()).cloned().unwrap_or_default(),
                    _ => op.operands.last().cloned().into_iter().collect(),
                };
                let Some(font) = font.as_ref().filter(|_| text.size != 0.0) else {
                    // Glyphs it cannot place: the page is rasterised.
                    complete = false;
                    rewritten.push(Operation::new("TJ", vec![Object::Array(items)]));
                    continue;
                };
                let mut out: Vec<Object> = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Object::String(bytes, format) => {
                            let mut kept: Vec<u8> = Vec::new();
                            for (range, width, space) in font.glyphs(&bytes) {
                                let advance = (width / 1000.0 * text.size
                                    + text.char_spacing
                                    + if space { text.word_spacing } else { 0.0 })
                                    * text.scale;
                                let render = Matrix([text.size * text.scale, 0.0, 0.0, text.size, 0.0, text.rise])
                                    .then(tm)
                                    .then(ctm);
                                let glyph = [0.0, -0.25, width.max(1.0) / 1000.0, 0.95];
                                if hits(render, glyph) {
                                    if !kept.is_empty() {
                                        out.push(Object::String(std::mem::take(&mut kept), format));
                                    }
                                    out.push(real(-advance / text.scale * 1000.0 / text.size));
                                } else {
                                    kept.extend_from_slice(&bytes[range]);
                                }
                                tm = Matrix::translate(advance, 0.0).then(tm);
                            }
                            if !kept.is_empty() {
                                out.push(Object::String(kept, format));
                            }
                        }
                        Object::Integer(_) | Object::Real(_) => {
                            let n = number_value(&item).unwrap_or(0.0);
                            tm = Matrix::translate(-n / 1000.0 * text.size * text.scale, 0.0).then(tm);
                            out.push(item);
                        }
                        _ => {}
                    }
                }
                rewritten.push(Operation::new("TJ", vec![Object::Array(out)]));
                continue;
            }
            _ => {}
        }
        rewritten.push(op);
    }
    let encoded = Content { operations: rewritten }
        .encode()
        .map_err(|e| ToolError::internal(format!("redact: cannot write page content: {e}")))?;
    Ok(Some(Cut { content: encoded, complete, replaced }))
}

/// Removes the annotations over a box, and those whose text a search matches.
fn remove_annotations(doc: &mut Document, page_id: ObjectId, boxes: &[[f64; 4]], patterns: &[Regex]) -> u32 {
    let Ok(page) = doc.get_dictionary(page_id) else { return 0 };
    let frame = PageFrame::of(doc, page);
    let areas: Vec<[f64; 4]> = boxes.iter().map(|b| to_user(&frame, *b)).collect();
    let Some(Object::Array(annots)) = deref(doc, page.get(b"Annots").ok()).cloned() else { return 0 };
    let before = annots.len();
    let kept: Vec<Object> = annots
        .into_iter()
        .filter(|annot| {
            let Some(dict) = deref(doc, Some(annot)).and_then(|a| a.as_dict().ok()) else { return true };
            let rect: Vec<f64> = dict
                .get(b"Rect")
                .and_then(Object::as_array)
                .map(|a| a.iter().filter_map(|o| o.as_float().ok()).map(f64::from).collect())
                .unwrap_or_default();
            let over = rect.len() == 4
                && areas.iter().any(|a| {
                    overlaps(
                        a,
                        &[rect[0].min(rect[2]), rect[1].min(rect[3]), rect[0].max(rect[2]), rect[1].max(rect[3])],
                    )
                });
            let says = [&b"Contents"[..], b"T", b"TU", b"V"]
                .iter()
                .filter_map(|k| dict.get(k).ok())
                .filter_map(decode_text)
                .any(|t| patterns.iter().any(|p| p.is_match(&t)));
            !(over || says)
        })
        .collect();
    let removed = before - kept.len();
    if let Ok(page) = doc.get_dictionary_mut(page_id) {
        page.set("Annots", kept);
    }
    u32::try_from(removed).unwrap_or(u32::MAX)
}

/// Paints `boxes` (display space) over the page's content.
fn paint_boxes(doc: &mut Document, page_id: ObjectId, boxes: &[[f64; 4]], rgb: [f64; 3]) -> Result<(), ToolError> {
    let page = doc.get_dictionary(page_id).map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "a page is missing"))?;
    let frame = PageFrame::of(doc, page);
    let color = rgb.map(number).join(" ");
    let mut content = format!("q {color} rg\n");
    for b in boxes {
        let [x0, y0, x1, y1] = to_user(&frame, *b);
        content.push_str(&format!("{} {} {} {} re f\n", number(x0), number(y0), number(x1 - x0), number(y1 - y0)));
    }
    content.push_str("Q\n");
    let boxes_id = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
    let existing = doc.get_dictionary(page_id).ok().and_then(|p| p.get(b"Contents").ok()).cloned();
    let mut contents = match existing {
        Some(Object::Array(items)) => items,
        Some(other) => vec![other],
        None => Vec::new(),
    };
    // The page's own content ends with its graphics state restored before the boxes.
    let open = doc.add_object(Stream::new(Dictionary::new(), b"q\n".to_vec()));
    let close = doc.add_object(Stream::new(Dictionary::new(), b"\nQ\n".to_vec()));
    contents.insert(0, Object::Reference(open));
    contents.push(Object::Reference(close));
    contents.push(Object::Reference(boxes_id));
    if let Ok(page) = doc.get_dictionary_mut(page_id) {
        page.set("Contents", contents);
    }
    Ok(())
}

/// Removes `Info` entries and the XMP stream that hold searched text; returns their names.
fn scrub_metadata(doc: &mut Document, patterns: &[Regex]) -> Vec<String> {
    if patterns.is_empty() {
        return Vec::new();
    }
    let mut removed = Vec::new();
    let info_id = doc.trailer.get(b"Info").and_then(Object::as_reference).ok();
    if let Some(info) = info_id.and_then(|id| doc.get_dictionary_mut(id).ok()) {
        let keys: Vec<Vec<u8>> = info
            .iter()
            .filter(|(_, v)| decode_text(v).is_some_and(|t| patterns.iter().any(|p| p.is_match(&t))))
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            info.remove(&key);
            removed.push(String::from_utf8_lossy(&key).into_owned());
        }
    }
    let xmp = doc.catalog().ok().and_then(|c| c.get(b"Metadata").ok()).and_then(|m| m.as_reference().ok());
    let xmp_text = xmp.and_then(|id| match doc.get_object(id) {
        Ok(Object::Stream(s)) => s.decompressed_content().ok().or_else(|| Some(s.content.clone())),
        _ => None,
    });
    if xmp_text.is_some_and(|t| patterns.iter().any(|p| p.is_match(&String::from_utf8_lossy(&t)))) {
        if let Ok(catalog) = doc.catalog_mut() {
            catalog.remove(b"Metadata");
        }
        removed.push("XMP".into());
    }
    removed
}

/// Blacks out searched text in every string the document holds outside its streams'
/// data; returns how many strings changed.
fn scrub_strings(doc: &mut Document, patterns: &[Regex]) -> u32 {
    fn scrub(object: &mut Object, patterns: &[Regex], depth: usize, count: &mut u32) {
        if depth > 32 {
            return;
        }
        match object {
            Object::String(..) => {
                let Some(text) = lopdf::decode_text_string(object).ok() else { return };
                if patterns.iter().any(|p| p.is_match(&text)) {
                    let blacked = patterns.iter().fold(text, |t, p| p.replace_all(&t, "\u{2588}").into_owned());
                    *object = lopdf::text_string(&blacked);
                    *count += 1;
                }
            }
            Object::Array(items) => items.iter_mut().for_each(|item| scrub(item, patterns, depth + 1, count)),
            Object::Dictionary(dict) => dict.iter_mut().for_each(|(_, value)| scrub(value, patterns, depth + 1, count)),
            Object::Stream(stream) => {
                stream.dict.iter_mut().for_each(|(_, value)| scrub(value, patterns, depth + 1, count))
            }
            _ => {}
        }
    }
    let mut count = 0;
    if !patterns.is_empty() {
        for object in doc.objects.values_mut() {
            scrub(object, patterns, 0, &mut count);
        }
    }
    count
}

/// Replaces each page of `pages` (0-based) in the redacted `path` with its rendering, the
/// boxes painted into the pixels.
fn rasterize_pages(path: &Path, pages: &BTreeSet<usize>, boxes: &Boxes, what: &Redaction) -> Result<(), ToolError> {
    let scratch = tempfile::tempdir().map_err(|e| ToolError::internal(format!("scratch directory: {e}")))?;
    let options = RenderOptions { size: RenderSize::Dpi(what.dpi), encoding: RasterEncoding::Png, password: None };
    let chosen: Vec<u32> = pages.iter().map(|&p| page_number(p)).collect();
    let rendered = render_pages(path, &options, |_| Ok(chosen), scratch.path(), "redacted")?;
    guarded("redact", || {
        let mut doc = open_unguarded(path)?;
        let page_ids: Vec<ObjectId> = doc.page_iter().collect();
        let fill = what.rgb.map(|c| u8::try_from(whole(c * 255.0).min(255)).unwrap_or(u8::MAX));
        for page in &rendered {
            let index = page.page as usize - 1;
            let mut pixels = image::open(&page.path)
                .map_err(|e| ToolError::internal(format!("page {} rendering: {e}", page.page)))?
                .into_rgb8();
            let page_dict = doc
                .get_dictionary(page_ids[index])
                .map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "a page is missing"))?;
            let frame = PageFrame::of(&doc, page_dict);
            let (sx, sy) = (f64::from(pixels.width()) / frame.width, f64::from(pixels.height()) / frame.height);
            for &[x0, y0, x1, y1] in boxes.get(&index).map_or(&[][..], Vec::as_slice) {
                let (px0, px1) = (whole((x0 * sx).floor()), whole((x1 * sx).ceil()));
                let (py0, py1) = (whole(((frame.height - y1) * sy).floor()), whole(((frame.height - y0) * sy).ceil()));
                for y in py0..py1.min(pixels.height()) {
                    for x in px0..px1.min(pixels.width()) {
                        pixels.put_pixel(x, y, image::Rgb(fill));
                    }
                }
            }
            let (width, height) = pixels.dimensions();
            let mut dict = Dictionary::new();
            dict.set("Type", Object::Name(b"XObject".to_vec()));
            dict.set("Subtype", Object::Name(b"Image".to_vec()));
            dict.set("Width", i64::from(width));
            dict.set("Height", i64::from(height));
            dict.set("ColorSpace", Object::Name(b"DeviceRGB".to_vec()));
            dict.set("BitsPerComponent", 8);
            let mut image = Stream::new(dict, pixels.into_raw());
            let _ = image.compress();
            let image_id = doc.add_object(image);
            let placed = Matrix([frame.width, 0.0, 0.0, frame.height, 0.0, 0.0]).then(frame.to_user);
            let content = format!("q {} cm /Redacted Do Q\n", placed.operands());
            let content_id = doc.add_object(Stream::new(Dictionary::new(), content.into_bytes()));
            let mut xobjects = Dictionary::new();
            xobjects.set("Redacted", Object::Reference(image_id));
            let mut resources = Dictionary::new();
            resources.set("XObject", xobjects);
            if let Ok(page) = doc.get_dictionary_mut(page_ids[index]) {
                page.set("Contents", Object::Reference(content_id));
                page.set("Resources", resources);
                page.remove(b"Annots");
                page.remove(b"Group");
            }
        }
        doc.prune_objects();
        save_atomic(&mut doc, path)
    })
}
