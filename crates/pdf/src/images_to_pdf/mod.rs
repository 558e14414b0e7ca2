//! `images_to_pdf`: one page per image (per frame of a multi-page TIFF), in input order, written
//! with krilla.
//!
//! - Formats, detected from the bytes: JPEG, PNG, WebP, TIFF (every frame becomes a page).
//!   JPEG bytes go into the PDF unchanged (DCTDecode); PNG and WebP are stored losslessly
//!   (Flate), their alpha channel as a soft mask; TIFF frames are decoded and stored losslessly.
//! - Page size `fit`: the image at its own resolution (JFIF or EXIF density for JPEG, `pHYs` for
//!   PNG, the resolution tags for TIFF; 72 dpi when the file states none, as WebP never does),
//!   plus the margin. A page never exceeds 200 inches (14,400 points, the PDF limit) nor goes
//!   below one point: the image is scaled to fit.
//! - Page size `a4` / `letter`: the image is scaled (up or down) to fill the space inside the
//!   margins, keeping its aspect ratio, and centred; `orientation` `auto` turns the page to
//!   landscape for an image wider than tall.
//! - EXIF orientation (JPEG, PNG `eXIf`, WebP `EXIF`, TIFF `Orientation`) is honoured by
//!   placing the image turned or mirrored: the pixels, and a JPEG's bytes, stay as they are.

mod source;
mod tiff_tags;

use crate::format;
use crate::guard::guarded;
use crate::render::write_atomic;
use krilla::Document;
use krilla::error::KrillaError;
use krilla::geom::{Size, Transform};
use krilla::page::PageSettings;
use scanpro_core::params::{ImagePageOrientation, ImagePageSize, ImagesToPdfParams};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use source::{Kind, Picture};
use std::path::Path;

/// The PDF limit on a page side, in points (200 inches).
const MAX_PAGE_PT: f32 = 14_400.0;
/// Resolutions outside this range are taken for mistakes in the file, and ignored.
const PLAUSIBLE_DPI: std::ops::RangeInclusive<f32> = 10.0..=10_000.0;
/// The resolution assumed when a file states none.
const DEFAULT_DPI: f32 = 72.0;
const A4_PT: (f32, f32) = (595.276, 841.89);
const LETTER_PT: (f32, f32) = (612.0, 792.0);

/// One input image: where it is and the name the user knows it by (used in messages).
#[derive(Debug, Clone, Copy)]
pub struct ImageInput<'a> {
    pub path: &'a Path,
    pub name: &'a str,
}

/// What was placed on each page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImagePage {
    /// 0-based index of the input the page shows.
    pub input: usize,
    /// 1-based frame of a multi-page TIFF (1 for other formats).
    pub frame: usize,
    /// Page width and height in points.
    pub width_pt: f32,
    pub height_pt: f32,
    /// The image's horizontal resolution as used for `fit` (72 when the file states none).
    pub dpi: f32,
    /// The EXIF orientation applied (1 = as stored).
    pub orientation: u8,
}

/// Writes one page per image to `out`.
pub fn images_to_pdf(
    inputs: &[ImageInput<'_>],
    params: &ImagesToPdfParams,
    out: &Path,
) -> Result<Vec<ImagePage>, ToolError> {
    guarded("images_to_pdf", || {
        let mut document = Document::new();
        let mut pages = Vec::new();
        let mut images = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            for (frame, picture) in read_input(input, index)?.into_iter().enumerate() {
                let placement = place(&picture, params);
                draw_page(&mut document, &picture, &placement);
                pages.push(ImagePage {
                    input: index,
                    frame: frame + 1,
                    width_pt: placement.page.0,
                    height_pt: placement.page.1,
                    dpi: placement.dpi,
                    orientation: picture.orientation,
                });
                images.push((picture.image, input.name));
            }
        }
        let bytes = document.finish().map_err(|e| krilla_error(e, &images))?;
        write_atomic(&bytes, out)?;
        Ok(pages)
    })
}

