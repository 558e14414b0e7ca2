//! Raster images re-encoded in place, one at a time, as OCRmyPDF's optimiser does for scans.
//!
//! Ghostscript's `pdfwrite` leaves a colour JPEG that needs no downsampling as it is (or
//! converts and re-encodes it at one fixed quality), so a 200 dpi colour scan of a black and
//! white page stays big. Here each 8-bit image is decoded and looked at:
//! - an RGB image whose pixels are all (nearly) gray is treated as gray: one channel, not three;
//! - a gray image that is mostly paper and ink (few mid-tones) is tried as a bilevel image,
//!   thresholded at Otsu's level and stored with CCITT Group 4 (a page of text in 40–60 KB);
//! - otherwise it is re-encoded as JPEG at the lowest quality that keeps it at the wanted
//!   structural similarity, found by bisection.
//!
//! Similarity is measured on the image itself at about 100 dots per inch as placed on the page
//! (box-averaged by a whole factor), the scale at which pages are compared. The smallest
//! candidate that keeps its similarity replaces the image when it saves at least
//! [`MIN_SAVING`]. Images this does not understand (masks, CMYK, indexed, 16-bit, custom
//! `/Decode`, JPEG 2000, JBIG2, CCITT) are left as they are. The document is then checked as
//! a whole like every other candidate.

use super::compare::{Raster, ssim};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Images with more pixels than this are left alone: decoding them costs more than it saves.
const MAX_PIXELS: u64 = 60_000_000;
/// Resolution (dots per inch as placed) at which the similarity of an image is measured.
const MEASURE_DPI: u32 = 100;
/// Most pixels of the raster a similarity is measured on (its summed-area tables take 40 bytes
/// a pixel).
const MAX_MEASURED_PIXELS: usize = 4_000_000;
/// Channel spread above which a pixel shows colour, beyond JPEG's chroma noise.
const COLOUR_SPREAD: u8 = 48;
/// Share of colourful pixels an image may have and still count as gray.
const MAX_COLOURFUL: f64 = 0.001;
/// Share of mid-tone pixels (neither paper nor ink) above which a gray image is not tried as
/// bilevel: photographs and shaded drawings.
const MAX_MIDTONES: f64 = 0.15;
/// Least saving for which an image is replaced: a second generation of JPEG loss must pay.
const MIN_SAVING: f64 = 0.10;

/// How hard images are re-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecodeSettings {
    /// The JPEG quality (IJG scale) is searched between these.
    pub min_quality: u8,
    pub max_quality: u8,
    /// Least similarity of a re-encoded JPEG to the image it replaces.
    pub jpeg_similarity: f64,
    /// Least similarity of a bilevel version to the gray image it replaces.
    pub bilevel_similarity: f64,
}

