//! What an input is, before any engine sees it: its format from its first bytes, whether a PDF
//! is encrypted (`qpdf`), and its page count (`pdfinfo`; TIFF frames are counted here).

use super::OcrError;
use scanpro_process::{Limits, ProcessOutput, Subprocess};
use serde::Serialize;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

/// Deadline of one quick look at a document (`qpdf --is-encrypted`, `pdfinfo`).
const LOOK_TIMEOUT: Duration = Duration::from_secs(60);
/// Address space of the helpers that look at or extract from a document.
pub(crate) const HELPER_LIMITS: Limits =
    Limits { memory_bytes: Some(2 * 1024 * 1024 * 1024), cpu_seconds: None, file_bytes: None };

/// The formats OCR reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    Pdf,
    Png,
    Jpeg,
    Tiff,
}

impl InputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Tiff => "tif",
        }
    }

    pub fn is_image(self) -> bool {
        self != Self::Pdf
    }
}

/// The format of `path`, from its first bytes.
pub(crate) fn sniff(path: &Path) -> Result<InputFormat, OcrError> {
    let file = std::fs::File::open(path)?;
    let mut head = [0u8; 1024];
    let n = read_at_most(&file, &mut head, 0)?;
    let head = &head[..n];
    // PDF readers accept a header anywhere in the first kilobyte.
    if head.windows(5).any(|window| window == b"%PDF-") {
        Ok(InputFormat::Pdf)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(InputFormat::Png)
    } else if head.starts_with(b"\xff\xd8\xff") {
        Ok(InputFormat::Jpeg)
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        Ok(InputFormat::Tiff)
    } else {
        Err(OcrError::UnsupportedFormat(
            "the input is neither a PDF nor a PNG, JPEG or TIFF image; convert other documents to PDF first".into(),
        ))
    }
}

fn read_at_most(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64)? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// How a PDF is encrypted, from `qpdf`'s exit status (it prints nothing we need to read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encryption {
    None,
    /// Opens without a password, but restricts what may be done with it.
    Restrictions,
    /// Needs a password to open.
    Password,
}

pub(crate) async fn encryption(pdf: &Path) -> Result<Encryption, OcrError> {
    // `--requires-password` exits 0 when a password is needed, 3 when the file is encrypted but
    // opens without one, 2 when it is not encrypted (or not readable, which pdfinfo reports).
    let out = look("qpdf", "--requires-password", pdf).await?;
    Ok(match out.status.code() {
        Some(0) => Encryption::Password,
        Some(3) => Encryption::Restrictions,
        _ => Encryption::None,
    })
}

/// Runs `program flag pdf`, a quick look at the PDF that may read nothing else.
async fn look(program: &str, flag: &str, pdf: &Path) -> Result<ProcessOutput, OcrError> {
    Ok(Subprocess::new(program)
        .arg(flag)
        .arg(pdf)
        .allow_read(pdf)
        .timeout(LOOK_TIMEOUT)
        .limits(HELPER_LIMITS)
        .run()
        .await?)
}

/// The page count of a PDF, from `pdfinfo`.
pub(crate) async fn pdf_pages(pdf: &Path) -> Result<u32, OcrError> {
    let out = look("pdfinfo", "-isodates", pdf).await?;
    let pages = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .and_then(|count| count.trim().parse::<u32>().ok());
    match pages {
        Some(pages) if out.status.success() && pages > 0 => Ok(pages),
        Some(0) if out.status.success() => Err(OcrError::InvalidPdf("the PDF has no pages".into())),
        _ => {
            tracing::info!(stderr = %out.stderr_tail, "pdfinfo could not read a PDF");
            Err(OcrError::InvalidPdf(
                "the PDF could not be read: it is damaged or truncated (try the repair tool)".into(),
            ))
        }
    }
}

/// Whether `pdfinfo -meta` shows a PDF/A identification in the document's XMP metadata.
pub(crate) async fn claims_pdfa(pdf: &Path) -> Result<bool, OcrError> {
    let out = look("pdfinfo", "-meta", pdf).await?;
    let meta = String::from_utf8_lossy(&out.stdout);
    Ok(out.status.success() && meta.contains("pdfaid:part"))
}

