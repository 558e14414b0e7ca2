//! `watermark`, `page_numbers`, `sign`: marks drawn on top of (or under) existing pages.
//!
//! Coordinates and sizes are in PDF points (1/72 inch) on the page as it is displayed, that is
//! after its `/Rotate`: "bottom left" is the bottom left a reader sees. Angles are degrees,
//! counterclockwise. Optional fields are `Option`s so the tool can tell "not given" from "given"
//! and refuse options that would have no effect.

use super::{Validate, page_selection};
use crate::error::ToolError;
use crate::pages::PageSelection;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest text accepted for one mark, in characters.
pub const MAX_MARK_TEXT_CHARS: usize = 1000;
/// Most lines accepted in one mark's text.
pub const MAX_MARK_LINES: usize = 20;
/// Most elements one `sign` step places.
pub const MAX_SIGN_ELEMENTS: usize = 100;

/// One of nine anchors on the displayed page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    TopLeft,
    TopCenter,
    TopRight,
    MiddleLeft,
    Center,
    MiddleRight,
    BottomLeft,
    BottomCenter,
    BottomRight,
}

impl Position {
    /// Horizontal and vertical alignment: -1 start (left, bottom), 0 centre, 1 end (right, top).
    pub fn alignment(self) -> (i8, i8) {
        match self {
            Self::TopLeft => (-1, 1),
            Self::TopCenter => (0, 1),
            Self::TopRight => (1, 1),
            Self::MiddleLeft => (-1, 0),
            Self::Center => (0, 0),
            Self::MiddleRight => (1, 0),
            Self::BottomLeft => (-1, -1),
            Self::BottomCenter => (0, -1),
            Self::BottomRight => (1, -1),
        }
    }

    /// The snake_case name, as written in parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopLeft => "top_left",
            Self::TopCenter => "top_center",
            Self::TopRight => "top_right",
            Self::MiddleLeft => "middle_left",
            Self::Center => "center",
            Self::MiddleRight => "middle_right",
            Self::BottomLeft => "bottom_left",
            Self::BottomCenter => "bottom_center",
            Self::BottomRight => "bottom_right",
        }
    }
}

/// The embedded typefaces (DejaVu); each covers Latin, Greek and Cyrillic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StampFont {
    /// DejaVu Sans.
    #[default]
    Sans,
    /// DejaVu Sans Bold.
    SansBold,
    /// DejaVu Serif.
    Serif,
    /// DejaVu Sans Mono.
    Mono,
}

/// Whether a mark is drawn over the page's content or beneath it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// On top of everything on the page.
    #[default]
    Over,
    /// Beneath the page's content: hidden wherever the page paints an opaque background
    /// (scanned pages are one big opaque image).
    Under,
}

/// An RGB colour from `#RRGGBB` (hex digits in either case); the error names `field`.
pub fn parse_color(field: &str, value: &str) -> Result<[u8; 3], ToolError> {
    let bad = || ToolError::invalid_param(field, format!("{value:?} is not a #RRGGBB colour"));
    let hex = value.strip_prefix('#').filter(|h| h.len() == 6 && h.is_ascii()).ok_or_else(bad)?;
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
    Ok([channel(0)?, channel(2)?, channel(4)?])
}

/// Checks that a number is finite and within `min..=max`.
fn check_range(field: &str, value: f32, min: f32, max: f32) -> Result<(), ToolError> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ToolError::invalid_param(field, format!("must be between {min} and {max}, got {value}")))
    }
}

fn check_opacity(field: &str, value: f32) -> Result<(), ToolError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(ToolError::invalid_param(field, "must be between 0 and 1"))
    }
}

/// Text must show something, and stay within the size limits.
pub fn check_mark_text(field: &str, text: &str) -> Result<(), ToolError> {
    if text.trim().is_empty() {
        return Err(ToolError::invalid_param(field, "must not be empty"));
    }
    if text.chars().count() > MAX_MARK_TEXT_CHARS {
        return Err(ToolError::invalid_param(field, format!("is longer than {MAX_MARK_TEXT_CHARS} characters")));
    }
    if text.lines().count() > MAX_MARK_LINES {
        return Err(ToolError::invalid_param(field, format!("has more than {MAX_MARK_LINES} lines")));
    }
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n') {
        return Err(ToolError::invalid_param(field, format!("contains the control character U+{:04X}", c as u32)));
    }
    Ok(())
}

