//! A small reader of TIFF image file directories (IFDs): the structure of TIFF files and of the
//! EXIF blocks inside JPEG, PNG and WebP files. It reads only what page layout needs: where each
//! frame's directory is, the orientation and the resolution. Classic TIFF only (BigTIFF files are
//! read as one frame of unknown resolution).

/// The tags of one directory that matter for placing an image on a page.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct FrameTags {
    /// Byte offset of this directory in the file.
    pub(crate) ifd_offset: u32,
    /// EXIF orientation, 1 to 8 (1 when absent or out of range).
    pub(crate) orientation: u8,
    /// Pixels per inch (x, y), when the file states a usable physical resolution.
    pub(crate) dpi: Option<(f32, f32)>,
}

const TAG_ORIENTATION: u16 = 0x0112;
const TAG_X_RESOLUTION: u16 = 0x011A;
const TAG_Y_RESOLUTION: u16 = 0x011B;
const TAG_RESOLUTION_UNIT: u16 = 0x0128;

const TYPE_SHORT: u16 = 3;
const TYPE_LONG: u16 = 4;
const TYPE_RATIONAL: u16 = 5;

/// Frames beyond this are not read: a directory chain is attacker-controlled.
pub(crate) const MAX_FRAMES: usize = 10_000;

/// Every directory of a TIFF structure in `bytes`, in order. Empty when `bytes` is not classic
/// TIFF; stops at a loop, a truncation or [`MAX_FRAMES`].
pub(crate) fn frames(bytes: &[u8]) -> Vec<FrameTags> {
    let Some(reader) = Reader::new(bytes) else { return Vec::new() };
    let mut frames = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut offset = reader.u32(4);
    while let Some(at) = offset.filter(|&o| o != 0 && frames.len() < MAX_FRAMES && seen.insert(o)) {
        let Some((tags, next)) = reader.directory(at) else { break };
        frames.push(tags);
        offset = next;
    }
    frames
}

/// The first directory's tags: what an EXIF block says about its image.
pub(crate) fn first_frame(bytes: &[u8]) -> Option<FrameTags> {
    let reader = Reader::new(bytes)?;
    reader.directory(reader.u32(4)?).map(|(tags, _)| tags)
}

struct Reader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Option<Self> {
        let big_endian = match bytes.get(..4)? {
            b"II*\0" => false,
            b"MM\0*" => true,
            _ => return None,
        };
        Some(Self { bytes, big_endian })
    }

    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }

    /// The tags of the directory at `offset`, and the offset of the next one.
    fn directory(&self, offset: u32) -> Option<(FrameTags, Option<u32>)> {
        let start = offset as usize;
        let count = self.u16(start)? as usize;
        let mut tags = FrameTags { ifd_offset: offset, orientation: 1, dpi: None };
        let (mut x_res, mut y_res, mut unit) = (None, None, 2u16);
        for index in 0..count {
            let entry = start + 2 + index * 12;
            let (tag, kind) = (self.u16(entry)?, self.u16(entry + 2)?);
            match (tag, kind) {
                (TAG_ORIENTATION, TYPE_SHORT) => {
                    tags.orientation = self
                        .u16(entry + 8)
                        .and_then(|o| u8::try_from(o).ok())
                        .filter(|o| (1..=8).contains(o))
                        .unwrap_or(1);
                }
                (TAG_X_RESOLUTION, TYPE_RATIONAL) => x_res = self.rational(self.u32(entry + 8)?),
                (TAG_Y_RESOLUTION, TYPE_RATIONAL) => y_res = self.rational(self.u32(entry + 8)?),
                (TAG_RESOLUTION_UNIT, TYPE_SHORT) => unit = self.u16(entry + 8)?,
                // A unit beyond u16 is no unit: no physical size.
                (TAG_RESOLUTION_UNIT, TYPE_LONG) => unit = u16::try_from(self.u32(entry + 8)?).unwrap_or(1),
                _ => {}
            }
        }
        tags.dpi = physical_dpi(x_res, y_res.or(x_res), unit);
        let next = self.u32(start + 2 + count * 12);
        Some((tags, next))
    }

    fn rational(&self, at: u32) -> Option<f32> {
        let (numerator, denominator) = (self.u32(at as usize)?, self.u32(at as usize + 4)?);
        (denominator != 0).then(|| numerator as f32 / denominator as f32)
    }
}

/// Resolution unit 2 is the inch, 3 the centimetre; 1 ("no unit") states no physical size.
fn physical_dpi(x: Option<f32>, y: Option<f32>, unit: u16) -> Option<(f32, f32)> {
    let per_inch = match unit {
        2 => 1.0,
        3 => 2.54,
        _ => return None,
    };
    Some((x? * per_inch, y? * per_inch))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF with one directory per `(orientation, x dpi)` pair.
    fn tiff(frames: &[(u16, u32)]) -> Vec<u8> {
        let mut bytes = b"II*\0\x08\0\0\0".to_vec();
        for (index, &(orientation, dpi)) in frames.iter().enumerate() {
            let start = u32::try_from(bytes.len()).unwrap();
            let rational_at = start + 2 + 3 * 12 + 4;
            let next = if index + 1 == frames.len() { 0 } else { rational_at + 8 };
            bytes.extend_from_slice(&3u16.to_le_bytes());
            let entry = |tag: u16, kind: u16, value: u32| {
                let mut e = Vec::new();
                e.extend_from_slice(&tag.to_le_bytes());
                e.extend_from_slice(&kind.to_le_bytes());
                e.extend_from_slice(&1u32.to_le_bytes());
                e.extend_from_slice(&value.to_le_bytes());
                e
            };
            bytes.extend(entry(TAG_ORIENTATION, TYPE_SHORT, orientation.into()));
            bytes.extend(entry(TAG_X_RESOLUTION, TYPE_RATIONAL, rational_at));
            bytes.extend(entry(TAG_RESOLUTION_UNIT, TYPE_SHORT, 2));
            bytes.extend_from_slice(&next.to_le_bytes());
            bytes.extend_from_slice(&dpi.to_le_bytes());
            bytes.extend_from_slice(&1u32.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn reads_every_directory() {
        let frames = frames(&tiff(&[(6, 300), (1, 200)]));
        assert_eq!(frames.len(), 2);
        assert_eq!((frames[0].ifd_offset, frames[0].orientation, frames[0].dpi), (8, 6, Some((300.0, 300.0))));
        assert_eq!((frames[1].orientation, frames[1].dpi), (1, Some((200.0, 200.0))));
    }

    #[test]
    fn survives_loops_truncation_and_junk() {
        let mut looped = tiff(&[(1, 72)]);
        let next_at = 8 + 2 + 3 * 12;
        looped[next_at..next_at + 4].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(frames(&looped).len(), 1);
        let whole = tiff(&[(1, 72)]);
        assert!(frames(&whole[..12]).is_empty());
        assert!(frames(b"not a tiff").is_empty());
        assert_eq!(first_frame(&whole).unwrap().dpi, Some((72.0, 72.0)));
    }
}
