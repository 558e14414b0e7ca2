//! Rendered pixels to PNG or JPEG bytes.
//!
//! Pages arrive as opaque RGBA (rendered on white). A page without colour is written as 8-bit
//! gray: a third of the data to compress, so a text page encodes faster and smaller.
//!
//! PNG settings, measured on 40 book pages at 150 dpi (`bench/render.py`'s input): deflate
//! level 1 with the `Up` filter encodes them in about 0.45 s and 9.1 MB. Adaptive filtering
//! costs two to three times the time for 6–25 % smaller files; the fastest deflate (`Fast`)
//! saves little time for 14.4 MB; the default level takes four times as long for 7.6 MB.
//! Images under a megapixel (thumbnails) take the default level with adaptive filtering: some
//! 1 ms more per thumbnail for files 30 % smaller, which is what a web page loading dozens of
//! them needs.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, ImageError};

/// How to encode rendered pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RasterEncoding {
    Png,
    /// Quality 1 to 100.
    Jpeg {
        quality: u8,
    },
}

impl RasterEncoding {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg { .. } => "jpg",
        }
    }
}

/// Encodes `rgba` (opaque, `width` × `height`) as `encoding`.
pub(crate) fn encode(rgba: &[u8], width: u32, height: u32, encoding: RasterEncoding) -> Result<Vec<u8>, ImageError> {
    let (samples, color) = match to_gray(rgba) {
        Some(gray) => (gray, ExtendedColorType::L8),
        None => (to_rgb(rgba), ExtendedColorType::Rgb8),
    };
    let mut out = Vec::with_capacity(samples.len() / 4);
    let result = match encoding {
        RasterEncoding::Png => {
            let (compression, filter) = png_settings(u64::from(width) * u64::from(height));
            PngEncoder::new_with_quality(&mut out, compression, filter).write_image(&samples, width, height, color)
        }
        RasterEncoding::Jpeg { quality } => {
            JpegEncoder::new_with_quality(&mut out, quality).write_image(&samples, width, height, color)
        }
    };
    result?;
    Ok(out)
}

/// Fast deflate for pages, a tighter one for small images (see the module docs).
fn png_settings(pixels: u64) -> (CompressionType, FilterType) {
    const SMALL: u64 = 1_000_000;
    if pixels < SMALL {
        (CompressionType::Default, FilterType::Adaptive)
    } else {
        (CompressionType::Level(1), FilterType::Up)
    }
}

/// The gray samples, if every pixel is gray.
fn to_gray(rgba: &[u8]) -> Option<Vec<u8>> {
    let is_gray = rgba.chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2]);
    is_gray.then(|| rgba.chunks_exact(4).map(|p| p[0]).collect())
}

fn to_rgb(rgba: &[u8]) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(rgba.len() / 4 * 3);
    for pixel in rgba.chunks_exact(4) {
        rgb.extend_from_slice(&pixel[..3]);
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gray_pages_become_gray_images() {
        let gray = [10, 10, 10, 255, 200, 200, 200, 255];
        let png = encode(&gray, 2, 1, RasterEncoding::Png).unwrap();
        let decoded = image::load_from_memory(&png).unwrap();
        assert_eq!(decoded.color(), image::ColorType::L8);
        assert_eq!(decoded.into_luma8().into_raw(), [10, 200]);

        let colour = [255, 0, 0, 255, 0, 0, 255, 255];
        let jpeg = encode(&colour, 2, 1, RasterEncoding::Jpeg { quality: 90 }).unwrap();
        let decoded = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height(), decoded.color()), (2, 1, image::ColorType::Rgb8));
    }
}
