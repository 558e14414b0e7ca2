//! How long a program may run on one input, and which inputs are refused outright.
//!
//! A fixed deadline lets a tiny file buy minutes of CPU: Ghostscript loops on some 2 KB damaged
//! files until it is killed, and spends minutes on a page image of billions of pixels stored in
//! a few megabytes. So a deadline grows with what the input really holds — a few seconds, plus
//! time per page, per megabyte and per megapixel — and never passes the configured ceiling.
//! Pixels count only as far as the file's bytes can hold them: an image that claims more pixels
//! than its stored bytes can plausibly encode earns no extra time for them. An image above
//! [`MAX_IMAGE_PIXELS`] is refused before any program decodes it.

use std::time::Duration;

/// What every run gets, whatever the input: starting the program and reading a small file, on
/// a machine busy enough to run it several times slower than alone.
pub const BASE: Duration = Duration::from_secs(15);
pub const PER_PAGE: Duration = Duration::from_secs(3);
pub const PER_MEGABYTE: Duration = Duration::from_secs(1);
pub const PER_MEGAPIXEL: Duration = Duration::from_millis(200);
/// Pixels one stored byte may account for. Real scans store 2 to 30 pixels a byte (JPEG,
/// Flate); bilevel pages in CCITT or JBIG2 up to a few hundred, but those pixels are cheap.
pub const PIXELS_PER_BYTE: u64 = 50;
/// Pixels in one image above which the image is a decompression bomb to every tool here (as to
/// OCR): 500 megapixels is a 300 dpi page 1.9 m square.
pub const MAX_IMAGE_PIXELS: u64 = 500_000_000;

/// What one input holds, as far as a deadline is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Workload {
    /// Pages (at least one is counted).
    pub pages: u32,
    /// Size of the file.
    pub bytes: u64,
    /// Pixels of its raster images as their dictionaries declare them (each image once).
    pub pixels: u64,
}

impl Workload {
    /// The pixels that earn time: the declared ones, up to what the file's bytes can hold.
    pub fn credited_pixels(&self) -> u64 {
        self.pixels.min(self.bytes.saturating_mul(PIXELS_PER_BYTE))
    }

    /// The deadline of one program run on this input, at most `ceiling`.
    pub fn deadline(&self, ceiling: Duration) -> Duration {
        let megabytes = self.bytes as f64 / 1e6;
        let megapixels = self.credited_pixels() as f64 / 1e6;
        let scaled =
            BASE + PER_PAGE * self.pages.max(1) + PER_MEGABYTE.mul_f64(megabytes) + PER_MEGAPIXEL.mul_f64(megapixels);
        // Whole milliseconds: the deadline shows in messages. Past u64::MAX milliseconds, it
        // saturates.
        Duration::from_millis(u64::try_from(scaled.min(ceiling).as_millis()).unwrap_or(u64::MAX))
    }
}

/// Pages a possibly damaged file declares: its `/Type /Page` dictionaries, counted in the raw
/// bytes (what a reader that reconstructs the file will find).
pub fn declared_pages(bytes: &[u8]) -> u32 {
    const TYPE: &[u8] = b"/Type";
    let mut pages = 0u32;
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], TYPE) {
        at += found + TYPE.len();
        let rest = &bytes[at..];
        let value = rest.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |skip| &rest[skip..]);
        if value.starts_with(b"/Page") && !value[5..].first().is_some_and(u8::is_ascii_alphanumeric) {
            pages = pages.saturating_add(1);
        }
    }
    pages
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_grow_with_the_input_up_to_the_ceiling() {
        let ceiling = Duration::from_secs(120);
        let tiny = Workload { pages: 1, bytes: 2_000, pixels: 0 };
        assert_eq!(tiny.deadline(ceiling), Duration::from_millis(18_002));
        let scan = Workload { pages: 10, bytes: 3_000_000, pixels: 10 * 3_740_000 };
        assert_eq!(scan.deadline(ceiling), Duration::from_millis(15_000 + 30_000 + 3_000 + 7_480));
        let manual = Workload { pages: 1321, bytes: 10_174_139, pixels: 0 };
        assert_eq!(manual.deadline(ceiling), ceiling);
        assert_eq!(Workload::default().deadline(ceiling), BASE + PER_PAGE);
    }

    #[test]
    fn claimed_pixels_earn_time_only_as_far_as_bytes_hold_them() {
        // 35000 × 35000 pixels in 11 KB: no more time than 590,000 pixels would get.
        let bomb = Workload { pages: 1, bytes: 11_779, pixels: 35_000 * 35_000 };
        assert_eq!(bomb.credited_pixels(), 11_779 * PIXELS_PER_BYTE);
        assert!(bomb.deadline(Duration::from_secs(600)) < Duration::from_secs(19));
    }

    #[test]
    fn pages_are_counted_in_damaged_bytes() {
        let bytes = b"<</Type/Pages/Kids[4 0 R]>> <</Type /Page/Parent 3 0 R>> <</Type\n/Page>> /Type/PageLabel";
        assert_eq!(declared_pages(bytes), 2);
        assert_eq!(declared_pages(b""), 0);
    }
}
