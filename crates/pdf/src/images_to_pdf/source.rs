//! Reading one input image into the pictures it contributes (one, or one per TIFF frame), each
//! with what page layout needs: pixel size, resolution and EXIF orientation.
//!
//! JPEG and PNG and WebP go to krilla as they are: a JPEG's bytes become the PDF image stream
//! unchanged (DCTDecode), PNG and WebP are decoded and deflated by krilla (alpha becomes an
//! SMask). TIFF frames are decoded with the `image` crate and handed over as raw pixels.

use super::tiff_tags::{self, FrameTags};
use image::{DynamicImage, ImageFormat, ImageReader};
use krilla::Data;
use krilla::image::{BitsPerComponent, CustomImage, Image, ImageColorspace};
use scanpro_core::{ErrorCode, ToolError};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, Cursor, Read, Seek, SeekFrom};
use std::sync::Arc;

/// Largest image accepted, in pixels: 150 megapixels is some 600 MB decoded as RGBA.
pub(crate) const MAX_IMAGE_PIXELS: u64 = 150_000_000;

/// The formats accepted, detected from content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Jpeg,
    Png,
    Webp,
    Tiff,
}

impl Kind {
    pub(crate) fn sniff(head: &[u8]) -> Option<Self> {
        match head {
            [0xFF, 0xD8, 0xFF, ..] => Some(Self::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Self::Png),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(Self::Webp),
            [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] | [b'I', b'I', 43, 0, ..] | [b'M', b'M', 0, 43, ..] => {
                Some(Self::Tiff)
            }
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Webp => "WebP",
            Self::Tiff => "TIFF",
        }
    }
}

/// One image to place on one page.
pub(crate) struct Picture {
    pub(crate) image: Image,
    /// Width and height in pixels, as stored (before orientation).
    pub(crate) pixels: (u32, u32),
    /// Pixels per inch (x, y) when the file states it.
    pub(crate) dpi: Option<(f32, f32)>,
    /// EXIF orientation, 1 to 8.
    pub(crate) orientation: u8,
}

/// The pictures of input number `index` (named `name` in messages).
pub(crate) fn pictures(bytes: Vec<u8>, kind: Kind, name: &str, index: usize) -> Result<Vec<Picture>, ToolError> {
    let pixels = check_size(&bytes, kind, name)?;
    let tags = match kind {
        Kind::Jpeg => jpeg_tags(&bytes),
        Kind::Png => png_tags(&bytes),
        Kind::Webp => webp_tags(&bytes),
        Kind::Tiff => return tiff_pictures(bytes, name, index),
    };
    let data = Data::from(bytes);
    let image = match kind {
        Kind::Jpeg => Image::from_jpeg(data, false),
        Kind::Png => Image::from_png(data, false),
        _ => Image::from_webp(data, false),
    }
    .map_err(|why| unreadable(name, kind, &why))?;
    Ok(vec![Picture { image, pixels, dpi: tags.dpi, orientation: tags.orientation }])
}

/// Refuses images too large to decode safely, from their header alone.
fn check_size(bytes: &[u8], kind: Kind, name: &str) -> Result<(u32, u32), ToolError> {
    let format = match kind {
        Kind::Jpeg => ImageFormat::Jpeg,
        Kind::Png => ImageFormat::Png,
        Kind::Webp => ImageFormat::WebP,
        Kind::Tiff => ImageFormat::Tiff,
    };
    let size = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| unreadable(name, kind, &e.to_string()))?;
    check_pixels(&format!("{name}: the image is"), size)?;
    Ok(size)
}

/// `what` ("photo.jpg: the image is") names the image in the message.
fn check_pixels(what: &str, (width, height): (u32, u32)) -> Result<(), ToolError> {
    if u64::from(width) * u64::from(height) <= MAX_IMAGE_PIXELS {
        return Ok(());
    }
    Err(ToolError::new(
        ErrorCode::ResourceLimit,
        format!("{what} {width} × {height} pixels, more than the {} megapixels accepted", MAX_IMAGE_PIXELS / 1_000_000),
    ))
}

fn unreadable(name: &str, kind: Kind, why: &str) -> ToolError {
    ToolError::new(ErrorCode::UnsupportedFormat, format!("{name}: this {} image cannot be read ({why})", kind.name()))
}