const DEFAULT_WATERMARK_FONT_SIZE: f32 = 48.0;
const DEFAULT_WATERMARK_COLOR: &str = "#808080";
const DEFAULT_WATERMARK_SCALE: f32 = 0.5;
const DEFAULT_EDGE_MARGIN: f32 = 36.0;
const DEFAULT_TILE_SPACING: f32 = 72.0;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatermarkParams {
    /// The watermark text; `\n` starts a new line (lines are centred). Required unless the last
    /// input is a PNG or JPEG image, which is then the watermark (give one or the other).
    #[serde(default)]
    pub text: Option<String>,
    /// Typeface of the text (embedded and subset, so any Latin, Greek or Cyrillic text works).
    /// Default `sans`.
    #[serde(default)]
    pub font: Option<StampFont>,
    /// Text size in points. Default 48.
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub font_size: Option<f32>,
    /// Text colour, `#RRGGBB`. Default `#808080` (grey).
    #[serde(default)]
    pub color: Option<String>,
    /// Image watermark only: the image's width as a fraction of the displayed page's width
    /// (0.5 = half the page width; the height follows the image's proportions). Default 0.5.
    #[serde(default)]
    #[schemars(range(min = 0.01, max = 10))]
    pub scale: Option<f32>,
    /// 0 (invisible) to 1 (opaque). Default 0.5.
    #[serde(default = "half")]
    #[schemars(range(min = 0, max = 1))]
    pub opacity: f32,
    /// Counterclockwise rotation in degrees about the watermark's centre (45 runs bottom left to
    /// top right). Default 0.
    #[serde(default)]
    #[schemars(range(min = -360, max = 360))]
    pub rotation: f32,
    /// Where on the displayed page (after its rotation) the watermark goes. Default `center`.
    /// With `tile`, the copy at this position fixes where the grid of copies lies.
    #[serde(default)]
    pub position: Option<Position>,
    /// Distance in points between the watermark and the page edges it is anchored to (not
    /// allowed with `center`, which touches no edge). Default 36.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub margin: Option<f32>,
    /// Repeat the watermark in a grid over the whole page. Default false.
    #[serde(default)]
    pub tile: bool,
    /// With `tile`: the gap in points between neighbouring copies. Default 72.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub spacing: Option<f32>,
    /// Drawn `over` the page content (default) or `under` it.
    #[serde(default)]
    pub layer: Layer,
    /// Pages to mark (e.g. `1-3,even,last`). Absent: every page.
    #[serde(default)]
    pub pages: Option<String>,
}

fn half() -> f32 {
    0.5
}

