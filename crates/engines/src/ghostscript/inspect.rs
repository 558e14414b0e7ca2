//! What the engine learns about an input before rewriting it: that it is a PDF, that it opens
//! without a password, how many pages it has, its creation date, whether it is tagged, and
//! what raster images it holds.

use super::GhostscriptError;
use super::programs::{Programs, last_words};
use scanpro_process::budget::{MAX_IMAGE_PIXELS, Workload};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How far into a file the `%PDF-` header may sit (readers accept leading junk up to here).
const HEADER_WINDOW: usize = 1024;

/// An input that qpdf opens without a password.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// Absolute path of the input.
    pub path: PathBuf,
    pub bytes: u64,
    pub pages: u32,
    /// Encrypted with an empty user password (permissions only): it opens, and the rewrites
    /// come out decrypted.
    pub permissions_only: bool,
    /// Creation date in the document information, as seconds since 1970 (UTC).
    pub created: Option<i64>,
    /// Carries structure tags (accessibility), which a Ghostscript rewrite drops.
    pub tagged: bool,
}

/// Checks the input: `unsupported_format` for what is not a PDF, `invalid_pdf` for an empty,
/// truncated or unreadable one or one without pages, `encrypted_input` for one that needs a
/// password.
pub(crate) async fn inspect(programs: Programs<'_>, path: &Path) -> Result<Source, GhostscriptError> {
    let path = std::path::absolute(path)?;
    let mut head = Vec::with_capacity(HEADER_WINDOW);
    let file = std::fs::File::open(&path)?;
    let bytes = file.metadata()?.len();
    file.take(HEADER_WINDOW as u64).read_to_end(&mut head)?;
    if head.is_empty() {
        return Err(GhostscriptError::InvalidPdf("the file is empty".into()));
    }
    if !head.windows(5).any(|window| window == b"%PDF-") {
        return Err(GhostscriptError::NotPdf("this is not a PDF (no %PDF- header at its start)".into()));
    }

    // --requires-password exits 0 when a password is needed, 3 when the file is encrypted but
    // opens without one, 2 when it is not encrypted (or unreadable: --show-npages says which).
    let encryption = programs.qpdf().arg("--requires-password").arg(&path).output().await?;
    let permissions_only = match encryption.status.code() {
        Some(0) => return Err(GhostscriptError::EncryptedInput),
        Some(3) => true,
        _ => false,
    };

    let counted = programs.qpdf().arg("--show-npages").arg(&path).output().await?;
    // Exit 3: read with warnings (a damaged file qpdf reconstructed).
    if !matches!(counted.status.code(), Some(0 | 3)) {
        let why = last_words(&counted, "qpdf", &[&path]);
        return Err(GhostscriptError::InvalidPdf(format!("the PDF is damaged and cannot be read ({why})")));
    }
    let pages: u32 = String::from_utf8_lossy(&counted.stdout).trim().parse().unwrap_or(0);
    if pages == 0 {
        return Err(GhostscriptError::InvalidPdf("the PDF has no pages (or its page tree is unreadable)".into()));
    }
    let (created, tagged) = document_info(programs, &path).await?;
    Ok(Source { path, bytes, pages, permissions_only, created, tagged })
}

/// The creation date and whether the document is tagged, from `pdfinfo -isodates`; nothing
/// when poppler cannot read the file (qpdf can, so the tools go on).
async fn document_info(programs: Programs<'_>, path: &Path) -> Result<(Option<i64>, bool), GhostscriptError> {
    let info = match programs.poppler("pdfinfo").arg("-isodates").arg(path).output().await {
        Ok(info) if info.status.success() => String::from_utf8_lossy(&info.stdout).into_owned(),
        Ok(_) | Err(GhostscriptError::Timeout { .. }) => return Ok((None, false)),
        Err(other) => return Err(other),
    };
    let field = |name: &str| info.lines().find_map(|line| line.strip_prefix(name)).map(str::trim);
    let created = field("CreationDate:").and_then(iso_to_epoch).filter(|epoch| *epoch >= 0);
    Ok((created, field("Tagged:") == Some("yes")))
}

