//! Where the ink is: each page rendered small and read pixel by pixel, to find blank pages
//! (`remove_blank_pages`) and white margins (`crop` with automatic trimming).
//!
//! A pixel is ink when it is darker than `white_level` (0–255, in gray): scans are never quite
//! white, so 240 by default rather than 255. Pages render at [`INK_DPI`]: a speck smaller than a
//! pixel there is not ink, which suits both jobs.
//!
//! Cropping sets each page's crop box, the part viewers show and print; the content outside
//! it stays in the file. Margins are given for the page as displayed (after `/Rotate`).

use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::pages::{PagesReport, select_pages};
use crate::render::{RasterEncoding, RenderOptions, RenderSize, render_pages};
use crate::rewrite::prepare;
use crate::save::save_atomic;
use crate::stamp::geometry::{PageFrame, real, visible_box};
use lopdf::{Object, ObjectId};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use std::path::Path;

/// Resolution of the renderings read: one pixel per point.
pub const INK_DPI: u32 = 72;
pub const DEFAULT_WHITE_LEVEL: u8 = 240;

/// One page's ink.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PageInk {
    /// Share of the page's pixels that are ink, 0 to 1.
    share: f64,
    /// The box holding every ink pixel, in points from the displayed page's bottom left:
    /// `[left, bottom, right, top]`; `None` on a blank page.
    bounds: Option<[f64; 4]>,
}

/// Renders every page of `input` and measures its ink.
fn measure(input: &Path, white_level: u8) -> Result<Vec<PageInk>, ToolError> {
    let scratch = tempfile::tempdir().map_err(|e| ToolError::internal(format!("scratch directory: {e}")))?;
    let options = RenderOptions { size: RenderSize::Dpi(INK_DPI), encoding: RasterEncoding::Png, password: None };
    let rendered = render_pages(input, &options, |count| Ok((1..=count).collect()), scratch.path(), "ink")?;
    rendered
        .iter()
        .map(|page| {
            let image = image::open(&page.path)
                .map_err(|e| ToolError::internal(format!("page {} rendering: {e}", page.page)))?
                .into_luma8();
            Ok(read_ink(&image, white_level))
        })
        .collect()
}

fn read_ink(image: &image::GrayImage, white_level: u8) -> PageInk {
    let (width, height) = image.dimensions();
    let (mut left, mut right, mut top, mut bottom) = (u32::MAX, 0, u32::MAX, 0);
    let mut ink = 0u64;
    for (x, y, pixel) in image.enumerate_pixels() {
        if pixel.0[0] < white_level {
            ink += 1;
            left = left.min(x);
            right = right.max(x);
            top = top.min(y);
            bottom = bottom.max(y);
        }
    }
    let total = u64::from(width) * u64::from(height);
    let share = if total == 0 { 0.0 } else { ink as f64 / total as f64 };
    // Pixel rows count from the top; points from the bottom. One pixel is one point.
    let scale = 72.0 / f64::from(INK_DPI);
    let bounds = (ink > 0).then(|| {
        [
            f64::from(left) * scale,
            f64::from(height - 1 - bottom) * scale,
            f64::from(right + 1) * scale,
            f64::from(height - top) * scale,
        ]
    });
    PageInk { share, bounds }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlankPagesReport {
    pub pages: u32,
    /// The pages removed (1-based, in the input's numbering).
    pub removed: Vec<u32>,
}

/// Removes the pages whose ink covers at most `max_ink_percent` of the page.
pub fn remove_blank_pages(
    input: &Path,
    max_ink_percent: f64,
    white_level: u8,
    out: &Path,
) -> Result<BlankPagesReport, ToolError> {
    let ink = guarded("remove_blank_pages", || measure(input, white_level))?;
    let blank: Vec<u32> =
        (1..).zip(&ink).filter(|(_, page)| page.share * 100.0 <= max_ink_percent).map(|(n, _)| n).collect();
    let kept: Vec<u32> = (1..).zip(&ink).map(|(n, _)| n).filter(|n| !blank.contains(n)).collect();
    if kept.is_empty() {
        return Err(ToolError::invalid_param(
            "threshold",
            format!("every page has at most {max_ink_percent}% ink, so every page would go; lower the threshold"),
        ));
    }
    let report: PagesReport = select_pages(input, |_| Ok(kept), out)?;
    Ok(BlankPagesReport { pages: report.source_pages, removed: blank })
}

/// What to cut off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crop {
    /// Points off each edge of the displayed page: `[top, right, bottom, left]`.
    Margins([f64; 4]),
    /// White margins trimmed to the ink, leaving `padding` points around it.
    Trim { padding: f64, white_level: u8 },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CropReport {
    pub pages: u32,
    /// Pages trimmed to their ink (blank pages are left whole).
    pub cropped: u32,
}

/// Sets each page's crop box as `crop` says.
pub fn crop(input: &Path, crop: Crop, out: &Path) -> Result<CropReport, ToolError> {
    let ink = match crop {
        Crop::Trim { white_level, .. } => Some(guarded("crop", || measure(input, white_level))?),
        Crop::Margins(_) => None,
    };
    guarded("crop", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let page_ids: Vec<ObjectId> = doc.page_iter().collect();
        let mut cropped = 0;
        for (index, &page_id) in page_ids.iter().enumerate() {
            let page =
                doc.get_dictionary(page_id).map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "a page is missing"))?;
            let frame = PageFrame::of(&doc, page);
            let visible = visible_box(&doc, page);
            // The kept part, in display space.
            let kept = match (crop, ink.as_ref().and_then(|ink| ink.get(index))) {
                (Crop::Margins([top, right, bottom, left]), _) => {
                    let kept = [left, bottom, frame.width - right, frame.height - top];
                    if kept[2] - kept[0] < 1.0 || kept[3] - kept[1] < 1.0 {
                        let why = format!(
                            "page {} is {:.0} × {:.0} pt: these margins leave nothing of it",
                            index + 1,
                            frame.width,
                            frame.height
                        );
                        return Err(ToolError::new(
                            ErrorCode::InvalidParams,
                            format!("top, right, bottom, left: {why}"),
                        ));
                    }
                    kept
                }
                (Crop::Trim { padding, .. }, Some(PageInk { bounds: Some(bounds), .. })) => [
                    (bounds[0] - padding).max(0.0),
                    (bounds[1] - padding).max(0.0),
                    (bounds[2] + padding).min(frame.width),
                    (bounds[3] + padding).min(frame.height),
                ],
                _ => continue,
            };
            let (x0, y0) = frame.to_user.apply(kept[0], kept[1]);
            let (x1, y1) = frame.to_user.apply(kept[2], kept[3]);
            let user = [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)];
            let user =
                [user[0].max(visible[0]), user[1].max(visible[1]), user[2].min(visible[2]), user[3].min(visible[3])];
            let crop_box: Vec<Object> = user.iter().map(|&n| real(n)).collect();
            if let Ok(page) = doc.get_dictionary_mut(page_id) {
                page.set("CropBox", crop_box);
                cropped += 1;
            }
        }
        save_atomic(&mut doc, out)?;
        Ok(CropReport { pages: prepared.pages, cropped })
    })
}