impl Validate for WatermarkParams {
    fn validate(&self) -> Result<(), ToolError> {
        if let Some(text) = &self.text {
            check_mark_text("text", text)?;
        }
        if let Some(size) = self.font_size {
            check_range("font_size", size, 1.0, 500.0)?;
        }
        if let Some(color) = &self.color {
            parse_color("color", color)?;
        }
        if let Some(scale) = self.scale {
            check_range("scale", scale, 0.01, 10.0)?;
        }
        check_opacity("opacity", self.opacity)?;
        check_range("rotation", self.rotation, -360.0, 360.0)?;
        check_margin(self.margin, self.position.unwrap_or(Position::Center))?;
        match self.spacing {
            Some(_) if !self.tile => Err(ToolError::invalid_param("spacing", "only applies with \"tile\": true")),
            Some(spacing) => check_range("spacing", spacing, 0.0, 10_000.0),
            None => Ok(()),
        }?;
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

fn check_margin(margin: Option<f32>, position: Position) -> Result<(), ToolError> {
    match margin {
        Some(_) if position == Position::Center => {
            Err(ToolError::invalid_param("margin", "has no effect with position \"center\"; choose an edge position"))
        }
        Some(margin) => check_range("margin", margin, 0.0, 10_000.0),
        None => Ok(()),
    }
}

impl WatermarkParams {
    /// The text's colour.
    pub fn rgb(&self) -> [u8; 3] {
        parse_color("color", self.color.as_deref().unwrap_or(DEFAULT_WATERMARK_COLOR)).unwrap_or([128; 3])
    }

    pub fn font_size_or_default(&self) -> f32 {
        self.font_size.unwrap_or(DEFAULT_WATERMARK_FONT_SIZE)
    }

    pub fn scale_or_default(&self) -> f32 {
        self.scale.unwrap_or(DEFAULT_WATERMARK_SCALE)
    }

    pub fn margin_or_default(&self) -> f32 {
        self.margin.unwrap_or(DEFAULT_EDGE_MARGIN)
    }

    /// The gap between tiled copies, when tiling.
    pub fn tile_spacing(&self) -> Option<f32> {
        self.tile.then(|| self.spacing.unwrap_or(DEFAULT_TILE_SPACING))
    }

    /// Refuses the options of the kind of watermark not chosen: text options with an image, and
    /// image options with text.
    pub fn check_kind(&self, has_image: bool) -> Result<(), ToolError> {
        if has_image {
            if self.text.is_some() {
                return Err(ToolError::invalid_param(
                    "text",
                    "give either a text or an image (the last input), not both",
                ));
            }
            let text_only = [
                ("font", self.font.is_some()),
                ("font_size", self.font_size.is_some()),
                ("color", self.color.is_some()),
            ];
            if let Some((field, _)) = text_only.iter().find(|(_, given)| *given) {
                return Err(ToolError::invalid_param(field, "applies to text watermarks, not to an image"));
            }
        } else {
            if self.text.is_none() {
                return Err(ToolError::invalid_param(
                    "text",
                    "required, unless a PNG or JPEG image is given as the last input",
                ));
            }
            if self.scale.is_some() {
                return Err(ToolError::invalid_param("scale", "applies to image watermarks; use font_size for text"));
            }
        }
        Ok(())
    }
}

/// How page numbers are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NumberFormat {
    /// 1, 2, 3 …
    #[default]
    Arabic,
    /// i, ii, iii, iv …
    Roman,
    /// I, II, III, IV …
    RomanUpper,
    /// A, B, … Z, AA, AB, … (like spreadsheet columns).
    Letters,
    /// a, b, … z, aa, ab, …
    LettersLower,
}

impl NumberFormat {
    /// `n` (from 1) written in this format.
    pub fn format(self, n: u32) -> String {
        match self {
            Self::Arabic => n.to_string(),
            Self::Roman => roman(n).to_lowercase(),
            Self::RomanUpper => roman(n),
            Self::Letters => letters(n),
            Self::LettersLower => letters(n).to_lowercase(),
        }
    }
}

/// Roman numerals; past 3999, thousands repeat `M`.
fn roman(mut n: u32) -> String {
    const DIGITS: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, digits) in DIGITS {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    out
}

/// Bijective base 26: 1 → A, 26 → Z, 27 → AA.
fn letters(mut n: u32) -> String {
    let mut out = Vec::new();
    while n > 0 {
        n -= 1;
        out.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Largest page number accepted as `start`: roman numerals and letters stay short below it.
pub const MAX_PAGE_NUMBER_START: u32 = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageNumbersParams {
    /// Where the number goes on the displayed page. Default `bottom_center`.
    #[serde(default = "bottom_center")]
    pub position: Position,
    /// `arabic` (1, 2, 3; default), `roman` (i, ii, iii), `roman_upper` (I, II, III), `letters`
    /// (A … Z, AA, AB …) or `letters_lower` (a … z, aa, ab …).
    #[serde(default)]
    pub format: NumberFormat,
    /// The number shown on the first numbered page (with `skip_first`, the second selected
    /// page). Default 1.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 100000))]
    pub start: u32,
    /// What each page shows: `{n}` is the page's number, `{total}` the number on the last
    /// numbered page (the count of numbered pages when `start` is 1), both in `format`.
    /// Default `{n}`; e.g. `Page {n} of {total}`.
    #[serde(default = "just_n")]
    pub template: String,
    /// Text put before the template's result. Default none.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Text put after the template's result. Default none.
    #[serde(default)]
    pub suffix: Option<String>,
    /// Typeface. Default `sans`.
    #[serde(default)]
    pub font: StampFont,
    /// Text size in points. Default 12.
    #[serde(default = "twelve")]
    #[schemars(range(min = 1, max = 500))]
    pub font_size: f32,
    /// Text colour, `#RRGGBB`. Default `#000000`.
    #[serde(default = "black")]
    pub color: String,
    /// 0 (invisible) to 1 (opaque). Default 1.
    #[serde(default = "opaque")]
    #[schemars(range(min = 0, max = 1))]
    pub opacity: f32,
    /// Distance in points from the page edges the number is anchored to. Default 28 (about 1 cm).
    /// Not allowed with `center`.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub margin: Option<f32>,
    /// Pages that get a number (e.g. `3-`), numbered in page order. Absent: every page.
    #[serde(default)]
    pub pages: Option<String>,
    /// The first selected page (usually the cover) gets no number; numbering starts on the
    /// next one, with `start`. Default false.
    #[serde(default)]
    pub skip_first: bool,
}

fn bottom_center() -> Position {
    Position::BottomCenter
}
fn one() -> u32 {
    1
}
fn just_n() -> String {
    "{n}".into()
}
fn twelve() -> f32 {
    12.0
}
fn black() -> String {
    "#000000".into()
}
fn opaque() -> f32 {
    1.0
}

const DEFAULT_NUMBER_MARGIN: f32 = 28.0;

impl Validate for PageNumbersParams {
    fn validate(&self) -> Result<(), ToolError> {
        if !(1..=MAX_PAGE_NUMBER_START).contains(&self.start) {
            return Err(ToolError::invalid_param("start", format!("must be between 1 and {MAX_PAGE_NUMBER_START}")));
        }
        check_template(&self.template)?;
        for (field, value) in [("prefix", &self.prefix), ("suffix", &self.suffix)] {
            if let Some(text) = value
                && let Some(c) = text.chars().find(|c| c.is_control())
            {
                return Err(ToolError::invalid_param(
                    field,
                    format!("contains the control character U+{:04X}", c as u32),
                ));
            }
        }
        check_range("font_size", self.font_size, 1.0, 500.0)?;
        parse_color("color", &self.color)?;
        check_opacity("opacity", self.opacity)?;
        check_margin(self.margin, self.position)?;
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

/// A template needs `{n}` (else every page would show the same text) and no other placeholder
/// (a typo such as `{page}` would otherwise be printed as is).
fn check_template(template: &str) -> Result<(), ToolError> {
    check_mark_text("template", template)?;
    if !template.contains("{n}") {
        return Err(ToolError::invalid_param("template", "must contain {n}, the page number"));
    }
    let rest = template.replace("{n}", "").replace("{total}", "");
    if let Some(start) = rest.find('{')
        && let Some(len) = rest[start..].find('}')
    {
        let unknown = &rest[start..start + len + 1];
        return Err(ToolError::invalid_param(
            "template",
            format!("unknown placeholder {unknown}; use {{n}} or {{total}}"),
        ));
    }
    Ok(())
}

impl PageNumbersParams {
    pub fn rgb(&self) -> [u8; 3] {
        parse_color("color", &self.color).unwrap_or([0; 3])
    }

    pub fn margin_or_default(&self) -> f32 {
        self.margin.unwrap_or(DEFAULT_NUMBER_MARGIN)
    }

    /// The pages to number, in page order, from the selection and `skip_first`; refuses a
    /// choice that leaves nothing to number.
    pub fn numbered_pages(&self, page_count: u32) -> Result<Vec<u32>, ToolError> {
        let selection = page_selection("pages", self.pages.as_deref())?;
        let mut pages = selection.resolve(page_count).map_err(|e| ToolError::invalid_param("pages", e))?;
        pages.sort_unstable();
        if self.skip_first {
            pages.remove(0);
            if pages.is_empty() {
                return Err(ToolError::invalid_param("skip_first", "leaves no page to number (one page selected)"));
            }
        }
        Ok(pages)
    }

    /// The text for the `index`-th (from 0) of `numbered` numbered pages.
    pub fn label(&self, index: u32, numbered: u32) -> String {
        let n = self.format.format(self.start + index);
        let total = self.format.format(self.start + numbered - 1);
        let body = self.template.replace("{total}", &total).replace("{n}", &n);
        format!("{}{body}{}", self.prefix.as_deref().unwrap_or(""), self.suffix.as_deref().unwrap_or(""))
    }
}

/// What a `sign` element draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignElementKind {
    /// `text`, e.g. a name.
    Text,
    /// Today's date, written with `date_format`.
    Date,
    /// An image input (`image`).
    Image,
}

/// A page, by number or as a selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PageChoice {
    /// One page, 1-based.
    Number(u32),
    /// A page selection: `last`, `1-3`, `even` ….
    Selection(String),
}

impl PageChoice {
    pub fn selection(&self, field: &str) -> Result<PageSelection, ToolError> {
        match self {
            Self::Number(0) => Err(ToolError::invalid_param(field, "pages are numbered from 1")),
            Self::Number(n) => page_selection(field, Some(&n.to_string())),
            Self::Selection(text) => page_selection(field, Some(text)),
        }
    }
}

const DEFAULT_SIGN_FONT_SIZE: f32 = 18.0;
const DEFAULT_SIGN_IMAGE_WIDTH: f32 = 150.0;
const DEFAULT_DATE_FORMAT: &str = "%Y-%m-%d";

/// One thing `sign` places: text, the date, or an image.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignElement {
    /// `text`, `date` or `image`. Absent: `image` when `image` is given, `date` when
    /// `date_format` is, else `text`.
    #[serde(default, rename = "type")]
    pub kind: Option<SignElementKind>,
    /// Page(s) to place it on: a number (`3`) or a selection (`"1,last"`). Default `last`.
    #[serde(default)]
    pub page: Option<PageChoice>,
    /// Left edge of the element's box, in points from the left of the displayed page. Give `x`
    /// and `y`, or `position`.
    #[serde(default)]
    pub x: Option<f32>,
    /// Bottom edge of the element's box, in points from the bottom of the displayed page.
    #[serde(default)]
    pub y: Option<f32>,
    /// An anchor instead of `x`/`y`. Default (when neither is given) `bottom_right`.
    #[serde(default)]
    pub position: Option<Position>,
    /// With `position`: distance in points from the anchored edges. Default 36.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub margin: Option<f32>,
    /// Width of the element's box in points. Images fit inside the box keeping their proportions
    /// (default width 150 when neither `width` nor `height` is given); text is sized to fill it
    /// (or shrunk to fit, when `font_size` is also given). The content is centred in the box.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub width: Option<f32>,
    /// Height of the element's box in points; see `width`.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub height: Option<f32>,
    /// The text of a `text` element; `\n` starts a new line.
    #[serde(default)]
    pub text: Option<String>,
    /// `date` elements: a strftime pattern (`%d.%m.%Y`, `%B %-d, %Y`). Default `%Y-%m-%d`.
    #[serde(default)]
    pub date_format: Option<String>,
    /// `date` elements: the time zone the date is taken in, as an offset from UTC (`+02:00`,
    /// `-05:00`). Default `+00:00` (UTC).
    #[serde(default)]
    pub utc_offset: Option<String>,
    /// `image` elements: the 0-based index of the input file holding the PNG or JPEG (the PDF is
    /// input 0, so the first image is 1).
    #[serde(default)]
    pub image: Option<usize>,
    /// Text size in points for `text` and `date`. Default 18, or whatever fills `width`/`height`.
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub font_size: Option<f32>,
    /// Text colour, `#RRGGBB`. Default `#000000`.
    #[serde(default)]
    pub color: Option<String>,
    /// Typeface for text and dates. Default `sans`.
    #[serde(default)]
    pub font: Option<StampFont>,
    /// Counterclockwise rotation in degrees about the box's centre. Default 0.
    #[serde(default)]
    #[schemars(range(min = -360, max = 360))]
    pub rotation: f32,
    /// 0 (invisible) to 1 (opaque). Default 1.
    #[serde(default = "opaque")]
    #[schemars(range(min = 0, max = 1))]
    pub opacity: f32,
}

/// Where a sign element goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ElementPlace {
    /// The box's bottom-left corner, in points on the displayed page.
    At {
        x: f32,
        y: f32,
    },
    Anchored {
        position: Position,
        margin: f32,
    },
}

impl SignElement {
    /// The element's kind, given or inferred.
    pub fn kind(&self) -> SignElementKind {
        self.kind.unwrap_or(if self.image.is_some() {
            SignElementKind::Image
        } else if self.date_format.is_some() || self.utc_offset.is_some() {
            SignElementKind::Date
        } else {
            SignElementKind::Text
        })
    }

