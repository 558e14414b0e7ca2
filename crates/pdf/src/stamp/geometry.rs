//! Where marks land: the displayed page (crop box turned by `/Rotate`) as the user sees it,
//! and the matrices that carry a mark's own space onto the page's user space.

use super::{Anchor, MarkSize, Placement};
use crate::dests::deref;
use crate::page_tree::{DEFAULT_MEDIA_BOX, inherited, rotation};
use lopdf::{Dictionary, Document, Object};
use scanpro_core::ToolError;

/// Most copies of one tiled mark on one page: a tiny mark tiled over a poster would otherwise
/// make a content stream of megabytes per page.
pub const MAX_TILES_PER_PAGE: usize = 2_000;

/// An affine transform `[a b c d e f]` as PDF writes it (row vectors: `p' = p × M`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Matrix(pub(crate) [f64; 6]);

impl Matrix {
    pub(crate) fn translate(x: f64, y: f64) -> Self {
        Self([1.0, 0.0, 0.0, 1.0, x, y])
    }

    pub(crate) fn scale(s: f64) -> Self {
        Self([s, 0.0, 0.0, s, 0.0, 0.0])
    }

    /// Counterclockwise by `degrees`.
    pub(crate) fn rotate(degrees: f64) -> Self {
        let (sin, cos) = degrees.to_radians().sin_cos();
        Self([cos, sin, -sin, cos, 0.0, 0.0])
    }

    /// `self` first, then `next`.
    pub(crate) fn then(self, next: Self) -> Self {
        let [a, b, c, d, e, f] = self.0;
        let [na, nb, nc, nd, ne, nf] = next.0;
        Self([
            a * na + b * nc,
            a * nb + b * nd,
            c * na + d * nc,
            c * nb + d * nd,
            e * na + f * nc + ne,
            e * nb + f * nd + nf,
        ])
    }

    pub(crate) fn apply(self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }

    /// The six numbers as a content-stream operand list.
    pub(crate) fn operands(self) -> String {
        self.0.iter().map(|&n| number(n)).collect::<Vec<_>>().join(" ")
    }
}