/// `2009-04-01T16:39:25-07`, `…+02:00`, `…Z` (as `pdfinfo -isodates` prints dates) to seconds
/// since 1970; no zone means UTC.
fn iso_to_epoch(text: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if text.get(4..5) != Some("-") || text.get(10..11) != Some("T") || !(1..=12).contains(&month) {
        return None;
    }
    let offset = match text.get(19..).unwrap_or("") {
        "" | "Z" => 0,
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
            let hours: i64 = digits.get(0..2)?.parse().ok()?;
            let minutes: i64 = digits.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The raster images of a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Images {
    /// Distinct image objects (inline images count once per page that draws them).
    pub count: usize,
    /// Their stored bytes.
    pub bytes: u64,
    /// Their pixels, as their dictionaries declare them.
    pub pixels: u64,
    /// Pixels of the largest one.
    pub largest: u64,
    /// Resolution of each image object as placed on its pages (the lower of its horizontal and
    /// vertical dots per inch, the highest over its placements), by object number.
    pub resolution: HashMap<u32, u32>,
}

/// The document's raster images, listed by poppler's `pdfimages -list` (which reads their
/// dictionaries, not their data); `None` when poppler cannot list them.
pub(crate) async fn image_inventory(programs: Programs<'_>, pdf: &Path) -> Result<Option<Images>, GhostscriptError> {
    let listed = match programs.poppler("pdfimages").arg("-list").arg(pdf).output().await {
        Ok(listed) if listed.status.success() => listed,
        Ok(_) | Err(GhostscriptError::Timeout { .. }) => return Ok(None),
        Err(other) => return Err(other),
    };
    Ok(Some(parse_image_list(&String::from_utf8_lossy(&listed.stdout))))
}

/// What the input holds, for deadlines, and its images; `resource_limit` for an image no tool
/// should decode (see [`MAX_IMAGE_PIXELS`]).
pub(crate) async fn workload(
    programs: Programs<'_>,
    source: &Source,
) -> Result<(Workload, Option<Images>), GhostscriptError> {
    let images = image_inventory(programs, &source.path).await?;
    let pixels = images.as_ref().map_or(0, |images| images.pixels);
    if let Some(images) = images.as_ref().filter(|images| images.largest > MAX_IMAGE_PIXELS) {
        return Err(GhostscriptError::ResourceLimit(format!(
            "the PDF holds an image of {} megapixels, above the limit of {} megapixels (a decompression bomb)",
            images.largest / 1_000_000,
            MAX_IMAGE_PIXELS / 1_000_000
        )));
    }
    Ok((Workload { pages: source.pages, bytes: source.bytes, pixels }, images))
}

/// `pdfimages -list` output: two header lines, then "page num type width height color comp
/// bpc enc interp object ID x-ppi y-ppi size ratio" per placement, the size as 1317B, 55.9K or
/// 1.2M. An image drawn on several pages is counted once.
fn parse_image_list(listing: &str) -> Images {
    let mut distinct: HashMap<(&str, &str, &str), (u64, u64)> = HashMap::new();
    let mut resolution: HashMap<u32, u32> = HashMap::new();
    for line in listing.lines().skip(2) {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let [page, _, _, width, height, .., object, generation, x_ppi, y_ppi, size, _] = columns.as_slice() else {
            continue;
        };
        let split = size.len().saturating_sub(1);
        let scale = match &size[split..] {
            "B" => 1.0,
            "K" => 1024.0,
            "M" => 1024.0 * 1024.0,
            "G" => 1024.0 * 1024.0 * 1024.0,
            _ => continue,
        };
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a size as listed, rounded down to whole bytes; a nonsensical one saturates"
        )]
        let bytes = size[..split].parse::<f64>().map_or(0, |n| (n * scale) as u64);
        let pixels = width.parse::<u64>().unwrap_or(0).saturating_mul(height.parse::<u64>().unwrap_or(0));
        let ppi = x_ppi.parse::<u32>().unwrap_or(0).min(y_ppi.parse::<u32>().unwrap_or(0));
        if let Ok(number) = object.parse::<u32>()
            && number != 0
        {
            let entry = resolution.entry(number).or_default();
            *entry = (*entry).max(ppi);
        }
        // Inline images have object number 0: each page's are its own.
        let page = if *object == "0" { *page } else { "" };
        distinct.insert((object, generation, page), (bytes, pixels));
    }
    Images {
        count: distinct.len(),
        bytes: distinct.values().map(|(bytes, _)| bytes).sum(),
        pixels: distinct.values().map(|(_, pixels)| pixels).fold(0u64, |sum, p| sum.saturating_add(*p)),
        largest: distinct.values().map(|(_, pixels)| *pixels).max().unwrap_or(0),
        resolution,
    }
}