/// What the re-encoding did to the document's images.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecodeSummary {
    /// Images looked at.
    pub images: usize,
    /// Replaced by a JPEG (of which `gray` became gray from RGB).
    pub jpeg: usize,
    /// Replaced by a bilevel CCITT Group 4 image.
    pub bilevel: usize,
    /// RGB images stored as gray.
    pub gray: usize,
    /// Left as they were: nothing smaller kept their similarity, or they are of a kind not
    /// handled here.
    pub unchanged: usize,
    /// Stored bytes of the replaced images, before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// Why the images of a document were not re-encoded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecodeError {
    #[error("the document does not load for re-encoding ({0})")]
    Load(#[source] lopdf::Error),
    #[error("the document is encrypted")]
    Encrypted,
    /// Of the `images` looked at, none came out smaller at the wanted similarity.
    #[error("none of the {images} images could be made smaller at the wanted similarity")]
    NothingSmaller { images: usize },
    #[error("the re-encoded document could not be written ({0})")]
    Save(#[source] std::io::Error),
}

/// Re-encodes the images of `input` into `output` (see the module documentation).
/// `resolution` holds the placed resolution of each image object (from `pdfimages -list`).
/// Fails when the document cannot be read or written, or no image got smaller.
pub(crate) fn recode_images(
    input: &Path,
    output: &Path,
    settings: &RecodeSettings,
    resolution: &HashMap<u32, u32>,
) -> Result<RecodeSummary, RecodeError> {
    let mut doc = Document::load(input).map_err(RecodeError::Load)?;
    if doc.is_encrypted() {
        return Err(RecodeError::Encrypted);
    }
    let masks = mask_ids(&doc);
    let images: Vec<ObjectId> =
        doc.objects.iter().filter(|(id, object)| !masks.contains(id) && is_image(object)).map(|(id, _)| *id).collect();
    let mut summary = RecodeSummary { images: images.len(), ..RecodeSummary::default() };
    for id in images {
        let Some(Object::Stream(stream)) = doc.objects.get(&id) else { continue };
        let ppi = resolution.get(&id.0).copied().unwrap_or(0);
        let replacement = decode(&doc, stream).and_then(|image| recode(&image, ppi, settings));
        let before = stream.content.len() as u64;
        match replacement {
            Some(new) if (new.content.len() as f64) < before as f64 * (1.0 - MIN_SAVING) => {
                let after = new.content.len() as u64;
                match new.kind {
                    Kind::Jpeg => summary.jpeg += 1,
                    Kind::Bilevel => summary.bilevel += 1,
                }
                summary.gray += usize::from(new.grayed);
                summary.bytes_before += before;
                summary.bytes_after += after;
                let dict = replaced_dict(&stream.dict, &new);
                doc.objects.insert(id, Object::Stream(Stream::new(dict, new.content).with_compression(false)));
            }
            _ => summary.unchanged += 1,
        }
    }
    if summary.jpeg + summary.bilevel == 0 {
        return Err(RecodeError::NothingSmaller { images: summary.images });
    }
    doc.save(output).map_err(RecodeError::Save)?;
    Ok(summary)
}

fn is_image(object: &Object) -> bool {
    object.as_stream().is_ok_and(|stream| stream.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Image"))
}

/// Objects other images use as soft masks or masks: their values are not pictures.
fn mask_ids(doc: &Document) -> HashSet<ObjectId> {
    doc.objects
        .values()
        .filter(|object| is_image(object))
        .filter_map(|object| object.as_stream().ok())
        .flat_map(|stream| [stream.dict.get(b"SMask"), stream.dict.get(b"Mask")])
        .filter_map(|entry| entry.ok().and_then(|object| object.as_reference().ok()))
        .collect()
}

/// An image decoded to 8-bit samples.
struct Decoded {
    width: usize,
    height: usize,
    /// 1 (gray) or 3 (RGB).
    channels: usize,
    samples: Vec<u8>,
    /// The colour space, kept for a JPEG that keeps the channels.
    color_space: Object,
}

/// The image's samples, when it is of a kind handled here.
fn decode(doc: &Document, stream: &Stream) -> Option<Decoded> {
    let dict = &stream.dict;
    let number = |key: &[u8]| dict.get(key).ok().and_then(|o| o.as_i64().ok());
    let (width, height) = (usize::try_from(number(b"Width")?).ok()?, usize::try_from(number(b"Height")?).ok()?);
    if width == 0 || height == 0 || (width as u64) * (height as u64) > MAX_PIXELS {
        return None;
    }
    let flag = |key: &[u8]| dict.get(key).ok().and_then(|o| o.as_bool().ok()).unwrap_or(false);
    if number(b"BitsPerComponent") != Some(8) || flag(b"ImageMask") || dict.has(b"Decode") {
        return None;
    }
    let color_space = dict.get(b"ColorSpace").ok()?.clone();
    let channels = components(doc, &color_space)?;
    let filters = stream.filters().unwrap_or_default();
    let samples = match filters.as_slice() {
        [b"DCTDecode"] if !dict.has(b"DecodeParms") => {
            let image = image::load_from_memory_with_format(&stream.content, image::ImageFormat::Jpeg).ok()?;
            if (image.width() as usize, image.height() as usize) != (width, height) {
                return None;
            }
            match (channels, image.color().channel_count()) {
                (1, 1) => image.into_luma8().into_raw(),
                (3, 3) => image.into_rgb8().into_raw(),
                _ => return None,
            }
        }
        [] | [b"FlateDecode"] => {
            let expected = width * height * channels;
            let samples = if filters.is_empty() {
                stream.content.clone()
            } else {
                // PNG predictors add a tag byte to each row.
                stream.decompressed_content_with_limit((width * channels + 1) * height + 1).ok()?
            };
            if samples.len() < expected {
                return None;
            }
            samples[..expected].to_vec()
        }
        _ => return None,
    };
    Some(Decoded { width, height, channels, samples, color_space })
}

/// Channels of a colour space handled here: DeviceGray, DeviceRGB, CalGray, CalRGB and
/// ICC-based spaces of 1 or 3 components.
fn components(doc: &Document, color_space: &Object) -> Option<usize> {
    let resolved = match color_space {
        Object::Reference(id) => doc.get_object(*id).ok()?,
        other => other,
    };
    match resolved {
        Object::Name(name) if name == b"DeviceGray" => Some(1),
        Object::Name(name) if name == b"DeviceRGB" => Some(3),
        Object::Array(items) => match (items.first()?.as_name().ok()?, items.get(1)) {
            (b"CalGray", _) => Some(1),
            (b"CalRGB", _) => Some(3),
            (b"ICCBased", Some(profile)) => {
                let profile = match profile {
                    Object::Reference(id) => doc.get_object(*id).ok()?,
                    other => other,
                };
                match profile.as_stream().ok()?.dict.get(b"N").ok()?.as_i64().ok()? {
                    1 => Some(1),
                    3 => Some(3),
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jpeg,
    Bilevel,
}

/// A new encoding of one image.
struct Recoded {
    kind: Kind,
    content: Vec<u8>,
    /// Channels of the new encoding.
    channels: usize,
    /// An RGB image stored as gray.
    grayed: bool,
    width: usize,
    height: usize,
    /// The colour space of the original, for a JPEG that keeps its channels.
    color_space: Object,
}

/// The smallest encoding of `image` that keeps the wanted similarity, if one is found.
fn recode(image: &Decoded, ppi: u32, settings: &RecodeSettings) -> Option<Recoded> {
    let luma = luma(image);
    let grayish = image.channels == 1 || colourful_share(image) <= MAX_COLOURFUL;
    let factor = measure_factor(image.width, image.height, ppi);
    let reference = shrink(&luma, image.width, image.height, factor);
    let similar = |candidate: &[u8], floor: f64| {
        ssim(&reference, &shrink(candidate, image.width, image.height, factor)).is_some_and(|s| s >= floor)
    };
    let base = |kind, content, channels| Recoded {
        kind,
        content,
        channels,
        grayed: channels == 1 && image.channels == 3,
        width: image.width,
        height: image.height,
        color_space: image.color_space.clone(),
    };

    // Paper and ink: bilevel is several times smaller than any JPEG, so it is tried first.
    if grayish && midtone_share(&luma) <= MAX_MIDTONES && image.width <= usize::from(u16::MAX) {
        let level = otsu_level(&luma);
        let bilevel: Vec<u8> = luma.iter().map(|&v| if v > level { 255 } else { 0 }).collect();
        if similar(&bilevel, settings.bilevel_similarity)
            && let Some(content) = ccitt_g4(&bilevel, image.width, image.height)
        {
            return Some(base(Kind::Bilevel, content, 1));
        }
    }

    let (samples, channels) = if grayish { (&luma, 1) } else { (&image.samples, image.channels) };
    let encode = |quality: u8| jpeg(samples, image.width, image.height, channels, quality);
    let keeps = |encoded: &[u8]| {
        image::load_from_memory_with_format(encoded, image::ImageFormat::Jpeg)
            .ok()
            .is_some_and(|decoded| similar(decoded.into_luma8().as_raw(), settings.jpeg_similarity))
    };
    // Bisection for the lowest quality that keeps the similarity (it grows with the quality).
    let (mut low, mut high) = (settings.min_quality, settings.max_quality);
    let mut best = None;
    while low <= high {
        let quality = low + (high - low) / 2;
        match encode(quality) {
            Some(encoded) if keeps(&encoded) => {
                best = Some(encoded);
                if quality == 0 {
                    break;
                }
                high = quality - 1;
            }
            Some(_) => low = quality + 1,
            None => return None,
        }
    }
    best.map(|content| base(Kind::Jpeg, content, channels))
}

/// Rec. 601 luma, as poppler renders gray.
#[expect(
    clippy::cast_possible_truncation,
    reason = "the weights add up to 1000, so the rounded average is at most 255"
)]
fn luma(image: &Decoded) -> Vec<u8> {
    if image.channels == 1 {
        return image.samples.clone();
    }
    image
        .samples
        .chunks_exact(3)
        .map(|px| ((299 * u32::from(px[0]) + 587 * u32::from(px[1]) + 114 * u32::from(px[2]) + 500) / 1000) as u8)
        .collect()
}

fn colourful_share(image: &Decoded) -> f64 {
    let colourful = image
        .samples
        .chunks_exact(3)
        .filter(|px| px.iter().max().unwrap_or(&0) - px.iter().min().unwrap_or(&0) > COLOUR_SPREAD)
        .count();
    colourful as f64 / (image.width * image.height) as f64
}

fn midtone_share(luma: &[u8]) -> f64 {
    luma.iter().filter(|&&v| (64..192).contains(&v)).count() as f64 / luma.len().max(1) as f64
}

/// Otsu's threshold: the gray level that best splits the histogram into two classes.
fn otsu_level(luma: &[u8]) -> u8 {
    let mut histogram = [0u64; 256];
    for &v in luma {
        histogram[usize::from(v)] += 1;
    }
    let total = luma.len() as f64;
    let sum: f64 = histogram.iter().enumerate().map(|(v, &n)| v as f64 * n as f64).sum();
    let (mut weight_low, mut sum_low, mut best, mut level) = (0.0, 0.0, -1.0, 127u8);
    for (v, &n) in (0..=u8::MAX).zip(&histogram) {
        weight_low += n as f64;
        sum_low += f64::from(v) * n as f64;
        let weight_high = total - weight_low;
        if weight_low == 0.0 || weight_high == 0.0 {
            continue;
        }
        let (mean_low, mean_high) = (sum_low / weight_low, (sum - sum_low) / weight_high);
        let between = weight_low * weight_high * (mean_low - mean_high).powi(2);
        if between > best {
            best = between;
            level = v;
        }
    }
    level
}

/// The whole factor by which an image placed at `ppi` is averaged down to about
/// [`MEASURE_DPI`], and further if the result would still exceed [`MAX_MEASURED_PIXELS`].
fn measure_factor(width: usize, height: usize, ppi: u32) -> usize {
    let mut factor = (ppi / MEASURE_DPI).max(1) as usize;
    while (width / factor) * (height / factor) > MAX_MEASURED_PIXELS {
        factor += 1;
    }
    factor
}

/// `samples` (one channel) averaged over `factor` × `factor` blocks.
fn shrink(samples: &[u8], width: usize, height: usize, factor: usize) -> Raster {
    let (w, h) = (width / factor, height / factor);
    if factor == 1 {
        return Raster { width, height, channels: 1, samples: samples.to_vec() };
    }
    // A block of a huge image drawn tiny holds more than u32 can sum at 255 a sample.
    let mut sums = vec![0u64; w * h];
    for row in 0..h * factor {
        let line = &samples[row * width..][..w * factor];
        let out = &mut sums[(row / factor) * w..][..w];
        for (col, chunk) in line.chunks_exact(factor).enumerate() {
            out[col] += chunk.iter().map(|&v| u64::from(v)).sum::<u64>();
        }
    }
    let area = factor as u64 * factor as u64;
    #[expect(clippy::cast_possible_truncation, reason = "the rounded average of `area` samples of at most 255")]
    let samples = sums.into_iter().map(|s| ((s + area / 2) / area) as u8).collect();
    Raster { width: w, height: h, channels: 1, samples }
}

fn jpeg(samples: &[u8], width: usize, height: usize, channels: usize, quality: u8) -> Option<Vec<u8>> {
    let colour = if channels == 1 { image::ExtendedColorType::L8 } else { image::ExtendedColorType::Rgb8 };
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, quality)
        .encode(samples, u32::try_from(width).ok()?, u32::try_from(height).ok()?, colour)
        .ok()?;
    Some(encoded)
}

/// `bilevel` (0 = ink, 255 = paper) in CCITT Group 4, checked by decoding it again.
fn ccitt_g4(bilevel: &[u8], width: usize, height: usize) -> Option<Vec<u8>> {
    use fax::{Color, VecWriter, encoder::Encoder};
    let columns = u16::try_from(width).ok()?;
    let mut encoder = Encoder::new(VecWriter::new());
    for row in bilevel.chunks_exact(width) {
        let pels = row.iter().map(|&v| if v == 0 { Color::Black } else { Color::White });
        encoder.encode_line(pels, columns).ok()?;
    }
    let content = encoder.finish().ok()?.finish();
    // The encoder is young: a stream that does not decode to the same pixels is not used.
    let mut rows = 0usize;
    let mut same = true;
    fax::decoder::decode_g4(content.iter().copied(), columns, u16::try_from(height).ok(), |transitions| {
        if let Some(expected) = bilevel.chunks_exact(width).nth(rows) {
            let decoded = fax::decoder::pels(transitions, columns).map(|c| if c == Color::Black { 0 } else { 255 });
            same &= decoded.eq(expected.iter().copied());
        }
        rows += 1;
    })?;
    (same && rows == height).then_some(content)
}

/// The dictionary of the re-encoded image: the old one without its encoding, with the new.
fn replaced_dict(old: &Dictionary, new: &Recoded) -> Dictionary {
    let mut dict = old.clone();
    for key in [&b"Filter"[..], b"DecodeParms", b"Length", b"DL"] {
        dict.remove(key);
    }
    match new.kind {
        Kind::Jpeg => {
            dict.set("Filter", Object::Name(b"DCTDecode".to_vec()));
            dict.set("BitsPerComponent", 8);
            let space = if new.grayed { Object::Name(b"DeviceGray".to_vec()) } else { new.color_space.clone() };
            dict.set("ColorSpace", space);
        }
        Kind::Bilevel => {
            dict.set("Filter", Object::Name(b"CCITTFaxDecode".to_vec()));
            let mut params = Dictionary::new();
            params.set("K", -1);
            params.set("Columns", new.width as i64);
            params.set("Rows", new.height as i64);
            params.set("BlackIs1", false);
            dict.set("DecodeParms", params);
            dict.set("BitsPerComponent", 1);
            dict.set("ColorSpace", Object::Name(b"DeviceGray".to_vec()));
        }
    }
    debug_assert!(new.channels == 1 || new.kind == Kind::Jpeg);
    dict
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otsu_splits_paper_from_ink() {
        let mut page = vec![240u8; 900];
        page.extend([20u8; 100]);
        let level = otsu_level(&page);
        assert!((20..240).contains(&level), "{level}");
    }

    #[test]
    fn shrinking_averages_blocks() {
        let samples = [0, 255, 10, 10, 255, 0, 10, 10];
        let small = shrink(&samples, 4, 2, 2);
        assert_eq!((small.width, small.height, small.samples), (2, 1, vec![128, 10]));
        assert_eq!(measure_factor(1700, 2200, 200), 2);
        assert_eq!(measure_factor(1700, 2200, 0), 1);
        assert_eq!(measure_factor(9000, 9000, 300), 5);
    }

    #[test]
    fn group4_round_trips() {
        let (width, height) = (37, 5);
        let bilevel: Vec<u8> =
            (0..width * height).map(|i| if (i % width) % 7 < 3 || i / width == 2 { 0 } else { 255 }).collect();
        let encoded = ccitt_g4(&bilevel, width, height).unwrap();
        assert!(!encoded.is_empty() && encoded.len() < bilevel.len());
    }
}
