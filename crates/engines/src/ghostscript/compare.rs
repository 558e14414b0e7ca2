//! Pixels of rendered pages: decoding poppler's netpbm output and measuring what a rewrite did
//! to a page (structural similarity, ink, colour).

/// Why bytes are not a raster [`Raster::from_netpbm`] reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NetpbmError {
    #[error("not a binary PGM or PPM image")]
    NotNetpbm,
    #[error("malformed netpbm header")]
    MalformedHeader,
    #[error("netpbm maxval {0}, expected 255")]
    MaxVal(usize),
    #[error("netpbm image without samples")]
    NoSamples,
    #[error("netpbm image truncated: {found} of {expected} samples")]
    Truncated { found: usize, expected: usize },
}

/// One rendered page, 8 bits per sample: 1 sample per pixel (gray) or 3 (RGB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raster {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub samples: Vec<u8>,
}

impl Raster {
    /// Decodes binary PGM (`P5`) or PPM (`P6`) with 8-bit samples, as `pdftoppm` writes them.
    pub fn from_netpbm(bytes: &[u8]) -> Result<Raster, NetpbmError> {
        let channels = match bytes.get(..2) {
            Some(b"P5") => 1,
            Some(b"P6") => 3,
            _ => return Err(NetpbmError::NotNetpbm),
        };
        // Header: magic, width, height, maxval, separated by whitespace (and `#` comments),
        // then exactly one whitespace byte before the samples.
        let mut fields = [0usize; 3];
        let mut at = 2;
        for field in &mut fields {
            loop {
                match bytes.get(at) {
                    Some(b'#') => {
                        while bytes.get(at).is_some_and(|&b| b != b'\n') {
                            at += 1;
                        }
                    }
                    Some(b) if b.is_ascii_whitespace() => at += 1,
                    _ => break,
                }
            }
            let start = at;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            *field = std::str::from_utf8(&bytes[start..at])
                .ok()
                .and_then(|digits| digits.parse().ok())
                .ok_or(NetpbmError::MalformedHeader)?;
        }
        let [width, height, maxval] = fields;
        if maxval != 255 {
            return Err(NetpbmError::MaxVal(maxval));
        }
        let samples = bytes.get(at + 1..).ok_or(NetpbmError::NoSamples)?;
        let expected = width * height * channels;
        if samples.len() < expected {
            return Err(NetpbmError::Truncated { found: samples.len(), expected });
        }
        Ok(Raster { width, height, channels, samples: samples[..expected].to_vec() })
    }

    /// Pixels darker than near-white: anything a page draws on white paper.
    pub fn inked_pixels(&self) -> usize {
        self.samples.chunks_exact(self.channels).filter(|px| px.iter().any(|&s| s < INK_BELOW)).count()
    }

    /// Share of pixels whose channels differ by more than a rounding error: colour, not gray.
    pub fn colourful_share(&self) -> f64 {
        if self.channels < 3 || self.samples.is_empty() {
            return 0.0;
        }
        let coloured = self
            .samples
            .chunks_exact(3)
            .filter(|px| {
                let (lo, hi) = (px.iter().min().unwrap_or(&0), px.iter().max().unwrap_or(&0));
                hi - lo > GRAY_TOLERANCE
            })
            .count();
        coloured as f64 / (self.width * self.height) as f64
    }
}

/// Gray level below which a pixel counts as drawn on.
const INK_BELOW: u8 = 245;
/// Channel spread a gray pixel may show after anti-aliasing and colour management.
const GRAY_TOLERANCE: u8 = 6;

