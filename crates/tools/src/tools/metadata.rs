//! `metadata`: write title, author, subject, keywords, creator and dates; report the result.

use super::page_outputs::each_input;
use super::{About, NativeTool, PDF, Tool, ToolParams};
use crate::catalogue::InputRule;
use crate::step::{Input, StepResult};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset};
use scanpro_core::ToolError;
use scanpro_core::params::{Validate, advanced};
use scanpro_pdf::MetadataUpdate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const TOOL: Tool = Tool::native::<MetadataParams>(About {
    name: "metadata",
    title: "Edit metadata",
    summary: "Set the title, author, subject, keywords, creator and dates (an empty value removes one; absent ones are kept); the report shows the resulting metadata.",
    group: "edit",
    inputs: InputRule { min: 1, max: None, formats: PDF },
});

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataParams {
    /// Document title. Each text field given is written (an empty string removes it); absent
    /// fields keep their current value.
    #[serde(default)]
    pub title: Option<String>,
    /// Author.
    #[serde(default)]
    pub author: Option<String>,
    /// Subject (description).
    #[serde(default)]
    pub subject: Option<String>,
    /// Keywords, e.g. `"invoice, 2024"`.
    #[serde(default)]
    pub keywords: Option<String>,
    /// The application the document was first made with.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub creator: Option<String>,
    /// Creation date, ISO 8601: `2024-03-01`, `2024-03-01T14:30:00`, `2024-03-01T14:30:00+01:00`
    /// or `…Z`. An empty string removes it.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub creation_date: Option<String>,
    /// Last modification date, ISO 8601 as for `creation_date`.
    #[serde(default)]
    #[schemars(transform = advanced)]
    pub mod_date: Option<String>,
}

impl Validate for MetadataParams {
    fn validate(&self) -> Result<(), ToolError> {
        self.pdf_dates().map(drop)
    }
}

impl MetadataParams {
    /// `creation_date` and `mod_date` as PDF dates (`D:20240301143000+01'00'`); `Some("")`
    /// stays empty (remove the entry).
    pub fn pdf_dates(&self) -> Result<(Option<String>, Option<String>), ToolError> {
        let convert = |field: &str, value: &Option<String>| match value.as_deref().map(str::trim) {
            None => Ok(None),
            Some("") => Ok(Some(String::new())),
            Some(iso) => pdf_date(iso).map(Some).map_err(|why| ToolError::invalid_param(field, why)),
        };
        Ok((convert("creation_date", &self.creation_date)?, convert("mod_date", &self.mod_date)?))
    }
}

/// An ISO 8601 date or date-time as a PDF date string. Without an offset, none is written
/// (PDF readers then show it as given).
pub fn pdf_date(iso: &str) -> Result<String, String> {
    const EXPECTED: &str = "expected an ISO 8601 date such as 2024-03-01 or 2024-03-01T14:30:00+01:00";
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(iso) {
        let seconds = with_offset.offset().fix().local_minus_utc();
        let zone = match seconds {
            0 => "Z".to_owned(),
            s => format!("{}{:02}'{:02}'", if s < 0 { '-' } else { '+' }, s.abs() / 3600, s.abs() % 3600 / 60),
        };
        return Ok(format!("D:{}{zone}", with_offset.format("%Y%m%d%H%M%S")));
    }
    let local = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(iso, format).ok())
        .or_else(|| NaiveDate::parse_from_str(iso, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)));
    match local {
        Some(time) if (0..=9999).contains(&time.year()) => Ok(format!("D:{}", time.format("%Y%m%d%H%M%S"))),
        Some(_) => Err(format!("\"{iso}\": the year must have four digits")),
        None => Err(format!("\"{iso}\": {EXPECTED}")),
    }
}

impl ToolParams for MetadataParams {}

impl NativeTool for MetadataParams {
    fn run(self, inputs: &[Input], out_dir: &Path) -> Result<StepResult, ToolError> {
        let params = self;
        let (creation_date, mod_date) = params.pdf_dates()?;
        let update = MetadataUpdate {
            title: params.title,
            author: params.author,
            subject: params.subject,
            keywords: params.keywords,
            creator: params.creator,
            creation_date,
            mod_date,
        };
        each_input(inputs, out_dir, "_metadata", |input, out| scanpro_pdf::write_metadata(&input.path, &update, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_become_pdf_dates() {
        assert_eq!(pdf_date("2024-03-01").unwrap(), "D:20240301000000");
        assert_eq!(pdf_date("2024-03-01T14:30").unwrap(), "D:20240301143000");
        assert_eq!(pdf_date("2024-03-01T14:30:05.25").unwrap(), "D:20240301143005");
        assert_eq!(pdf_date("2024-03-01T14:30:05Z").unwrap(), "D:20240301143005Z");
        assert_eq!(pdf_date("2024-03-01T14:30:05+01:00").unwrap(), "D:20240301143005+01'00'");
        assert_eq!(pdf_date("2024-03-01T14:30:05-05:30").unwrap(), "D:20240301143005-05'30'");
    }

    #[test]
    fn bad_dates_name_the_field() {
        for bad in ["2024-02-30", "yesterday", "01/03/2024", "2024-03-01T25:00"] {
            assert!(pdf_date(bad).is_err(), "{bad}");
        }
        let params = MetadataParams { mod_date: Some("2024-13-01".into()), ..Default::default() };
        let err = params.validate().unwrap_err();
        assert!(err.message.starts_with("mod_date: \"2024-13-01\": expected an ISO 8601 date"), "{err}");
        let params = MetadataParams { creation_date: Some(String::new()), ..Default::default() };
        assert_eq!(params.pdf_dates().unwrap(), (Some(String::new()), None));
    }
}