fn read_input(input: &ImageInput<'_>, index: usize) -> Result<Vec<Picture>, ToolError> {
    let bytes = std::fs::read(input.path)
        .map_err(|e| ToolError::internal(format!("cannot read {}: {e}", input.path.display())))?;
    let Some(kind) = Kind::sniff(&bytes) else {
        let head = &bytes[..bytes.len().min(format::SNIFF_LEN)];
        return Err(ToolError::new(
            ErrorCode::UnsupportedFormat,
            format!("{}: this is {}, not a JPEG, PNG, WebP or TIFF image", input.name, format::describe(head)),
        ));
    };
    source::pictures(bytes, kind, input.name, index)
}

/// Where a picture goes: the page size, the matrix that maps the stored image (drawn at
/// `image_pt`) onto the page, and the resolution used.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Placement {
    page: (f32, f32),
    image_pt: (f32, f32),
    transform: Transform,
    dpi: f32,
}

fn place(picture: &Picture, params: &ImagesToPdfParams) -> Placement {
    let (dpi_x, dpi_y) = picture
        .dpi
        .filter(|(x, y)| PLAUSIBLE_DPI.contains(x) && PLAUSIBLE_DPI.contains(y))
        .unwrap_or((DEFAULT_DPI, DEFAULT_DPI));
    let stored = (picture.pixels.0 as f32 * 72.0 / dpi_x, picture.pixels.1 as f32 * 72.0 / dpi_y);
    let turned = (5..=8).contains(&picture.orientation);
    let shown = if turned { (stored.1, stored.0) } else { stored };
    let margin = params.margin_pt();
    let (page, scale) = match params.page_size {
        ImagePageSize::Fit => fit_page(shown, margin),
        ImagePageSize::A4 => paper_page(A4_PT, shown, margin, params.orientation),
        ImagePageSize::Letter => paper_page(LETTER_PT, shown, margin, params.orientation),
    };
    let offset = ((page.0 - shown.0 * scale) / 2.0, (page.1 - shown.1 * scale) / 2.0);
    let [a, b, c, d, e, f] = orientation_matrix(picture.orientation, stored);
    let transform =
        Transform::from_row(scale * a, scale * b, scale * c, scale * d, scale * e + offset.0, scale * f + offset.1);
    Placement { page, image_pt: stored, transform, dpi: dpi_x }
}

/// A page the size of the image plus margins, the image scaled only to keep the page within
/// one point and [`MAX_PAGE_PT`].
fn fit_page(shown: (f32, f32), margin: f32) -> ((f32, f32), f32) {
    let (small, large) = (shown.0.min(shown.1), shown.0.max(shown.1));
    let grow = if small < 1.0 { 1.0 / small } else { 1.0 };
    let scale = grow.min((MAX_PAGE_PT - 2.0 * margin) / large);
    ((shown.0 * scale + 2.0 * margin, shown.1 * scale + 2.0 * margin), scale)
}

/// A paper page, turned as asked, with the image filling the space inside the margins.
fn paper_page(
    portrait: (f32, f32),
    shown: (f32, f32),
    margin: f32,
    orientation: ImagePageOrientation,
) -> ((f32, f32), f32) {
    let landscape = match orientation {
        ImagePageOrientation::Auto => shown.0 > shown.1,
        ImagePageOrientation::Portrait => false,
        ImagePageOrientation::Landscape => true,
    };
    let page = if landscape { (portrait.1, portrait.0) } else { portrait };
    let scale = ((page.0 - 2.0 * margin) / shown.0).min((page.1 - 2.0 * margin) / shown.1);
    (page, scale)
}