/// Orientation and resolution of a JPEG: JFIF density first (it is what most writers set), EXIF
/// resolution when JFIF states none.
fn jpeg_tags(bytes: &[u8]) -> FrameTags {
    let mut tags = FrameTags { orientation: 1, ..Default::default() };
    let mut jfif_dpi = None;
    let mut at = 2;
    while let Some(&[0xFF, marker, high, low]) = bytes.get(at..at + 4) {
        match marker {
            // Fill bytes, then markers that carry no length.
            0xFF => {
                at += 1;
                continue;
            }
            0x01 | 0xD0..=0xD7 => {
                at += 2;
                continue;
            }
            // Image data starts: no metadata after this.
            0xDA | 0xD9 => break,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([high, low]));
        let Some(segment) = bytes.get(at + 4..at + 2 + length) else { break };
        match marker {
            0xE0 if segment.starts_with(b"JFIF\0") && segment.len() >= 12 => {
                let x = f32::from(u16::from_be_bytes([segment[8], segment[9]]));
                let y = f32::from(u16::from_be_bytes([segment[10], segment[11]]));
                jfif_dpi = match segment[7] {
                    1 => Some((x, y)),
                    2 => Some((x * 2.54, y * 2.54)),
                    _ => None,
                };
            }
            0xE1 if segment.starts_with(b"Exif\0\0") => {
                if let Some(exif) = tiff_tags::first_frame(&segment[6..]) {
                    tags = exif;
                }
            }
            _ => {}
        }
        at += 2 + length;
    }
    tags.dpi = jfif_dpi.or(tags.dpi);
    tags
}

/// Orientation (`eXIf`) and resolution (`pHYs`, pixels per metre) of a PNG.
fn png_tags(bytes: &[u8]) -> FrameTags {
    let mut tags = FrameTags { orientation: 1, ..Default::default() };
    let mut at = 8;
    while let Some(header) = bytes.get(at..at + 8) {
        let length = u32::from_be_bytes(header[..4].try_into().unwrap()) as usize;
        let Some(data) = bytes.get(at + 8..(at + 8).saturating_add(length)) else { break };
        match &header[4..] {
            b"pHYs" if data.len() == 9 && data[8] == 1 => {
                let per_metre = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap()) as f32 * 0.0254;
                tags.dpi = Some((per_metre(&data[..4]), per_metre(&data[4..8])));
            }
            b"eXIf" => tags.orientation = tiff_tags::first_frame(data).map_or(1, |t| t.orientation),
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        at += 12 + length;
    }
    tags
}

/// Orientation from a WebP's `EXIF` chunk (WebP states no resolution).
fn webp_tags(bytes: &[u8]) -> FrameTags {
    let mut tags = FrameTags { orientation: 1, ..Default::default() };
    let mut at = 12;
    while let Some(header) = bytes.get(at..at + 8) {
        let length = u32::from_le_bytes(header[4..].try_into().unwrap()) as usize;
        let Some(data) = bytes.get(at + 8..(at + 8).saturating_add(length)) else { break };
        if &header[..4] == b"EXIF" {
            let exif = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
            tags.orientation = tiff_tags::first_frame(exif).map_or(1, |t| t.orientation);
        }
        at += 8 + length + (length & 1);
    }
    tags
}

/// Every frame of a TIFF, decoded. A file whose directories cannot be listed (BigTIFF) gives
/// its first frame, with no resolution.
fn tiff_pictures(bytes: Vec<u8>, name: &str, index: usize) -> Result<Vec<Picture>, ToolError> {
    let mut frames = tiff_tags::frames(&bytes);
    if frames.is_empty() {
        frames.push(FrameTags { ifd_offset: 0, orientation: 1, dpi: None });
    }
    let mut pictures = Vec::with_capacity(frames.len());
    for (number, frame) in frames.iter().enumerate() {
        let unreadable_frame = |why: String| unreadable(name, Kind::Tiff, &format!("frame {}: {why}", number + 1));
        let (width, height) =
            frame_reader(&bytes, frame.ifd_offset).into_dimensions().map_err(|e| unreadable_frame(e.to_string()))?;
        check_pixels(&format!("{name}: frame {} is", number + 1), (width, height))?;
        let decoded = frame_reader(&bytes, frame.ifd_offset).decode().map_err(|e| unreadable_frame(e.to_string()))?;
        let pixels = (decoded.width(), decoded.height());
        let image = Image::from_custom(RawPixels::new(decoded, (index, number)), false)
            .map_err(|why| unreadable(name, Kind::Tiff, &why))?;
        pictures.push(Picture { image, pixels, dpi: frame.dpi, orientation: frame.orientation });
    }
    Ok(pictures)
}

/// A reader of the frame whose directory is at `ifd_offset` (0: the first). The image crate
/// reads only a file's first frame, so the header is made to point at the wanted one.
fn frame_reader(bytes: &[u8], ifd_offset: u32) -> ImageReader<PatchedHeader<'_>> {
    let mut header = [0u8; 8];
    let kept = bytes.len().min(8);
    header[..kept].copy_from_slice(&bytes[..kept]);
    if ifd_offset != 0 {
        let offset = if header[0] == b'M' { ifd_offset.to_be_bytes() } else { ifd_offset.to_le_bytes() };
        header[4..].copy_from_slice(&offset);
    }
    ImageReader::with_format(PatchedHeader { bytes, header, position: 0 }, ImageFormat::Tiff)
}