/// An integer or real object's value.
pub(crate) fn number_value(object: &Object) -> Option<f64> {
    match object {
        Object::Integer(n) => Some(*n as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

/// A PDF real number; page coordinates are far inside `f32`'s range and precision.
#[expect(clippy::cast_possible_truncation, reason = "page coordinates fit f32")]
pub(crate) fn real(n: f64) -> Object {
    Object::Real(n as f32)
}

/// A number for a content stream: at most 4 decimals, no exponent, no `-0`.
pub(crate) fn number(n: f64) -> String {
    let text = format!("{:.4}", n);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" || text.is_empty() { "0".into() } else { text.to_owned() }
}

/// The page as displayed: its size in points and the map from display space (origin at the
/// displayed bottom left) to the page's user space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PageFrame {
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) to_user: Matrix,
}

impl PageFrame {
    pub(crate) fn of(doc: &Document, page: &Dictionary) -> Self {
        let [x0, y0, x1, y1] = visible_box(doc, page);
        let (w, h) = (x1 - x0, y1 - y0);
        // `/Rotate` turns the page clockwise for display.
        let (width, height, m) = match rotation(doc, page) {
            90 => (h, w, [0.0, 1.0, -1.0, 0.0, x1, y0]),
            180 => (w, h, [-1.0, 0.0, 0.0, -1.0, x1, y1]),
            270 => (h, w, [0.0, -1.0, 1.0, 0.0, x0, y1]),
            _ => (w, h, [1.0, 0.0, 0.0, 1.0, x0, y0]),
        };
        Self { width, height, to_user: Matrix(m) }
    }
}

/// The crop box clipped to the media box (what readers show), normalised to
/// `[left bottom right top]`.
pub(crate) fn visible_box(doc: &Document, page: &Dictionary) -> [f64; 4] {
    let default = DEFAULT_MEDIA_BOX.map(|n| n as f64);
    let media = read_box(doc, page, b"MediaBox").unwrap_or(default);
    let Some(crop) = read_box(doc, page, b"CropBox") else { return media };
    let clipped = [crop[0].max(media[0]), crop[1].max(media[1]), crop[2].min(media[2]), crop[3].min(media[3])];
    if clipped[2] - clipped[0] >= 1.0 && clipped[3] - clipped[1] >= 1.0 { clipped } else { media }
}

fn read_box(doc: &Document, page: &Dictionary, key: &[u8]) -> Option<[f64; 4]> {
    let items = deref(doc, inherited(doc, page, key))?.as_array().ok()?;
    let numbers: Vec<f64> = items.iter().filter_map(|item| deref(doc, Some(item)).and_then(number_value)).collect();
    let [a, b, c, d] = numbers[..] else { return None };
    let rect = [a.min(c), b.min(d), a.max(c), b.max(d)];
    (rect.iter().all(|n| n.is_finite()) && rect[2] - rect[0] >= 1.0 && rect[3] - rect[1] >= 1.0).then_some(rect)
}

/// The matrices (mark space → page user space) of every copy of a mark of natural size
/// `natural` placed by `placement` on `frame`.
pub(crate) fn place(frame: &PageFrame, natural: (f32, f32), placement: &Placement) -> Result<Vec<Matrix>, ToolError> {
    let fitted = fit(frame, natural, placement.size);
    let turn = f64::from(placement.rotation);
    let (sin, cos) = turn.to_radians().sin_cos();
    let (bw, bh) = fitted.box_size;
    // The upright bounding box of the turned mark, which anchors and tiles align.
    let extent = (bw * cos.abs() + bh * sin.abs(), bw * sin.abs() + bh * cos.abs());
    let centre = centre(frame, (bw, bh), extent, placement.anchor);
    let local = Matrix::scale(fitted.scale)
        .then(Matrix::translate(fitted.offset.0 - bw / 2.0, fitted.offset.1 - bh / 2.0))
        .then(Matrix::rotate(turn));
    let centres = match placement.tile {
        None => vec![centre],
        Some(spacing) => tile_centres(frame, centre, (bw, bh), turn, f64::from(spacing))?,
    };
    Ok(centres.into_iter().map(|(x, y)| local.then(Matrix::translate(x, y)).then(frame.to_user)).collect())
}

/// How a mark's natural size becomes its box on one page.
struct Fitted {
    /// Mark space → points.
    scale: f64,
    /// The box the mark is placed by, in points.
    box_size: (f64, f64),
    /// Where the scaled mark sits inside its box (centred).
    offset: (f64, f64),
}

fn fit(frame: &PageFrame, natural: (f32, f32), size: MarkSize) -> Fitted {
    let (nw, nh) = (f64::from(natural.0).max(0.01), f64::from(natural.1).max(0.01));
    let plain = |scale: f64| Fitted { scale, box_size: (nw * scale, nh * scale), offset: (0.0, 0.0) };
    match size {
        MarkSize::Natural => plain(1.0),
        MarkSize::PageWidth(fraction) => plain(f64::from(fraction) * frame.width / nw),
        MarkSize::Fit { width, height, grow } => {
            let (width, height) = (width.map(f64::from), height.map(f64::from));
            let scale = match (width, height) {
                (Some(w), Some(h)) => (w / nw).min(h / nh),
                (Some(w), None) => w / nw,
                (None, Some(h)) => h / nh,
                (None, None) => 1.0,
            };
            let scale = if grow { scale } else { scale.min(1.0) };
            let box_size = (width.unwrap_or(nw * scale), height.unwrap_or(nh * scale));
            let offset = ((box_size.0 - nw * scale) / 2.0, (box_size.1 - nh * scale) / 2.0);
            Fitted { scale, box_size, offset }
        }
    }
}

/// The centre of the mark on the displayed page.
fn centre(frame: &PageFrame, box_size: (f64, f64), extent: (f64, f64), anchor: Anchor) -> (f64, f64) {
    match anchor {
        Anchor::At { x, y } => (f64::from(x) + box_size.0 / 2.0, f64::from(y) + box_size.1 / 2.0),
        Anchor::Position { position, margin } => {
            let (h, v) = position.alignment();
            let margin = f64::from(margin);
            let along = |align: i8, length: f64, extent: f64| match align {
                -1 => margin + extent / 2.0,
                0 => length / 2.0,
                _ => length - margin - extent / 2.0,
            };
            (along(h, frame.width, extent.0), along(v, frame.height, extent.1))
        }
    }
}

/// Centres of copies tiling the page: rows of copies running along the turned mark, `spacing`
/// apart along the row and between rows, every other row shifted by half a step (brickwork,
/// so gaps do not line up), through `centre`. Only copies that can show on the page are kept.
fn tile_centres(
    frame: &PageFrame,
    centre: (f64, f64),
    box_size: (f64, f64),
    turn: f64,
    spacing: f64,
) -> Result<Vec<(f64, f64)>, ToolError> {
    let (sin, cos) = turn.to_radians().sin_cos();
    let along = (box_size.0 + spacing).max(0.01);
    let across = (box_size.1 + spacing).max(0.01);
    // A copy shows if its centre is within its own half-diagonal of the page.
    let reach = box_size.0.hypot(box_size.1) / 2.0;
    let (left, bottom, right, top) = (-reach, -reach, frame.width + reach, frame.height + reach);
    // Lattice coordinates of the corners bound the rows and columns to try.
    let corners = [(left, bottom), (right, bottom), (left, top), (right, top)];
    let coordinates = |(x, y): (f64, f64)| {
        let (dx, dy) = (x - centre.0, y - centre.1);
        ((dx * cos + dy * sin) / along, (-dx * sin + dy * cos) / across)
    };
    let (mut i_range, mut j_range) = ((f64::MAX, f64::MIN), (f64::MAX, f64::MIN));
    for corner in corners {
        let (i, j) = coordinates(corner);
        i_range = (i_range.0.min(i), i_range.1.max(i));
        j_range = (j_range.0.min(j), j_range.1.max(j));
    }
    let count = (i_range.1 - i_range.0 + 2.0) * (j_range.1 - j_range.0 + 2.0);
    let too_many = || {
        ToolError::invalid_param(
            "tile",
            format!(
                "the page would need more than {MAX_TILES_PER_PAGE} copies; make the mark bigger or the spacing wider"
            ),
        )
    };
    if !count.is_finite() || count > 4.0 * MAX_TILES_PER_PAGE as f64 {
        return Err(too_many());
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "tile indices around the page, their spans counted just above; far out they saturate"
    )]
    let (i_first, i_last, j_first, j_last) =
        (i_range.0.floor() as i64, i_range.1.ceil() as i64, j_range.0.floor() as i64, j_range.1.ceil() as i64);
    let mut centres = Vec::new();
    for j in j_first..=j_last {
        let shift = if j % 2 == 0 { 0.0 } else { 0.5 };
        for i in (i_first - 1)..=i_last {
            let (u, v) = ((i as f64 + shift) * along, j as f64 * across);
            let (x, y) = (centre.0 + u * cos - v * sin, centre.1 + u * sin + v * cos);
            if (left..=right).contains(&x) && (bottom..=top).contains(&y) {
                centres.push((x, y));
            }
        }
    }
    if centres.len() > MAX_TILES_PER_PAGE {
        return Err(too_many());
    }
    Ok(centres)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scanpro_core::params::{Layer, Position};

    fn frame(rotate: i64) -> PageFrame {
        let mut page = Dictionary::new();
        page.set(
            "MediaBox",
            vec![Object::Integer(10), Object::Integer(20), Object::Integer(610), Object::Integer(820)],
        );
        page.set("Rotate", rotate);
        PageFrame::of(&Document::new(), &page)
    }

    fn placement(anchor: Anchor) -> Placement {
        Placement { anchor, size: MarkSize::Natural, rotation: 0.0, opacity: 1.0, tile: None, layer: Layer::Over }
    }

    #[test]
    fn display_corners_map_to_the_user_space_corners_readers_show_there() {
        // Display bottom-left of a page turned 90° clockwise is the user space bottom right.
        let corners = |rotate| {
            let f = frame(rotate);
            (f.width, f.height, f.to_user.apply(0.0, 0.0), f.to_user.apply(f.width, f.height))
        };
        assert_eq!(corners(0), (600.0, 800.0, (10.0, 20.0), (610.0, 820.0)));
        assert_eq!(corners(90), (800.0, 600.0, (610.0, 20.0), (10.0, 820.0)));
        assert_eq!(corners(180), (600.0, 800.0, (610.0, 820.0), (10.0, 20.0)));
        assert_eq!(corners(270), (800.0, 600.0, (10.0, 820.0), (610.0, 20.0)));
    }

    #[test]
    fn anchors_keep_the_margin_from_their_edges() {
        let f = frame(0);
        let anchored = Anchor::Position { position: Position::TopRight, margin: 30.0 };
        let m = place(&f, (100.0, 20.0), &placement(anchored)).unwrap()[0];
        // The mark's top-right corner is 30 pt in from the crop box's top-right (610, 820).
        assert_eq!(m.apply(100.0, 20.0), (580.0, 790.0));
        let m = place(&f, (100.0, 20.0), &placement(Anchor::At { x: 5.0, y: 7.0 })).unwrap()[0];
        assert_eq!(m.apply(0.0, 0.0), (15.0, 27.0));
    }

    #[test]
    fn tiles_cover_the_page_and_are_bounded() {
        let f = frame(0);
        let mut p = placement(Anchor::Position { position: Position::Center, margin: 0.0 });
        p.tile = Some(0.0);
        // 9 rows of 7 (a few more in the shifted rows, partly off the page).
        let copies = place(&f, (100.0, 100.0), &p).unwrap().len();
        assert!((63..=72).contains(&copies), "{copies}");
        assert!(place(&f, (1.0, 1.0), &p).is_err());
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(-0.00001), "0");
        assert_eq!(number(12.345678), "12.3457");
        assert_eq!(Matrix::rotate(90.0).operands(), "0 1 -1 0 0 0");
    }
}