/// Up to `max` (at least 2) pages spread evenly over `pages`, always the first and the last.
pub(crate) fn sample_pages(pages: u32, max: u32) -> Vec<u32> {
    let max = max.max(2);
    if pages <= max {
        return (1..=pages).collect();
    }
    #[expect(clippy::cast_possible_truncation, reason = "i < max, so the quotient is at most pages - 1, a u32")]
    let mut sample: Vec<u32> =
        (0..max).map(|i| 1 + (u64::from(i) * u64::from(pages - 1) / u64::from(max - 1)) as u32).collect();
    sample.dedup();
    sample
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_become_epoch_seconds() {
        assert_eq!(iso_to_epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(iso_to_epoch("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(iso_to_epoch("2023-11-14T23:13:20+01"), Some(1_700_000_000));
        assert_eq!(iso_to_epoch("2023-11-14T16:43:20-05:30"), Some(1_700_000_000));
        assert_eq!(iso_to_epoch("2024-02-29T00:00:00"), Some(1_709_164_800));
        assert_eq!(iso_to_epoch("D:20240229"), None);
        assert_eq!(iso_to_epoch("2024-13-01T00:00:00Z"), None);
    }

    #[test]
    fn image_lists_count_each_image_once() {
        let listing = "page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio
--------------------------------------------------------------------------------------------
 182     0 image     342   387  rgb     3   8  jpeg   no     13416  0   328   328 76.8K  20%
 182     1 image     342   387  rgb     3   8  jpeg   no     13416  0   328   328 76.8K  20%
   2     2 image     400    50  gray    1   8  image  no         0  0   200   200 1317B 6.6%
   3     3 image     400    50  gray    1   8  image  no         0  0   200   200 1317B 6.6%
   4     4 smask   4000  2864  gray    1   8  image  no        12  0  1440  1440  1.5M 7.3%
";
        let images = parse_image_list(listing);
        assert_eq!(images.count, 4);
        assert_eq!(images.bytes, 78643 + 2 * 1317 + 1572864);
        assert_eq!(images.pixels, 342 * 387 + 2 * 400 * 50 + 4000 * 2864);
        assert_eq!(images.largest, 4000 * 2864);
        assert_eq!((images.resolution[&13416], images.resolution[&12]), (328, 1440));
        assert!(!images.resolution.contains_key(&0));
        assert_eq!(parse_image_list("header\n-----\n"), Images::default());
    }

    #[test]
    fn samples_spread_over_the_document() {
        assert_eq!(sample_pages(3, 10), vec![1, 2, 3]);
        assert_eq!(sample_pages(10, 10), (1..=10).collect::<Vec<_>>());
        assert_eq!(sample_pages(1321, 5), vec![1, 331, 661, 991, 1321]);
        let sample = sample_pages(11, 10);
        assert_eq!((sample.len(), sample[0], sample[9]), (10, 1, 11));
    }
}
