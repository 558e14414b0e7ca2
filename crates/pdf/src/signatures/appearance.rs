//! What a signature widget shows: nothing (an invisible signature), or a box with an image
//! and lines of text (who signed, when, why, where) in Helvetica, upright as the page displays.

use super::sign::{Signing, Visible, form};
use crate::stamp::geometry::{PageFrame, number};
use lopdf::{Dictionary, Document, Object, Stream};
use scanpro_core::ToolError;

/// Largest signature image, in pixels per side.
const MAX_IMAGE_SIDE: u32 = 4000;
const PADDING: f64 = 4.0;
/// Helvetica's average advance across mixed text, in ems: enough to keep lines inside the box.
const AVERAGE_ADVANCE: f64 = 0.52;
const LINE_SPACING: f64 = 1.2;
const MAX_FONT_SIZE: f64 = 12.0;
/// The box of a visible signature without an area: width, height and margin from the bottom
/// right corner, in points.
const DEFAULT_BOX: (f64, f64, f64) = (220.0, 70.0, 36.0);

/// The empty appearance of an invisible signature.
pub(crate) fn invisible() -> Stream {
    form(0.0, 0.0, None, Dictionary::new(), Vec::new())
}

/// The widget's rectangle in user space and its appearance, for `visible` on the page `frame`.
pub(crate) fn visible(
    doc: &mut Document,
    frame: &PageFrame,
    visible: &Visible,
    signing: &Signing<'_>,
) -> Result<([f64; 4], Stream), ToolError> {
    let [x, y, width, height] = visible.area.unwrap_or_else(|| default_box(frame));
    if !(x >= 0.0 && y >= 0.0 && width >= 20.0 && height >= 10.0)
        || x + width > frame.width + 0.5
        || y + height > frame.height + 0.5
    {
        return Err(ToolError::invalid_param(
            "area",
            format!(
                "[{x}, {y}, {width}, {height}] is not a box of at least 20 × 10 points inside the {} × {} point page",
                frame.width.round(),
                frame.height.round()
            ),
        ));
    }
    // Display space has its origin at the bottom left; the area is measured from the top left.
    let bottom = frame.height - y - height;
    let corners = [(x, bottom), (x + width, bottom), (x, bottom + height), (x + width, bottom + height)]
        .map(|(cx, cy)| frame.to_user.apply(cx, cy));
    let rect = [
        corners.iter().map(|c| c.0).fold(f64::INFINITY, f64::min),
        corners.iter().map(|c| c.1).fold(f64::INFINITY, f64::min),
        corners.iter().map(|c| c.0).fold(f64::NEG_INFINITY, f64::max),
        corners.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max),
    ];
    let [a, b, c, d, _, _] = frame.to_user.0;

    let lines = visible.text.clone().unwrap_or_else(|| default_lines(signing));
    let mut resources = Dictionary::new();
    let mut content = String::from("q\n0.5 w 0.3 0.3 0.3 RG 0.25 0.25 ");
    content += &format!("{} {} re S\n", number(width - 0.5), number(height - 0.5));
    let mut text_left = PADDING;
    if let Some(bytes) = &visible.image {
        let (image, pixels) = image_xobject(doc, bytes)?;
        let image_id = doc.add_object(image);
        resources.set("XObject", Dictionary::from_iter([("Img", Object::Reference(image_id))]));
        let room = if lines.is_empty() {
            (width - 2.0 * PADDING, height - 2.0 * PADDING)
        } else {
            ((height - 2.0 * PADDING).min(width / 3.0), height - 2.0 * PADDING)
        };
        let scale = (room.0 / f64::from(pixels.0)).min(room.1 / f64::from(pixels.1));
        let (w, h) = (f64::from(pixels.0) * scale, f64::from(pixels.1) * scale);
        let (ix, iy) = (PADDING + (room.0 - w) / 2.0, (height - h) / 2.0);
        content += &format!("q {} 0 0 {} {} {} cm /Img Do Q\n", number(w), number(h), number(ix), number(iy));
        text_left = PADDING * 2.0 + room.0;
    }
    if !lines.is_empty() {
        let longest = lines.iter().map(|line| line.chars().count()).max().unwrap_or(1).max(1);
        let text_width = (width - text_left - PADDING).max(1.0);
        #[expect(clippy::cast_precision_loss, reason = "line lengths are small")]
        let size = ((height - 2.0 * PADDING) / (lines.len() as f64 * LINE_SPACING))
            .min(text_width / (longest as f64 * AVERAGE_ADVANCE))
            .min(MAX_FONT_SIZE);
        let mut font = Dictionary::new();
        font.set("Type", Object::Name(b"Font".to_vec()));
        font.set("Subtype", Object::Name(b"Type1".to_vec()));
        font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
        font.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
        resources.set("Font", Dictionary::from_iter([("Helv", Object::Dictionary(font))]));
        #[expect(clippy::cast_precision_loss, reason = "line counts are small")]
        let block = lines.len() as f64 * size * LINE_SPACING;
        let first_baseline = (height + block) / 2.0 - size;
        content += &format!(
            "0 0 0 rg BT /Helv {} Tf {} TL {} {} Td\n",
            number(size),
            number(size * LINE_SPACING),
            number(text_left),
            number(first_baseline)
        );
        for line in &lines {
            content += &format!("<{}> Tj T*\n", win_ansi_hex(line));
        }
        content += "ET\n";
    }
    content += "Q\n";
    let mut stream = form(width, height, Some([a, b, c, d, 0.0, 0.0]), resources, content.into_bytes());
    let _ = stream.compress();
    Ok((rect, stream))
}

