//! The embedded typefaces, and measuring text set in them. Text is shaped with rustybuzz, the
//! shaper krilla uses when it draws, so the measured width is the drawn width.

use rustybuzz::{Face, UnicodeBuffer};
use scanpro_core::params::StampFont;

const SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
const SERIF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSerif.ttf");
const MONO: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");

/// The font file behind a choice.
pub(crate) fn font_data(font: StampFont) -> &'static [u8] {
    match font {
        StampFont::Sans => SANS,
        StampFont::SansBold => SANS_BOLD,
        StampFont::Serif => SERIF,
        StampFont::Mono => MONO,
    }
}

/// The name users know a font by, for messages.
pub(crate) fn font_name(font: StampFont) -> &'static str {
    match font {
        StampFont::Sans => "DejaVu Sans",
        StampFont::SansBold => "DejaVu Sans Bold",
        StampFont::Serif => "DejaVu Serif",
        StampFont::Mono => "DejaVu Sans Mono",
    }
}

/// A parsed font, for measuring.
pub(crate) struct Metrics {
    face: Face<'static>,
    units_per_em: f32,
}

impl Metrics {
    pub(crate) fn new(font: StampFont) -> Self {
        // The embedded files are known-good fonts.
        let face = Face::from_slice(font_data(font), 0).expect("embedded font parses");
        let units_per_em = face.units_per_em() as f32;
        Self { face, units_per_em }
    }

    /// Height above the baseline, per point of font size.
    pub(crate) fn ascent(&self) -> f32 {
        f32::from(self.face.ascender()) / self.units_per_em
    }

    /// Height of one line (ascent plus descent), per point of font size.
    pub(crate) fn line_height(&self) -> f32 {
        f32::from(self.face.ascender() - self.face.descender()) / self.units_per_em
    }

    /// The advance width of `line`, per point of font size.
    pub(crate) fn width(&self, line: &str) -> f32 {
        let output = rustybuzz::shape(&self.face, &[], buffer(line));
        let units: i32 = output.glyph_positions().iter().map(|p| p.x_advance).sum();
        units as f32 / self.units_per_em
    }

    /// The first character of `text` the font cannot show (it would print as an empty box).
    pub(crate) fn missing_glyph(&self, text: &str) -> Option<char> {
        text.lines().find_map(|line| {
            let output = rustybuzz::shape(&self.face, &[], buffer(line));
            output
                .glyph_infos()
                .iter()
                .find(|info| info.glyph_id == 0)
                .and_then(|info| line.get(info.cluster as usize..)?.chars().next())
        })
    }
}

fn buffer(text: &str) -> UnicodeBuffer {
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    buffer
}

/// The first character of `text` that `font` has no glyph for.
pub fn missing_glyph(font: StampFont, text: &str) -> Option<char> {
    Metrics::new(font).missing_glyph(text)
}

/// Refuses text the font cannot show, naming `field` and the character.
pub fn check_glyphs(field: &str, font: StampFont, text: &str) -> Result<(), scanpro_core::ToolError> {
    match missing_glyph(font, text) {
        None => Ok(()),
        Some(c) => Err(scanpro_core::ToolError::invalid_param(
            field,
            format!(
                "{} has no glyph for {c:?} (U+{:04X}); Latin, Greek and Cyrillic text works",
                font_name(font),
                c as u32
            ),
        )),
    }
}