/// Mean structural similarity (SSIM) of two gray rasters, as scikit-image's
/// `structural_similarity(a, b, data_range=255)` computes it: 7 × 7 uniform windows, sample
/// covariance, K1 = 0.01, K2 = 0.03, averaged over the windows that fit inside the image. Rasters
/// whose sizes differ by a pixel or two (rounding of page sizes) are compared over their common
/// area; `None` when they differ more (the page changed size) or are too small for a window.
pub(crate) fn ssim(a: &Raster, b: &Raster) -> Option<f64> {
    const WINDOW: usize = 7;
    const SLACK: usize = 2;
    if a.channels != 1 || b.channels != 1 || a.width.abs_diff(b.width) > SLACK || a.height.abs_diff(b.height) > SLACK {
        return None;
    }
    let (width, height) = (a.width.min(b.width), a.height.min(b.height));
    if width < WINDOW || height < WINDOW {
        return None;
    }
    // Summed-area tables of x, y, x², y², xy (exact in integers): every window's moments in O(1).
    let stride = width + 1;
    let cells = stride * (height + 1);
    let (mut sx, mut sy, mut sxx, mut syy, mut sxy) =
        (vec![0i64; cells], vec![0i64; cells], vec![0i64; cells], vec![0i64; cells], vec![0i64; cells]);
    for row in 0..height {
        let (line_a, line_b) = (&a.samples[row * a.width..][..width], &b.samples[row * b.width..][..width]);
        let (mut x_run, mut y_run, mut xx_run, mut yy_run, mut xy_run) = (0i64, 0i64, 0i64, 0i64, 0i64);
        let (above, here) = ((row * stride + 1)..((row + 1) * stride), ((row + 1) * stride + 1)..((row + 2) * stride));
        for (col, (&x, &y)) in line_a.iter().zip(line_b).enumerate() {
            let (x, y) = (i64::from(x), i64::from(y));
            x_run += x;
            y_run += y;
            xx_run += x * x;
            yy_run += y * y;
            xy_run += x * y;
            let (up, at) = (above.start + col, here.start + col);
            sx[at] = sx[up] + x_run;
            sy[at] = sy[up] + y_run;
            sxx[at] = sxx[up] + xx_run;
            syy[at] = syy[up] + yy_run;
            sxy[at] = sxy[up] + xy_run;
        }
    }
    let n = (WINDOW * WINDOW) as f64;
    let covariance_norm = n / (n - 1.0);
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let mut total = 0.0;
    for top in 0..=height - WINDOW {
        let (upper, lower) = (top * stride, (top + WINDOW) * stride);
        for left in 0..=width - WINDOW {
            let (a0, a1, b0, b1) = (upper + left, upper + left + WINDOW, lower + left, lower + left + WINDOW);
            let window = |table: &[i64]| (table[b1] - table[a1] - table[b0] + table[a0]) as f64 / n;
            let (ux, uy) = (window(&sx), window(&sy));
            let vx = covariance_norm * (window(&sxx) - ux * ux);
            let vy = covariance_norm * (window(&syy) - uy * uy);
            let vxy = covariance_norm * (window(&sxy) - ux * uy);
            total += ((2.0 * ux * uy + c1) * (2.0 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
        }
    }
    Some(total / ((height - WINDOW + 1) * (width - WINDOW + 1)) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray(width: usize, height: usize, pixel: impl Fn(usize, usize) -> u8) -> Raster {
        let samples = (0..height).flat_map(|i| (0..width).map(move |j| (i, j))).map(|(i, j)| pixel(i, j)).collect();
        Raster { width, height, channels: 1, samples }
    }

    #[test]
    fn decodes_pgm_and_ppm() {
        let pgm = Raster::from_netpbm(b"P5\n3 2\n255\n\x00\x10\x20\x30\x40\xff").unwrap();
        assert_eq!((pgm.width, pgm.height, pgm.channels, pgm.samples.len()), (3, 2, 1, 6));
        assert_eq!(pgm.inked_pixels(), 5);
        let ppm = Raster::from_netpbm(b"P6 # comment\n1 2 255\n\xff\x00\x00\x80\x80\x80").unwrap();
        assert_eq!((ppm.width, ppm.height, ppm.channels), (1, 2, 3));
        assert_eq!(ppm.colourful_share(), 0.5);
        assert_eq!(Raster::from_netpbm(b"P5\n3 2\n255\n\x00"), Err(NetpbmError::Truncated { found: 1, expected: 6 }));
        assert_eq!(Raster::from_netpbm(b"P4\n1 1\n\x00"), Err(NetpbmError::NotNetpbm));
        assert_eq!(Raster::from_netpbm(b"P5\n1 1\n65535\n\x00\x00"), Err(NetpbmError::MaxVal(65535)));
        assert_eq!(Raster::from_netpbm(b"P5\n1 x"), Err(NetpbmError::MalformedHeader));
    }

    #[test]
    fn ssim_matches_scikit_image() {
        // Reference values from scikit-image 0.26 on the same arrays.
        let x = gray(31, 23, |i, j| u8::try_from((i * 7 + j * 13) % 256).unwrap());
        let y = gray(31, 23, |i, j| u8::try_from((i * 7 + j * 13 + (i * j) % 17) % 256).unwrap());
        assert!((ssim(&x, &y).unwrap() - 0.8712273019868465).abs() < 1e-9);
        assert!((ssim(&x, &x).unwrap() - 1.0).abs() < 1e-12);
        let line = gray(20, 20, |i, j| if (5..15).contains(&i) && j == 8 { 0 } else { 255 });
        let blank = gray(20, 20, |_, _| 255);
        assert!((ssim(&line, &blank).unwrap() - 0.5057382643373454).abs() < 1e-9);
    }

    #[test]
    fn ssim_refuses_other_page_sizes() {
        let a = gray(40, 50, |_, _| 255);
        assert!(ssim(&a, &gray(41, 52, |_, _| 255)).is_some());
        assert!(ssim(&a, &gray(50, 40, |_, _| 255)).is_none());
        assert!(ssim(&gray(5, 5, |_, _| 0), &gray(5, 5, |_, _| 0)).is_none());
    }
}