/// The default box, at the bottom right; on a small page, shrunk to fit with half the margin
/// left on each side.
fn default_box(frame: &PageFrame) -> [f64; 4] {
    let (width, height, margin) = DEFAULT_BOX;
    let (width, height) = (width.min(frame.width * 0.8), height.min(frame.height * 0.5));
    let margin = margin.min((frame.width - width) / 2.0).min((frame.height - height) / 2.0);
    [frame.width - width - margin, frame.height - height - margin, width, height]
}

fn default_lines(signing: &Signing<'_>) -> Vec<String> {
    let mut lines = vec![
        format!("Digitally signed by {}", signing.credentials.signer_name()),
        format!("Date: {}", signing.at.format("%Y-%m-%d %H:%M:%S UTC")),
    ];
    if let Some(reason) = &signing.reason {
        lines.push(format!("Reason: {reason}"));
    }
    if let Some(location) = &signing.location {
        lines.push(format!("Location: {location}"));
    }
    lines
}

/// `line` in WinAnsiEncoding as hex; characters outside Latin-1 show as `?`.
fn win_ansi_hex(line: &str) -> String {
    line.chars()
        .map(|c| match u32::from(c) {
            code @ (0x20..=0x7E | 0xA0..=0xFF) => code,
            _ => u32::from(b'?'),
        })
        .map(|code| format!("{code:02X}"))
        .collect()
}

/// The image as an RGB Image XObject (with a soft mask where it has transparency) and its size
/// in pixels.
fn image_xobject(doc: &mut Document, bytes: &[u8]) -> Result<(Stream, (u32, u32)), ToolError> {
    let unreadable =
        |e: &dyn std::fmt::Display| ToolError::invalid_param("image", format!("not a readable image ({e})"));
    let reader =
        image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| unreadable(&e))?;
    let (w, h) = reader.into_dimensions().map_err(|e| unreadable(&e))?;
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(ToolError::invalid_param(
            "image",
            format!("{w} × {h} pixels is larger than the {MAX_IMAGE_SIDE} pixels a side a signature image may have"),
        ));
    }
    let decoded = image::load_from_memory(bytes).map_err(|e| unreadable(&e))?.to_rgba8();
    let rgb: Vec<u8> = decoded.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect();
    let alpha: Vec<u8> = decoded.pixels().map(|p| p[3]).collect();
    let mut image = raw_image(w, h, b"DeviceRGB", rgb);
    if alpha.iter().any(|&a| a < 255) {
        let mut mask = raw_image(w, h, b"DeviceGray", alpha);
        let _ = mask.compress();
        image.dict.set("SMask", Object::Reference(doc.add_object(mask)));
    }
    let _ = image.compress();
    Ok((image, (w, h)))
}

fn raw_image(w: u32, h: u32, space: &[u8], samples: Vec<u8>) -> Stream {
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Image".to_vec()));
    dict.set("Width", Object::Integer(i64::from(w)));
    dict.set("Height", Object::Integer(i64::from(h)));
    dict.set("ColorSpace", Object::Name(space.to_vec()));
    dict.set("BitsPerComponent", Object::Integer(8));
    Stream::new(dict, samples)
}
