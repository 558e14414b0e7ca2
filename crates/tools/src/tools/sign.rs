//! `sign`: a visual signature — text, today's date and images placed on pages of one PDF. The
//! PDF is input 0; images (PNG or JPEG) follow and are chosen by input index.

use super::watermark::{PDF_AND_IMAGES, is_image, read_input};
use super::{About, NativeTool, Tool, ToolParams, pdf_output};
use crate::catalogue::InputRule;
use crate::names::safe_stem;
use crate::step::{Input, StepResult};
use chrono::{FixedOffset, Utc};
use scanpro_core::ToolError;
use scanpro_core::pages::PageSelection;
use scanpro_core::params::{
    DEFAULT_EDGE_MARGIN, Layer, Position, StampFont, Validate, advanced, check_margin, check_mark_text, check_opacity,
    check_range, page_selection, parse_color,
};
use scanpro_pdf::stamp::check_glyphs;
use scanpro_pdf::{Anchor, Mark, MarkContent, MarkSize, Placement, StampPlan, TextMark};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<SignParams>(About {
    name: "sign",
    title: "Sign visually",
    summary: "Place a signature on a PDF: text (a name), the date, or images (PNG or JPEG inputs after \
              the PDF), each at a position or coordinates on chosen pages. Not a digital signature.",
    group: "security",
    inputs: InputRule { min: 1, max: None, formats: PDF_AND_IMAGES },
});

/// Most elements one `sign` step places.
pub const MAX_SIGN_ELEMENTS: usize = 100;

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
#[schemars(transform = crate::params::in_declared_order::<SignElement>)]
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
    #[schemars(transform = advanced)]
    pub x: Option<f32>,
    /// Bottom edge of the element's box, in points from the bottom of the displayed page.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub y: Option<f32>,
    /// An anchor instead of `x`/`y`. Default (when neither is given) `bottom_right`.
    #[serde(default)]
    pub position: Option<Position>,
    /// With `position`: distance in points from the anchored edges. Default 36.
    #[serde(default)]
    #[schemars(range(min = 0))]
    #[schemars(transform = advanced)]
    pub margin: Option<f32>,
    /// Width of the element's box in points. Images fit inside the box keeping their proportions
    /// (default width 150 when neither `width` nor `height` is given); text is sized to fill it
    /// (or shrunk to fit, when `font_size` is also given). The content is centred in the box.
    #[serde(default)]
    #[schemars(range(min = 1))]
    #[schemars(transform = advanced)]
    pub width: Option<f32>,
    /// Height of the element's box in points; see `width`.
    #[serde(default)]
    #[schemars(range(min = 1))]
    #[schemars(transform = advanced)]
    pub height: Option<f32>,
    /// The text of a `text` element; `\n` starts a new line.
    #[serde(default)]
    pub text: Option<String>,
    /// `date` elements: a strftime pattern (`%d.%m.%Y`, `%B %-d, %Y`). Default `%Y-%m-%d`.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub date_format: Option<String>,
    /// `date` elements: the time zone the date is taken in, as an offset from UTC (`+02:00`,
    /// `-05:00`). Default `+00:00` (UTC).
    #[serde(default)]
    #[schemars(transform = advanced)]
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
    #[schemars(transform = advanced)]
    pub font: Option<StampFont>,
    /// Counterclockwise rotation in degrees about the box's centre. Default 0.
    #[serde(default)]
    #[schemars(range(min = -360, max = 360))]
    pub rotation: f32,
    /// 0 (invisible) to 1 (opaque). Default 1.
    #[serde(default = "super::page_numbers::opaque")]
    #[schemars(range(min = 0, max = 1))]
    #[schemars(transform = advanced)]
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

impl ToolParams for SignParams {}

impl NativeTool for SignParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        check_inputs(&params, inputs)?;
        let (contents, marks) = elements(&params, inputs)?;
        let document = &inputs[0];
        let out = out_dir.join(format!("{}_signed.pdf", safe_stem(&document.filename)));
        let plan = |count| {
            let mut pages = std::collections::BTreeMap::<u32, Vec<Mark>>::new();
            for (element_index, (element, mark)) in params.elements.iter().zip(&marks).enumerate() {
                let field = format!("elements[{element_index}].page");
                let selected =
                    element.page_selection(&field)?.resolve(count).map_err(|e| ToolError::invalid_param(&field, e))?;
                for page in selected {
                    pages.entry(page).or_default().push(*mark);
                }
            }
            Ok(StampPlan { contents, pages })
        };
        scanpro_pdf::stamp(&document.path, plan, &out)?;
        Ok(StepResult { outputs: vec![pdf_output(out)], report: None })
    }
}