    pub fn page_selection(&self, field: &str) -> Result<PageSelection, ToolError> {
        match &self.page {
            Some(choice) => choice.selection(field),
            None => page_selection(field, Some("last")),
        }
    }

    pub fn place(&self) -> ElementPlace {
        match (self.x, self.y) {
            (Some(x), Some(y)) => ElementPlace::At { x, y },
            _ => ElementPlace::Anchored {
                position: self.position.unwrap_or(Position::BottomRight),
                margin: self.margin.unwrap_or(DEFAULT_EDGE_MARGIN),
            },
        }
    }

    pub fn rgb(&self) -> [u8; 3] {
        parse_color("color", self.color.as_deref().unwrap_or("#000000")).unwrap_or([0; 3])
    }

    /// The text size to draw at before fitting into the box: given, or 18.
    pub fn font_size_or_default(&self) -> f32 {
        self.font_size.unwrap_or(DEFAULT_SIGN_FONT_SIZE)
    }

    /// An image's box: the given width and/or height, else 150 points wide.
    pub fn image_box(&self) -> (Option<f32>, Option<f32>) {
        match (self.width, self.height) {
            (None, None) => (Some(DEFAULT_SIGN_IMAGE_WIDTH), None),
            given => given,
        }
    }

    pub fn date_format_or_default(&self) -> &str {
        self.date_format.as_deref().unwrap_or(DEFAULT_DATE_FORMAT)
    }

