//! `redact`: text, glyphs and pixels under boxes removed from the file, the boxes painted;
//! boxes found by searching (words, patterns, presets) or given as areas.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use regex::{Regex, RegexBuilder};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, advanced, parse_color};
use scanpro_pdf::redact::Redaction;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<RedactParams>(About {
    name: "redact",
    title: "Redact",
    summary: "Black out text for good: words, patterns or presets (email addresses, phone numbers, \
              IBANs) found in the text, or areas you mark. What lies under each box is removed from \
              the file, not covered; pages can be turned into images as well.",
    group: "security",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

/// Search terms and areas at most: a redaction list longer than this is not one.
const MAX_TERMS: usize = 1_000;
const MAX_AREAS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Email addresses.
    Email,
    /// Phone numbers: eight digits or more, with spaces, dots, dashes, brackets or a leading +.
    Phone,
    /// International bank account numbers, with or without spaces.
    Iban,
}

impl Preset {
    fn pattern(self) -> &'static str {
        match self {
            Self::Email => r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
            Self::Phone => r"\+?\(?\d[\d ()./-]{6,}\d",
            Self::Iban => r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
        }
    }
}

/// A box on a page, in points (1/72 inch) from the page's top left as displayed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// 1-based.
    pub page: u32,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactParams {
    /// Words or phrases to redact wherever they appear, e.g. `["Jane Doe", "Project Falcon"]`.
    #[serde(default)]
    pub search: Vec<String>,
    /// Regular expressions to redact, e.g. `"\\bAB-\\d{6}\\b"`.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub patterns: Vec<String>,
    /// Kinds of personal data to find and redact.
    #[serde(default)]
    pub presets: Vec<Preset>,
    /// Match letters in either case.
    #[serde(default = "yes")]
    pub ignore_case: bool,
    /// Match `search` terms only as whole words.
    #[serde(default)]
    pub whole_words: bool,
    /// Boxes to redact whatever they hold.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub areas: Vec<Area>,
    /// Colour of the boxes, `#rrggbb`.
    #[serde(default = "black")]
    pub color: String,
    /// Turn every redacted page into an image as well, so no text of it remains.
    #[serde(default)]
    pub rasterize: bool,
    /// Resolution of pages made images.
    #[serde(default = "dpi")]
    #[schemars(transform = advanced, range(min = 72, max = 300))]
    pub dpi: u32,
}

fn yes() -> bool {
    true
}

fn black() -> String {
    "#000000".into()
}

fn dpi() -> u32 {
    150
}

impl RedactParams {
    fn patterns(&self) -> Result<Vec<Regex>, ToolError> {
        let build = |field: &str, source: String| {
            RegexBuilder::new(&source)
                .case_insensitive(self.ignore_case)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| ToolError::invalid_param(field, format!("{source:?}: {e}")))
        };
        let mut compiled = Vec::new();
        for term in self.search.iter().filter(|t| !t.trim().is_empty()) {
            let words: Vec<String> = term.split_whitespace().map(regex::escape).collect();
            let source = words.join(r"\s+");
            compiled.push(build("search", if self.whole_words { format!(r"\b{source}\b") } else { source })?);
        }
        for pattern in &self.patterns {
            compiled.push(build("patterns", pattern.clone())?);
        }
        for preset in &self.presets {
            compiled.push(build("presets", preset.pattern().to_owned())?);
        }
        Ok(compiled)
    }

    fn redaction(&self) -> Result<Redaction, ToolError> {
        let [r, g, b] = parse_color("color", &self.color)?;
        Ok(Redaction {
            patterns: self.patterns()?,
            areas: self.areas.iter().map(|a| (a.page, [a.x, a.y, a.width, a.height])).collect(),
            rgb: [r, g, b].map(|c| f64::from(c) / 255.0),
            rasterize: self.rasterize,
            dpi: self.dpi,
        })
    }
}

impl Validate for RedactParams {
    fn validate(&self) -> Result<(), ToolError> {
        if self.search.iter().all(|t| t.trim().is_empty())
            && self.patterns.is_empty()
            && self.presets.is_empty()
            && self.areas.is_empty()
        {
            return Err(ToolError::invalid_param("search", "give words, patterns, presets or areas to redact"));
        }
        if self.search.len() + self.patterns.len() > MAX_TERMS {
            return Err(ToolError::invalid_param("search", format!("at most {MAX_TERMS} terms and patterns")));
        }
        if self.areas.len() > MAX_AREAS {
            return Err(ToolError::invalid_param("areas", format!("at most {MAX_AREAS}")));
        }
        for (i, area) in self.areas.iter().enumerate() {
            let sane = |v: f64| v.is_finite() && (0.0..=14_400.0).contains(&v);
            if area.page == 0
                || ![area.x, area.y, area.width, area.height].into_iter().all(sane)
                || area.width == 0.0
                || area.height == 0.0
            {
                return Err(ToolError::invalid_param(
                    &format!("areas[{i}]"),
                    "page from 1, x, y, width and height in points between 0 and 14400, width and height above 0",
                ));
            }
        }
        if !(72..=300).contains(&self.dpi) {
            return Err(ToolError::invalid_param("dpi", format!("must be between 72 and 300, got {}", self.dpi)));
        }
        self.redaction().map(drop)
    }
}

impl ToolParams for RedactParams {}

impl NativeTool for RedactParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let redaction = self.redaction()?;
        each_input(inputs, out_dir, "_redacted", |input, out| scanpro_pdf::redact::redact(&input.path, &redaction, out))
    }
}