/// The bytes of a TIFF file with its first eight bytes replaced, without copying the file.
struct PatchedHeader<'a> {
    bytes: &'a [u8],
    header: [u8; 8],
    position: u64,
}

impl BufRead for PatchedHeader<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let at = usize::try_from(self.position).unwrap_or(usize::MAX);
        Ok(if at < 8 { &self.header[at..] } else { self.bytes.get(at..).unwrap_or_default() })
    }

    fn consume(&mut self, amount: usize) {
        self.position += amount as u64;
    }
}

impl Read for PatchedHeader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl Seek for PatchedHeader<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(delta) => (self.bytes.len() as u64).checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        self.position = target.ok_or_else(|| std::io::Error::other("seek before the start"))?;
        Ok(self.position)
    }
}

/// Decoded pixels for krilla: gray or RGB, 8 bits, with an alpha channel when the image has one.
#[derive(Clone)]
struct RawPixels {
    /// Input and frame number: identifies the image far more cheaply than hashing its pixels.
    id: (usize, usize),
    size: (u32, u32),
    gray: bool,
    color: Arc<Vec<u8>>,
    alpha: Option<Arc<Vec<u8>>>,
}

impl RawPixels {
    fn new(image: DynamicImage, id: (usize, usize)) -> Self {
        let size = (image.width(), image.height());
        let (gray, has_alpha) = (!image.color().has_color(), image.color().has_alpha());
        let (color, alpha) = match (gray, has_alpha) {
            (true, false) => (image.into_luma8().into_raw(), None),
            (false, false) => (image.into_rgb8().into_raw(), None),
            (true, true) => split_alpha(&image.into_luma_alpha8().into_raw(), 1),
            (false, true) => split_alpha(&image.into_rgba8().into_raw(), 3),
        };
        Self { id, size, gray, color: Arc::new(color), alpha: alpha.map(Arc::new) }
    }
}

/// Interleaved samples with a trailing alpha → (colour samples, alpha samples).
fn split_alpha(samples: &[u8], colour_channels: usize) -> (Vec<u8>, Option<Vec<u8>>) {
    let stride = colour_channels + 1;
    let mut color = Vec::with_capacity(samples.len() / stride * colour_channels);
    let mut alpha = Vec::with_capacity(samples.len() / stride);
    for pixel in samples.chunks_exact(stride) {
        color.extend_from_slice(&pixel[..colour_channels]);
        alpha.push(pixel[colour_channels]);
    }
    (color, Some(alpha))
}

impl Hash for RawPixels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.id, self.size).hash(state);
    }
}

impl CustomImage for RawPixels {
    fn color_channel(&self) -> &[u8] {
        &self.color
    }

    fn alpha_channel(&self) -> Option<&[u8]> {
        self.alpha.as_deref().map(Vec::as_slice)
    }

    fn bits_per_component(&self) -> BitsPerComponent {
        BitsPerComponent::Eight
    }

    fn size(&self) -> (u32, u32) {
        self.size
    }

    fn icc_profile(&self) -> Option<&[u8]> {
        None
    }

    fn color_space(&self) -> ImageColorspace {
        if self.gray { ImageColorspace::Luma } else { ImageColorspace::Rgb }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_from_bytes() {
        assert_eq!(Kind::sniff(b"\xFF\xD8\xFF\xE0"), Some(Kind::Jpeg));
        assert_eq!(Kind::sniff(b"\x89PNG\r\n\x1a\n"), Some(Kind::Png));
        assert_eq!(Kind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Kind::Webp));
        assert_eq!(Kind::sniff(b"MM\0*\0\0\0\x08"), Some(Kind::Tiff));
        assert_eq!(Kind::sniff(b"GIF89a"), None);
        assert_eq!(Kind::sniff(b"%PDF-1.7"), None);
    }

    #[test]
    fn jfif_density_wins_over_exif() {
        let mut jpeg = b"\xFF\xD8".to_vec();
        // APP0 JFIF, units 2 (dots per cm), 100 × 50 per cm.
        jpeg.extend_from_slice(b"\xFF\xE0\x00\x10JFIF\0\x01\x02\x02\x00\x64\x00\x32\x00\x00");
        jpeg.extend_from_slice(b"\xFF\xDA\x00\x02");
        let tags = jpeg_tags(&jpeg);
        assert_eq!(tags.orientation, 1);
        let (x, y) = tags.dpi.unwrap();
        assert!((x - 254.0).abs() < 0.01 && (y - 127.0).abs() < 0.01, "{x} {y}");
    }

    #[test]
    fn png_physical_size() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&9u32.to_be_bytes());
        png.extend_from_slice(b"pHYs");
        png.extend_from_slice(&11811u32.to_be_bytes());
        png.extend_from_slice(&11811u32.to_be_bytes());
        png.extend_from_slice(&[1, 0, 0, 0, 0]);
        let (x, _) = png_tags(&png).dpi.unwrap();
        assert!((x - 300.0).abs() < 0.1, "{x}");
    }
}
