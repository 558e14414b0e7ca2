//! `page_numbers`: a number (in a template such as "Page {n} of {total}") on the selected
//! pages of each input.

use super::{About, NativeTool, PDF, Tool, ToolParams, pdf_output};
use crate::catalogue::InputRule;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{
    Layer, Position, StampFont, Validate, advanced, check_margin, check_mark_text, check_opacity, check_range,
    page_selection, page_selection_field, parse_color,
};
use scanpro_pdf::stamp::check_glyphs;
use scanpro_pdf::{Anchor, Mark, MarkContent, MarkSize, Placement, StampPlan, TextMark};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<PageNumbersParams>(About {
    name: "page_numbers",
    title: "Add page numbers",
    summary: "Number the pages of each PDF: position, arabic / roman / letters, start, template \
              (\"Page {n} of {total}\"), font, size, colour, margin, pages, skip the first page.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

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
    #[schemars(transform = advanced)]
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
    #[schemars(transform = advanced)]
    pub opacity: f32,
    /// Distance in points from the page edges the number is anchored to. Default 28 (about 1 cm).
    /// Not allowed with `center`.
    #[serde(default)]
    #[schemars(range(min = 0))]
    #[schemars(transform = advanced)]
    pub margin: Option<f32>,
    /// Pages that get a number (e.g. `3-`), numbered in page order. Absent: every page.
    #[serde(default)]
    #[schemars(transform = page_selection_field)]
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

pub(super) fn opaque() -> f32 {
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

impl ToolParams for PageNumbersParams {}

impl NativeTool for PageNumbersParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        check_fonts(&params)?;
        let mut names = UniqueNames::default();
        let mut outputs = Vec::with_capacity(inputs.len());
        for input in inputs {
            let out = out_dir.join(names.claim(&format!("{}_numbered", safe_stem(&input.filename)), ".pdf"));
            scanpro_pdf::stamp(&input.path, |count| plan(&params, count), &out)?;
            outputs.push(pdf_output(out));
        }
        Ok(StepResult { outputs, report: None })
    }
}

/// One label per numbered page, each placed on its page.
fn plan(params: &PageNumbersParams, page_count: u32) -> Result<StampPlan, ToolError> {
    let pages = params.numbered_pages(page_count)?;
    // Distinct pages of the document: no more than its u32 page count.
    let numbered = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let placement = Placement {
        anchor: Anchor::Position { position: params.position, margin: params.margin_or_default() },
        size: MarkSize::Natural,
        rotation: 0.0,
        opacity: params.opacity,
        tile: None,
        layer: Layer::Over,
    };
    let label = |index: u32| {
        MarkContent::Text(TextMark {
            text: params.label(index, numbered),
            font: params.font,
            font_size: params.font_size,
            color: params.rgb(),
        })
    };
    Ok(StampPlan {
        contents: (0..numbered).map(label).collect(),
        pages: pages
            .into_iter()
            .enumerate()
            .map(|(index, page)| (page, vec![Mark { content: index, placement }]))
            .collect(),
    })
}

/// The text around the numbers must have glyphs in the font (the numerals always do).
fn check_fonts(params: &PageNumbersParams) -> Result<(), ToolError> {
    let fixed =
        [("template", Some(&params.template)), ("prefix", params.prefix.as_ref()), ("suffix", params.suffix.as_ref())];
    for (field, text) in fixed {
        if let Some(text) = text {
            check_glyphs(field, params.font, text)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
