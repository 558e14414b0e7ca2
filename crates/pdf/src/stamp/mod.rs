//! Stamping: text and images drawn onto existing pages — watermarks, page numbers, visual
//! signatures.
//!
//! A caller describes the distinct things to draw (a [`StampPlan`]'s `contents`) and, per page,
//! the marks to place (which content, where, how big, turned, how opaque). Each content is
//! drawn once with krilla into a small PDF (fonts embedded, subset, with `ToUnicode` maps, so
//! `pdftotext` reads the text back), imported as a Form XObject, and placed on each page by a
//! few bytes of content: `q <matrix> cm /<mark> Do Q`, marked as an artifact. Stamping a 500-page book
//! with one watermark adds one XObject and 500 tiny streams; 500 page numbers share one font.
//!
//! The page's own content is wrapped in `q … Q` so whatever graphics state it leaves behind
//! (a transformation, a clip, a colour) cannot move or hide marks drawn over it; marks drawn
//! under it come first and restore the state they change. Positions are taken on the page as
//! displayed: the crop box, turned by `/Rotate`, so a mark reads upright on a landscape page
//! stored as a turned portrait one.
//!
//! The document is otherwise kept whole, as loaded (bookmarks, links, forms, tagging), and
//! rewritten as one clean revision.

mod fonts;
pub(crate) mod geometry;
mod import;
mod page_marks;
mod render;

pub use fonts::{check_glyphs, missing_glyph};
pub use geometry::MAX_TILES_PER_PAGE;
pub use render::{ImageKind, image_kind};

use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::page_tree::page_count;
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::ObjectId;
use page_marks::PageWriter;
use scanpro_core::ToolError;
use scanpro_core::params::{Layer, Position, StampFont};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Text to draw: one or more lines (`\n`), centred on each other.
#[derive(Debug, Clone, PartialEq)]
pub struct TextMark {
    pub text: String,
    pub font: StampFont,
    /// Points.
    pub font_size: f32,
    pub color: [u8; 3],
}

/// One distinct thing to draw.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkContent {
    Text(TextMark),
    /// PNG or JPEG bytes; `name` (the user's file name) is quoted when they are refused.
    Image {
        data: Vec<u8>,
        name: String,
    },
}

/// Where a mark goes on the displayed page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Anchor {
    /// One of nine anchors; the turned mark's upright bounding box keeps `margin` points from
    /// the edges it is anchored to.
    Position { position: Position, margin: f32 },
    /// The bottom-left corner of the mark's box (before turning), in points from the displayed
    /// page's bottom left.
    At { x: f32, y: f32 },
}

/// How big a mark is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MarkSize {
    /// As drawn: text at its font size.
    Natural,
    /// This fraction of the displayed page's width, keeping proportions.
    PageWidth(f32),
    /// Scaled to fit a box of this width and/or height (keeping proportions) and centred in
    /// it; with `grow: false` only ever shrunk.
    Fit { width: Option<f32>, height: Option<f32>, grow: bool },
}

/// How one mark is placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub anchor: Anchor,
    pub size: MarkSize,
    /// Degrees counterclockwise, about the mark's centre.
    pub rotation: f32,
    /// 0 to 1.
    pub opacity: f32,
    /// Repeat over the whole page with this gap in points between copies; the copy at `anchor`
    /// fixes the grid.
    pub tile: Option<f32>,
    pub layer: Layer,
}

/// One mark on one page: which content, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    /// Index into [`StampPlan::contents`].
    pub content: usize,
    pub placement: Placement,
}

/// Everything to draw on a document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StampPlan {
    pub contents: Vec<MarkContent>,
    /// 1-based page number → the marks on it, drawn in order.
    pub pages: BTreeMap<u32, Vec<Mark>>,
}

/// What stamping did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StampReport {
    /// Pages in the document.
    pub pages: u32,
    /// The pages that got marks, 1-based, in page order.
    pub stamped: Vec<u32>,
}

/// Draws the marks `plan` asks for on `input` and writes the result to `out`. `plan` gets the
/// page count and returns the plan (its errors are passed through); the document is read once.
pub fn stamp(
    input: &Path,
    plan: impl FnOnce(u32) -> Result<StampPlan, ToolError>,
    out: &Path,
) -> Result<StampReport, ToolError> {
    guarded("stamp", || {
        let mut doc = open_unguarded(input)?;
        prepare(&mut doc)?;
        let page_ids: Vec<ObjectId> = doc.page_iter().collect();
        let page_count = page_count(page_ids.len())?;
        let plan = plan(page_count)?;
        check_plan(&plan, page_count)?;
        let rendered = render::render(&plan.contents)?;
        let forms = import::import_marks(&rendered.pdf, &mut doc)?;
        let mut writer = PageWriter::new(&doc, &page_ids, &forms, &rendered.sizes);
        for (&number, marks) in &plan.pages {
            writer.stamp_page(&mut doc, page_ids[number as usize - 1], marks)?;
        }
        save_atomic(&mut doc, out)?;
        Ok(StampReport { pages: page_count, stamped: plan.pages.keys().copied().collect() })
    })
}

fn check_plan(plan: &StampPlan, page_count: u32) -> Result<(), ToolError> {
    if let Some(&bad) = plan.pages.keys().find(|&&n| n == 0 || n > page_count) {
        return Err(ToolError::invalid_param(
            "pages",
            format!("page {bad} does not exist (the document has {page_count} pages)"),
        ));
    }
    let contents = plan.contents.len();
    if plan.pages.values().flatten().any(|mark| mark.content >= contents) {
        return Err(ToolError::internal("a mark refers to content that was not given"));
    }
    Ok(())
}