    /// The UTC offset in seconds.
    pub fn utc_offset_seconds(&self, field: &str) -> Result<i32, ToolError> {
        match &self.utc_offset {
            None => Ok(0),
            Some(text) => parse_utc_offset(text).ok_or_else(|| {
                ToolError::invalid_param(field, format!("{text:?} is not an offset like +02:00 or -05:30"))
            }),
        }
    }

    fn validate_at(&self, at: &str) -> Result<(), ToolError> {
        let field = |name: &str| format!("{at}.{name}");
        self.check_kind_fields(at)?;
        self.page_selection(&field("page"))?;
        self.check_place(at)?;
        for (name, value) in [("width", self.width), ("height", self.height)] {
            if let Some(v) = value {
                check_range(&field(name), v, 1.0, 14_400.0)?;
            }
        }
        if let Some(size) = self.font_size {
            check_range(&field("font_size"), size, 1.0, 500.0)?;
        }
        if let Some(color) = &self.color {
            parse_color(&field("color"), color)?;
        }
        check_range(&field("rotation"), self.rotation, -360.0, 360.0)?;
        check_opacity(&field("opacity"), self.opacity)
    }

    fn check_place(&self, at: &str) -> Result<(), ToolError> {
        let field = |name: &str| format!("{at}.{name}");
        match (self.x, self.y) {
            (Some(x), Some(y)) => {
                if self.position.is_some() || self.margin.is_some() {
                    let which = if self.position.is_some() { "position" } else { "margin" };
                    return Err(ToolError::invalid_param(
                        &field(which),
                        "give either x and y, or position (with margin)",
                    ));
                }
                check_range(&field("x"), x, -14_400.0, 14_400.0)?;
                check_range(&field("y"), y, -14_400.0, 14_400.0)
            }
            (Some(_), None) => Err(ToolError::invalid_param(&field("y"), "required with x")),
            (None, Some(_)) => Err(ToolError::invalid_param(&field("x"), "required with y")),
            (None, None) => check_margin(self.margin, self.position.unwrap_or(Position::BottomRight))
                .map_err(|e| ToolError::invalid_param(&field("margin"), e.message.trim_start_matches("margin: "))),
        }
    }