/// The pages of an image: the frames of a TIFF, one otherwise.
pub(crate) fn image_pages(path: &Path, format: InputFormat) -> Result<u32, OcrError> {
    if format != InputFormat::Tiff {
        return Ok(1);
    }
    tiff_frames(&std::fs::File::open(path)?)
        .ok_or_else(|| OcrError::UnsupportedFormat("the TIFF image is damaged: its directory cannot be read".into()))
}

/// Counts the image file directories of a classic TIFF by following their chain.
fn tiff_frames(file: &std::fs::File) -> Option<u32> {
    const MAX_FRAMES: u32 = 10_000;
    let mut header = [0u8; 8];
    if read_at_most(file, &mut header, 0).ok()? < 8 {
        return None;
    }
    let little = &header[..2] == b"II";
    let u16_at = |bytes: [u8; 2]| if little { u16::from_le_bytes(bytes) } else { u16::from_be_bytes(bytes) };
    let u32_at = |bytes: [u8; 4]| if little { u32::from_le_bytes(bytes) } else { u32::from_be_bytes(bytes) };
    let mut offset = u32_at(header[4..8].try_into().ok()?);
    let mut frames = 0;
    let mut visited = std::collections::HashSet::new();
    while offset != 0 {
        // A chain that loops or never ends is damage, not a long document.
        if !visited.insert(offset) || frames >= MAX_FRAMES {
            return None;
        }
        let mut count = [0u8; 2];
        file.read_exact_at(&mut count, offset.into()).ok()?;
        let entries = u64::from(u16_at(count));
        let mut next = [0u8; 4];
        file.read_exact_at(&mut next, u64::from(offset) + 2 + 12 * entries).ok()?;
        frames += 1;
        offset = u32_at(next);
    }
    (frames > 0).then_some(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        file
    }

    /// A little-endian TIFF whose directories (no entries) form a chain of `frames`.
    fn tiff(frames: u32) -> Vec<u8> {
        let mut bytes = b"II*\0".to_vec();
        bytes.extend_from_slice(&8u32.to_le_bytes());
        for frame in 0..frames {
            let next = if frame + 1 == frames { 0 } else { 8 + 6 * (frame + 1) };
            bytes.extend_from_slice(&0u16.to_le_bytes());
            bytes.extend_from_slice(&next.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn formats_come_from_bytes() {
        assert_eq!(sniff(write(b"%PDF-1.7\n").path()).unwrap(), InputFormat::Pdf);
        assert_eq!(sniff(write(b"garbage first\n%PDF-1.4").path()).unwrap(), InputFormat::Pdf);
        assert_eq!(sniff(write(b"\x89PNG\r\n\x1a\n....").path()).unwrap(), InputFormat::Png);
        assert_eq!(sniff(write(b"\xff\xd8\xff\xe0").path()).unwrap(), InputFormat::Jpeg);
        assert_eq!(sniff(write(b"MM\0*\0\0\0\x08").path()).unwrap(), InputFormat::Tiff);
        for other in [&b"PK\x03\x04"[..], b"", b"GIF89a"] {
            assert_eq!(sniff(write(other).path()).unwrap_err().code(), scanpro_core::ErrorCode::UnsupportedFormat);
        }
    }

    #[test]
    fn tiff_frames_follow_the_chain() {
        for frames in [1, 3] {
            let file = write(&tiff(frames));
            assert_eq!(image_pages(file.path(), InputFormat::Tiff).unwrap(), frames);
        }
        let mut looping = tiff(2);
        looping[8 + 6 + 2..8 + 6 + 6].copy_from_slice(&8u32.to_le_bytes());
        assert!(image_pages(write(&looping).path(), InputFormat::Tiff).is_err());
        assert!(image_pages(write(b"II*\0\xff\xff\0\0").path(), InputFormat::Tiff).is_err());
    }
}