/// Input 0 is the PDF; every later input is an image that some element uses.
fn check_inputs(params: &SignParams, inputs: &[Input]) -> Result<(), ToolError> {
    if is_image(&inputs[0])? {
        return Err(ToolError::invalid_param(
            "inputs",
            format!("input 0 ({}) must be the PDF to sign", inputs[0].filename),
        ));
    }
    for (index, element) in params.elements.iter().enumerate() {
        let Some(image) = element.image else { continue };
        let field = format!("elements[{index}].image");
        let input = inputs.get(image).ok_or_else(|| {
            ToolError::invalid_param(
                &field,
                format!("input {image} does not exist (inputs are numbered 0 to {})", inputs.len() - 1),
            )
        })?;
        if !is_image(input)? {
            return Err(ToolError::invalid_param(
                &field,
                format!("input {image} ({}) is not a PNG or JPEG image", input.filename),
            ));
        }
    }
    for (index, input) in inputs.iter().enumerate().skip(1) {
        if !params.elements.iter().any(|e| e.image == Some(index)) {
            return Err(ToolError::invalid_param(
                "inputs",
                format!("input {index} ({}) is not used by any element", input.filename),
            ));
        }
    }
    Ok(())
}

/// The distinct contents (each image once), and each element's mark.
fn elements(params: &SignParams, inputs: &[Input]) -> Result<(Vec<MarkContent>, Vec<Mark>), ToolError> {
    let mut contents = Vec::new();
    let mut images = HashMap::new();
    let mut marks = Vec::with_capacity(params.elements.len());
    for (index, element) in params.elements.iter().enumerate() {
        let content = match (element.kind(), element.image) {
            (SignElementKind::Image, Some(image)) => match images.get(&image) {
                Some(&content) => content,
                None => {
                    contents.push(MarkContent::Image {
                        data: read_input(&inputs[image])?,
                        name: inputs[image].filename.clone(),
                    });
                    images.insert(image, contents.len() - 1);
                    contents.len() - 1
                }
            },
            _ => {
                contents.push(text_content(element, &format!("elements[{index}]"))?);
                contents.len() - 1
            }
        };
        marks.push(Mark { content, placement: placement(element) });
    }
    Ok((contents, marks))
}

fn text_content(element: &SignElement, at: &str) -> Result<MarkContent, ToolError> {
    let (text, field) = match element.kind() {
        SignElementKind::Date => (today(element, at)?, format!("{at}.date_format")),
        _ => (element.text.clone().unwrap_or_default(), format!("{at}.text")),
    };
    let font = element.font.unwrap_or_default();
    check_glyphs(&field, font, &text)?;
    Ok(MarkContent::Text(TextMark { text, font, font_size: element.font_size_or_default(), color: element.rgb() }))
}

/// The current date where the element's UTC offset says, written with its format.
fn today(element: &SignElement, at: &str) -> Result<String, ToolError> {
    let offset = element.utc_offset_seconds(&format!("{at}.utc_offset"))?;
    let zone = FixedOffset::east_opt(offset)
        .ok_or_else(|| ToolError::invalid_param(&format!("{at}.utc_offset"), "out of range"))?;
    let format = element.date_format_or_default();
    let mut text = String::new();
    std::fmt::Write::write_fmt(&mut text, format_args!("{}", Utc::now().with_timezone(&zone).format(format))).map_err(
        |_| {
            ToolError::invalid_param(
                &format!("{at}.date_format"),
                format!("{format:?} cannot be written for this date"),
            )
        },
    )?;
    Ok(text)
}

fn placement(element: &SignElement) -> Placement {
    let anchor = match element.place() {
        ElementPlace::At { x, y } => Anchor::At { x, y },
        ElementPlace::Anchored { position, margin } => Anchor::Position { position, margin },
    };
    let size = match element.kind() {
        SignElementKind::Image => {
            let (width, height) = element.image_box();
            MarkSize::Fit { width, height, grow: true }
        }
        _ if element.width.is_none() && element.height.is_none() => MarkSize::Natural,
        // A box with no font size: the text fills it; with one, it is only shrunk to fit.
        _ => MarkSize::Fit { width: element.width, height: element.height, grow: element.font_size.is_none() },
    };
    Placement { anchor, size, rotation: element.rotation, opacity: element.opacity, tile: None, layer: Layer::Over }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