    /// Each kind takes its own fields and refuses the others'.
    fn check_kind_fields(&self, at: &str) -> Result<(), ToolError> {
        let field = |name: &str| format!("{at}.{name}");
        let kind = self.kind();
        let text_style =
            [("font_size", self.font_size.is_some()), ("color", self.color.is_some()), ("font", self.font.is_some())];
        let (required, refused): (&str, Vec<(&str, bool)>) = match kind {
            SignElementKind::Text => (
                "text",
                vec![
                    ("image", self.image.is_some()),
                    ("date_format", self.date_format.is_some()),
                    ("utc_offset", self.utc_offset.is_some()),
                ],
            ),
            SignElementKind::Date => ("", vec![("image", self.image.is_some()), ("text", self.text.is_some())]),
            SignElementKind::Image => {
                let mut refused = vec![
                    ("text", self.text.is_some()),
                    ("date_format", self.date_format.is_some()),
                    ("utc_offset", self.utc_offset.is_some()),
                ];
                refused.extend(text_style);
                ("image", refused)
            }
        };
        let kind_name = match kind {
            SignElementKind::Text => "a text",
            SignElementKind::Date => "a date",
            SignElementKind::Image => "an image",
        };
        if let Some((name, _)) = refused.iter().find(|(_, given)| *given) {
            return Err(ToolError::invalid_param(&field(name), format!("does not apply to {kind_name} element")));
        }
        match kind {
            SignElementKind::Text => match &self.text {
                Some(text) => check_mark_text(&field("text"), text),
                None => Err(ToolError::invalid_param(&field(required), "required for a text element")),
            },
            SignElementKind::Image => match self.image {
                Some(0) => {
                    Err(ToolError::invalid_param(&field("image"), "input 0 is the PDF; images are inputs 1 and up"))
                }
                Some(_) => Ok(()),
                None => {
                    Err(ToolError::invalid_param(&field(required), "required for an image element (an input index)"))
                }
            },
            SignElementKind::Date => {
                check_date_format(&field("date_format"), self.date_format_or_default())?;
                self.utc_offset_seconds(&field("utc_offset")).map(drop)
            }
        }
    }
}

fn check_date_format(field: &str, format: &str) -> Result<(), ToolError> {
    let items = chrono::format::StrftimeItems::new(format)
        .parse()
        .map_err(|_| ToolError::invalid_param(field, format!("{format:?} is not a valid strftime pattern")))?;
    if items.is_empty() || format.trim().is_empty() {
        return Err(ToolError::invalid_param(field, "must not be empty"));
    }
    check_mark_text(field, format)
}

/// `+02:00`, `-0530`, `Z` → seconds east of UTC.
fn parse_utc_offset(text: &str) -> Option<i32> {
    if text == "Z" {
        return Some(0);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|&c| c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || rest.len() > 5 {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    (hours <= 14 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignParams {
    /// What to place, in drawing order (later elements are drawn over earlier ones).
    pub elements: Vec<SignElement>,
}

impl Validate for SignParams {
    fn validate(&self) -> Result<(), ToolError> {
        if self.elements.is_empty() {
            return Err(ToolError::invalid_param("elements", "must list at least one element"));
        }
        if self.elements.len() > MAX_SIGN_ELEMENTS {
            return Err(ToolError::invalid_param("elements", format!("at most {MAX_SIGN_ELEMENTS} elements")));
        }
        for (i, element) in self.elements.iter().enumerate() {
            element.validate_at(&format!("elements[{i}]"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn watermark(value: serde_json::Value) -> Result<WatermarkParams, ToolError> {
        let params: WatermarkParams =
            serde_json::from_value(value).map_err(|e| ToolError::invalid_param("params", e))?;
        params.validate().map(|()| params)
    }

    #[test]
    fn colours_are_hex_triplets() {
        assert_eq!(parse_color("color", "#ff8000").unwrap(), [255, 128, 0]);
        assert_eq!(parse_color("color", "#FF8000").unwrap(), [255, 128, 0]);
        for bad in ["#GG0000", "ff8000", "#fff", "#ff80001", "#ÿÿÿ"] {
            let err = parse_color("color", bad).unwrap_err();
            assert_eq!(err.message, format!("color: {bad:?} is not a #RRGGBB colour"));
        }
    }

    #[test]
    fn watermark_errors_name_the_field() {
        let cases = [
            (json!({"text": "x", "opacity": 1.5}), "opacity: must be between 0 and 1"),
            (json!({"text": "x", "color": "#GG0000"}), "color: \"#GG0000\" is not a #RRGGBB colour"),
            (json!({"text": "  "}), "text: must not be empty"),
            (json!({"text": "x", "margin": 10}), "margin: has no effect"),
            (json!({"text": "x", "spacing": 10}), "spacing: only applies"),
            (json!({"text": "x", "font_size": 0}), "font_size: must be between"),
            (json!({"text": "x", "pages": "0"}), "pages:"),
        ];
        for (value, expected) in cases {
            let err = watermark(value.clone()).unwrap_err();
            assert!(err.message.starts_with(expected), "{value}: {}", err.message);
        }
        let params =
            watermark(json!({"text": "x", "position": "top_left", "margin": 10, "tile": true, "spacing": 0})).unwrap();
        assert_eq!(params.tile_spacing(), Some(0.0));
    }

    #[test]
    fn watermark_kind_refuses_the_other_kinds_options() {
        let text = watermark(json!({"text": "x", "scale": 0.3})).unwrap();
        assert!(text.check_kind(false).unwrap_err().message.starts_with("scale:"));
        assert!(text.check_kind(true).unwrap_err().message.starts_with("text:"));
        let image = watermark(json!({"color": "#000000"})).unwrap();
        assert!(image.check_kind(true).unwrap_err().message.starts_with("color:"));
        assert!(image.check_kind(false).unwrap_err().message.starts_with("text: required"));
    }

    #[test]
    fn number_formats() {
        let f = |format: NumberFormat, n| format.format(n);
        assert_eq!(f(NumberFormat::Roman, 4), "iv");
        assert_eq!(f(NumberFormat::RomanUpper, 1994), "MCMXCIV");
        assert_eq!(f(NumberFormat::Letters, 3), "C");
        assert_eq!(f(NumberFormat::Letters, 26), "Z");
        assert_eq!(f(NumberFormat::Letters, 27), "AA");
        assert_eq!(f(NumberFormat::LettersLower, 28), "ab");
        assert_eq!(f(NumberFormat::Letters, 702), "ZZ");
        assert_eq!(f(NumberFormat::Letters, 703), "AAA");
    }

    #[test]
    fn page_number_labels_and_pages() {
        let params: PageNumbersParams =
            serde_json::from_value(json!({"template": "Page {n} of {total}", "prefix": "- ", "start": 3})).unwrap();
        params.validate().unwrap();
        assert_eq!(params.label(0, 10), "- Page 3 of 12");
        let params: PageNumbersParams = serde_json::from_value(json!({"pages": "5,2-3", "skip_first": true})).unwrap();
        assert_eq!(params.numbered_pages(6).unwrap(), [3, 5]);
        let params: PageNumbersParams = serde_json::from_value(json!({"pages": "2", "skip_first": true})).unwrap();
        assert!(params.numbered_pages(6).unwrap_err().message.starts_with("skip_first:"));
        for bad in ["Page", "{n} {page}"] {
            let params: PageNumbersParams = serde_json::from_value(json!({ "template": bad })).unwrap();
            assert!(params.validate().unwrap_err().message.starts_with("template:"), "{bad}");
        }
    }

    #[test]
    fn sign_elements_are_checked_by_kind() {
        let sign = |elements: serde_json::Value| -> Result<SignParams, ToolError> {
            let params: SignParams = serde_json::from_value(json!({ "elements": elements })).unwrap();
            params.validate().map(|()| params)
        };
        let ok = sign(json!([{"text": "Jane", "x": 10, "y": 20}, {"image": 1, "page": 2}, {"type": "date", "utc_offset": "+05:30"}])).unwrap();
        assert_eq!(ok.elements[1].kind(), SignElementKind::Image);
        assert_eq!(ok.elements[2].utc_offset_seconds("u").unwrap(), 19800);
        assert_eq!(ok.elements[0].place(), ElementPlace::At { x: 10.0, y: 20.0 });
        let cases = [
            (json!([{"text": "a", "x": 1}]), "elements[0].y: required with x"),
            (json!([{"text": "a", "image": 1}]), "elements[0].text: does not apply to an image element"),
            (json!([{"image": 1, "color": "#000000"}]), "elements[0].color: does not apply"),
            (json!([{"image": 0}]), "elements[0].image: input 0 is the PDF"),
            (json!([{"type": "date", "date_format": "%Q"}]), "elements[0].date_format:"),
            (json!([{"type": "date", "utc_offset": "2h"}]), "elements[0].utc_offset:"),
            (json!([{"text": "a", "page": 0}]), "elements[0].page: pages are numbered from 1"),
            (json!([{"text": "a", "x": 1, "y": 2, "position": "center"}]), "elements[0].position:"),
            (json!([{"text": "a", "opacity": -1}]), "elements[0].opacity: must be between 0 and 1"),
            (json!([]), "elements: must list"),
        ];
        for (elements, expected) in cases {
            let err = sign(elements.clone()).unwrap_err();
            assert!(err.message.starts_with(expected), "{elements}: {}", err.message);
        }
    }
}
