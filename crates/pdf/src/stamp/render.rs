//! Drawing the marks with krilla: one small PDF holding one page per mark content, each page
//! exactly the size of what it shows. krilla embeds each font once for the whole document,
//! subset to the glyphs used, with a `ToUnicode` map, so text stays extractable and a hundred
//! page numbers share one font.

use super::fonts::Metrics;
use super::{MarkContent, TextMark};
use crate::format;
use krilla::color::rgb;
use krilla::geom::{Point, Size};
use krilla::image::Image;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::text::{Font, TextDirection};
use krilla::{Data, Document, SerializeSettings};
use scanpro_core::params::StampFont;
use scanpro_core::{ErrorCode, ToolError};
use std::collections::HashMap;

/// The longer side of an image mark's page, in points: images are always scaled when placed,
/// so only their proportions matter here.
const IMAGE_PAGE_SIDE: f32 = 100.0;

/// The drawn marks: a PDF, and the size in points of page `i`, which shows content `i`.
pub(crate) struct Rendered {
    pub(crate) pdf: Vec<u8>,
    pub(crate) sizes: Vec<(f32, f32)>,
}

pub(crate) fn render(contents: &[MarkContent]) -> Result<Rendered, ToolError> {
    let settings = SerializeSettings { xmp_metadata: false, enable_tagging: false, ..SerializeSettings::default() };
    let mut document = Document::new_with(settings);
    let mut fonts = Fonts::default();
    let mut sizes = Vec::with_capacity(contents.len());
    for content in contents {
        let size = match content {
            MarkContent::Text(text) => draw_text(&mut document, &mut fonts, text)?,
            MarkContent::Image { data, name } => draw_image(&mut document, data, name)?,
        };
        sizes.push(size);
    }
    let pdf = document.finish().map_err(|e| ToolError::internal(format!("cannot draw the marks: {e:?}")))?;
    Ok(Rendered { pdf, sizes })
}

/// Each typeface parsed once per document, for krilla and for measuring.
#[derive(Default)]
struct Fonts(HashMap<StampFont, (Font, Metrics)>);

impl Fonts {
    fn get(&mut self, font: StampFont) -> &(Font, Metrics) {
        self.0.entry(font).or_insert_with(|| {
            let data = Data::from(super::fonts::font_data(font));
            // The embedded files are known-good fonts.
            (Font::new(data, 0).expect("embedded font loads"), Metrics::new(font))
        })
    }
}

/// Lines are centred on the widest; returns the page size.
fn draw_text(document: &mut Document, fonts: &mut Fonts, mark: &TextMark) -> Result<(f32, f32), ToolError> {
    let (font, metrics) = fonts.get(mark.font);
    let size = mark.font_size;
    let lines: Vec<&str> = mark.text.lines().collect();
    let widths: Vec<f32> = lines.iter().map(|line| metrics.width(line) * size).collect();
    let width = widths.iter().copied().fold(1.0, f32::max);
    let line_height = metrics.line_height() * size;
    let height = line_height * lines.len().max(1) as f32;
    let mut page = document.start_page_with(page_settings(width, height)?);
    let mut surface = page.surface();
    let [r, g, b] = mark.color;
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }));
    for (i, (line, line_width)) in lines.iter().zip(&widths).enumerate() {
        // krilla's page space runs downwards from the top left; `y` is the baseline.
        let baseline = line_height * i as f32 + metrics.ascent() * size;
        let start = Point::from_xy((width - line_width) / 2.0, baseline);
        surface.draw_text(start, font.clone(), size, line, false, TextDirection::Auto);
    }
    surface.finish();
    page.finish();
    Ok((width, height))
}

fn draw_image(document: &mut Document, data: &[u8], name: &str) -> Result<(f32, f32), ToolError> {
    let image = decode_image(data, name)?;
    let (pixels_wide, pixels_high) = image.size();
    let longer = pixels_wide.max(pixels_high).max(1) as f32;
    let width = (IMAGE_PAGE_SIDE * pixels_wide as f32 / longer).max(0.01);
    let height = (IMAGE_PAGE_SIDE * pixels_high as f32 / longer).max(0.01);
    let mut page = document.start_page_with(page_settings(width, height)?);
    let mut surface = page.surface();
    let size = Size::from_wh(width, height).ok_or_else(|| ToolError::internal("image mark has no size"))?;
    surface.draw_image(image, size);
    surface.finish();
    page.finish();
    Ok((width, height))
}

/// PNG or JPEG, told apart by their bytes; anything else, or an image that does not decode,
/// is refused as `unsupported_format`. krilla reads only the header until it writes the file,
/// so the image is decoded once here to refuse a damaged one by name.
fn decode_image(data: &[u8], name: &str) -> Result<Image, ToolError> {
    let unsupported = |why: String| ToolError::new(ErrorCode::UnsupportedFormat, format!("{name}: {why}"));
    let (format, decoded) = match image_kind(data) {
        Some(ImageKind::Png) => (image::ImageFormat::Png, Image::from_png(Data::from(data.to_vec()), true)),
        Some(ImageKind::Jpeg) => (image::ImageFormat::Jpeg, Image::from_jpeg(Data::from(data.to_vec()), true)),
        None => {
            let head = &data[..data.len().min(format::SNIFF_LEN)];
            return Err(unsupported(format!("this is {}, not a PNG or JPEG image", format::describe(head))));
        }
    };
    image::load_from_memory_with_format(data, format)
        .map_err(|e| unsupported(format!("the image cannot be decoded ({e})")))?;
    decoded.map_err(|e| unsupported(format!("the image cannot be decoded ({e})")))
}

/// The image formats a mark can be made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
}

/// PNG or JPEG, from the leading bytes.
pub fn image_kind(head: &[u8]) -> Option<ImageKind> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else {
        None
    }
}

fn page_settings(width: f32, height: f32) -> Result<PageSettings, ToolError> {
    PageSettings::from_wh(width, height)
        .ok_or_else(|| ToolError::internal(format!("a mark of {width} × {height} points cannot be drawn")))
}