/// The affine map `[a, b, c, d, e, f]` (x' = a·x + c·y + e, y' = b·x + d·y + f, y pointing
/// down) that shows an image of `size` stored with EXIF `orientation` the right way up, with
/// its top-left corner at the origin.
fn orientation_matrix(orientation: u8, (w, h): (f32, f32)) -> [f32; 6] {
    match orientation {
        2 => [-1.0, 0.0, 0.0, 1.0, w, 0.0],  // mirrored
        3 => [-1.0, 0.0, 0.0, -1.0, w, h],   // upside down
        4 => [1.0, 0.0, 0.0, -1.0, 0.0, h],  // mirrored upside down
        5 => [0.0, 1.0, 1.0, 0.0, 0.0, 0.0], // transposed
        6 => [0.0, 1.0, -1.0, 0.0, h, 0.0],  // needs a quarter turn clockwise
        7 => [0.0, -1.0, -1.0, 0.0, h, w],   // transversed
        8 => [0.0, -1.0, 1.0, 0.0, 0.0, w],  // needs a quarter turn counter-clockwise
        _ => [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
    }
}

fn draw_page(document: &mut Document, picture: &Picture, placement: &Placement) {
    // Sizes are positive and finite by construction: a picture has at least one pixel.
    let settings = PageSettings::from_wh(placement.page.0, placement.page.1).expect("positive page size");
    let image_size = Size::from_wh(placement.image_pt.0, placement.image_pt.1).expect("positive image size");
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    surface.push_transform(&placement.transform);
    surface.draw_image(picture.image.clone(), image_size);
    surface.pop();
    surface.finish();
    page.finish();
}

/// Names the input behind an image krilla could not encode.
fn krilla_error(error: KrillaError, images: &[(krilla::image::Image, &str)]) -> ToolError {
    if let KrillaError::Image(image, _, why) = &error {
        let name = images.iter().find(|(i, _)| i == image).map_or("an image", |(_, name)| name);
        return ToolError::new(ErrorCode::UnsupportedFormat, format!("{name}: the image cannot be decoded ({why})"));
    }
    ToolError::internal(format!("writing the PDF failed: {error:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(m: [f32; 6], (x, y): (f32, f32)) -> (f32, f32) {
        (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
    }

    #[test]
    fn orientations_map_the_image_onto_its_shown_box() {
        let (w, h) = (40.0, 30.0);
        for orientation in 1..=8 {
            let m = orientation_matrix(orientation, (w, h));
            let shown = if orientation >= 5 { (h, w) } else { (w, h) };
            let mut corners: Vec<_> = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)].map(|p| apply(m, p)).to_vec();
            corners.sort_by(|a, b| a.partial_cmp(b).unwrap());
            assert_eq!(corners, [(0.0, 0.0), (0.0, shown.1), (shown.0, 0.0), shown], "orientation {orientation}");
        }
        // 6: the stored top-left corner ends top-right (a quarter turn clockwise).
        assert_eq!(apply(orientation_matrix(6, (w, h)), (0.0, 0.0)), (h, 0.0));
        // 8: the stored top-left corner ends bottom-left.
        assert_eq!(apply(orientation_matrix(8, (w, h)), (0.0, 0.0)), (0.0, w));
    }

    #[test]
    fn paper_pages_turn_and_fill_the_margins() {
        let (page, scale) = paper_page(A4_PT, (800.0, 600.0), 36.0, ImagePageOrientation::Auto);
        assert_eq!(page, (A4_PT.1, A4_PT.0));
        assert!(((800.0 * scale) - (A4_PT.1 - 72.0)).abs() < 0.01 || ((600.0 * scale) - (A4_PT.0 - 72.0)).abs() < 0.01);
        let (page, _) = paper_page(LETTER_PT, (800.0, 600.0), 36.0, ImagePageOrientation::Portrait);
        assert_eq!(page, LETTER_PT);
    }

    #[test]
    fn fit_pages_stay_within_pdf_limits() {
        assert_eq!(fit_page((100.0, 50.0), 10.0), ((120.0, 70.0), 1.0));
        let (page, scale) = fit_page((28_800.0, 100.0), 0.0);
        assert_eq!((page.0, scale), (MAX_PAGE_PT, 0.5));
        let (page, _) = fit_page((0.5, 2.0), 0.0);
        assert_eq!(page, (1.0, 4.0));
    }
}
