//! `convert`: one tool for every conversion. What the input is (from its bytes) and `to` pick the
//! tool that makes it (`office_to_pdf`, `html_to_pdf`, `markdown_to_pdf`, `convert_office`,
//! `pdf_to_office`, `pdf_to_text`, `images_to_pdf`, `pdf_to_image`); the step then runs as that
//! tool, with the options that apply to it.

use super::{About, Routed, Router, Tool, ToolParams};
use crate::catalogue::{InputRule, tool};
use crate::engines::{Engine, engine_of, slowest};
use crate::step::{Input, check_inputs, sniff_format};
use scanpro_core::params::{ImagePageSize, PdfaLevel, Validate, page_selection, page_selection_field};
use scanpro_core::{ErrorCode, ToolError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const FORMATS: &[&str] = &[
    "pdf", "jpeg", "png", "webp", "tiff", "docx", "doc", "odt", "rtf", "txt", "html", "xlsx", "xls", "ods", "pptx",
    "ppt", "odp", "odg",
];

pub(crate) const CONVERT: Tool = Tool::route::<ConvertParams>(
    About {
        name: "convert",
        title: "Convert",
        summary: "Any document to the format you name: office documents to and from PDF and between office formats, images to PDF, PDF pages to PNG or JPEG, HTML and Markdown to PDF. The input is recognised from its contents.",
        group: "convert",
        inputs: InputRule { min: 1, max: None, formats: FORMATS },
    },
    Router { route, engine: engine_before_run, engines: &[Engine::Libreoffice] },
);

/// A format `convert` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(extend("format" = "file-format"))]
pub enum ConvertTarget {
    /// From office documents, HTML, Markdown and images.
    Pdf,
    Docx,
    Doc,
    Odt,
    Rtf,
    /// UTF-8 text: of a text document, or the text layer of a PDF.
    Txt,
    Xlsx,
    Xls,
    Ods,
    /// The first sheet of a spreadsheet, comma-separated, UTF-8.
    Csv,
    Pptx,
    Ppt,
    Odp,
    Odg,
    /// One image per PDF page.
    Png,
    /// One JPEG per PDF page.
    #[serde(alias = "jpeg")]
    Jpg,
}

impl ConvertTarget {
    pub const ALL: [Self; 16] = [
        Self::Pdf,
        Self::Docx,
        Self::Doc,
        Self::Odt,
        Self::Rtf,
        Self::Txt,
        Self::Xlsx,
        Self::Xls,
        Self::Ods,
        Self::Csv,
        Self::Pptx,
        Self::Ppt,
        Self::Odp,
        Self::Odg,
        Self::Png,
        Self::Jpg,
    ];

    /// The name as written in `to`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Doc => "doc",
            Self::Odt => "odt",
            Self::Rtf => "rtf",
            Self::Txt => "txt",
            Self::Xlsx => "xlsx",
            Self::Xls => "xls",
            Self::Ods => "ods",
            Self::Csv => "csv",
            Self::Pptx => "pptx",
            Self::Ppt => "ppt",
            Self::Odp => "odp",
            Self::Odg => "odg",
            Self::Png => "png",
            Self::Jpg => "jpg",
        }
    }
}

/// `convert`: the input is recognised from its bytes, and `to` decides the conversion. Each
/// option applies to some conversions only; given to another, it is refused.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertParams {
    /// The format to write: `pdf` from office documents, HTML, Markdown (a text file named
    /// `.md`) or images (several images make one PDF); office formats from office documents,
    /// or `docx`, `odt`, `pptx`, `odp`, `odg` from a PDF; `txt` from a text document or a PDF's
    /// text layer; `png` or `jpg`, one image per page of a PDF.
    pub to: ConvertTarget,
    /// Pages to convert (e.g. `1-3,5`): of the laid-out office document into PDF, or of the PDF
    /// into images or text. Absent: every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = page_selection_field)]
    pub pages: Option<String>,
    /// Write PDF/A at this level instead of plain PDF (office documents, HTML, Markdown; for `to = pdf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdfa: Option<PdfaLevel>,
    /// Lay the pages out in landscape (office documents, HTML, Markdown; for `to = pdf`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub landscape: bool,
    /// Page size of images made into a PDF: `fit` (the image's own size), `a4` or `letter` (for `to = pdf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<ImagePageSize>,
    /// Resolution of page images in dots per inch, 10 to 600. Default 150 (for `to = png|jpg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 600))]
    pub dpi: Option<u32>,
    /// JPEG quality, 1 to 100. Default 85 (`jpg` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub quality: Option<u8>,
}

impl ConvertParams {
    /// The options given, by name, for conversions that check which apply.
    pub fn options_given(&self) -> Vec<&'static str> {
        let given = [
            ("pages", self.pages.is_some()),
            ("pdfa", self.pdfa.is_some()),
            ("landscape", self.landscape),
            ("page_size", self.page_size.is_some()),
            ("dpi", self.dpi.is_some()),
            ("quality", self.quality.is_some()),
        ];
        given.into_iter().filter(|(_, given)| *given).map(|(name, _)| name).collect()
    }
}

impl Validate for ConvertParams {
    fn validate(&self) -> Result<(), ToolError> {
        use ConvertTarget::{Jpg, Pdf, Png};
        let to = self.to;
        let only_for = |field: &str, formats: &str| {
            Err(ToolError::invalid_param(field, format!("applies to `to` {formats}, not {}", to.as_str())))
        };
        if to != Pdf {
            for (field, given) in
                [("pdfa", self.pdfa.is_some()), ("landscape", self.landscape), ("page_size", self.page_size.is_some())]
            {
                if given {
                    return only_for(field, "pdf");
                }
            }
        }
        if self.dpi.is_some() && !matches!(to, Png | Jpg) {
            return only_for("dpi", "png or jpg");
        }
        if self.quality.is_some() && to != Jpg {
            return only_for("quality", "jpg");
        }
        if let Some(dpi) = self.dpi
            && !super::pdf_to_image::PdfToImageParams::DPI_RANGE.contains(&dpi)
        {
            let range = super::pdf_to_image::PdfToImageParams::DPI_RANGE;
            return Err(ToolError::invalid_param(
                "dpi",
                format!("{dpi} is outside {} to {}", range.start(), range.end()),
            ));
        }
        if let Some(quality) = self.quality
            && !(1..=100).contains(&quality)
        {
            return Err(ToolError::invalid_param("quality", format!("{quality} is outside 1 to 100")));
        }
        page_selection("pages", self.pages.as_deref()).map(drop)
    }
}

impl ToolParams for ConvertParams {}

/// What an input is, as far as choosing its conversion goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Pdf,
    Image,
    Html,
    /// Text in a file named `.md` or `.markdown`: bytes cannot tell Markdown from plain text.
    Markdown,
    /// Any other document LibreOffice reads, plain text included.
    Office,
}

impl Source {
    const ALL: [Self; 5] = [Self::Pdf, Self::Image, Self::Html, Self::Markdown, Self::Office];

    /// From a format name of the input rules (`pdf`, `png`, `docx`…).
    fn of_format(format: &str, filename: &str) -> Self {
        match format {
            "pdf" => Self::Pdf,
            "jpeg" | "png" | "webp" | "tiff" => Self::Image,
            "html" => Self::Html,
            "txt" if is_markdown_name(filename) => Self::Markdown,
            _ => Self::Office,
        }
    }

    /// From the MIME type sniffed at upload, which tells PDFs and images apart only.
    fn of_content_type(content_type: &str) -> Option<Self> {
        match content_type {
            "application/pdf" => Some(Self::Pdf),
            "image/jpeg" | "image/png" | "image/webp" | "image/tiff" => Some(Self::Image),
            _ => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Pdf => "a PDF",
            Self::Image => "an image",
            Self::Html => "an HTML page",
            Self::Markdown => "Markdown",
            Self::Office => "an office document",
        }
    }
}

fn is_markdown_name(filename: &str) -> bool {
    let lower = filename.to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

/// The tool that turns `source` into `to`, if one does.
fn tool_for(source: Source, to: ConvertTarget) -> Option<&'static str> {
    use ConvertTarget as To;
    Some(match (source, to) {
        (Source::Pdf, To::Docx | To::Odt | To::Pptx | To::Odp | To::Odg) => "pdf_to_office",
        (Source::Pdf, To::Txt) => "pdf_to_text",
        (Source::Pdf, To::Png | To::Jpg) => "pdf_to_image",
        (Source::Image, To::Pdf) => "images_to_pdf",
        (Source::Html, To::Pdf) => "html_to_pdf",
        (Source::Markdown, To::Pdf) => "markdown_to_pdf",
        (Source::Office, To::Pdf) => "office_to_pdf",
        (Source::Html | Source::Markdown | Source::Office, To::Png | To::Jpg) => return None,
        (Source::Html | Source::Markdown | Source::Office, _) => "convert_office",
        (Source::Pdf | Source::Image, _) => return None,
    })
}

/// [`tool_for`], or the error naming the pair and what the input can become.
fn tool_or_refusal(source: Source, to: ConvertTarget) -> Result<&'static str, ToolError> {
    tool_for(source, to).ok_or_else(|| {
        let possible: Vec<String> = ConvertTarget::ALL
            .into_iter()
            .filter(|to| tool_for(source, *to).is_some())
            .map(|to| to.as_str().to_uppercase())
            .collect();
        let possible = match possible.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => "nothing".into(),
        };
        ToolError::new(
            ErrorCode::UnsupportedFormat,
            format!(
                "convert cannot turn {} into {}; {} becomes {possible}",
                source.describe(),
                to.as_str().to_uppercase(),
                source.describe()
            ),
        )
    })
}

/// The options each tool takes from `convert`'s (`to` is passed on apart).
fn options_of(tool: &str) -> &'static [&'static str] {
    match tool {
        "office_to_pdf" => &["pages", "pdfa", "landscape"],
        "html_to_pdf" | "markdown_to_pdf" => &["pdfa", "landscape"],
        "images_to_pdf" => &["page_size"],
        "pdf_to_image" => &["pages", "dpi", "quality"],
        "pdf_to_text" => &["pages"],
        _ => &[],
    }
}

/// The tool a `convert` step runs as, from its inputs' bytes and `to`, with its parameters.
fn route(params: &Value, inputs: &[Input]) -> Result<Routed, ToolError> {
    let params = ConvertParams::parse(params)?;
    check_inputs(&CONVERT, inputs)?;
    let mut chosen: Option<(&'static str, &Input, Source)> = None;
    for input in inputs {
        let format = sniff_format(&input.path)?.unwrap_or_default();
        let source = Source::of_format(format, &input.filename);
        let tool = tool_or_refusal(source, params.to)
            .map_err(|e| ToolError::new(e.code, format!("{}: {}", input.filename, e.message)))?;
        match chosen {
            Some((first, other, other_source)) if first != tool => {
                return Err(ToolError::invalid_param(
                    "inputs",
                    format!(
                        "one convert step makes one kind of conversion: {} is {} and {} is {}; convert them in separate steps",
                        other.filename,
                        other_source.describe(),
                        input.filename,
                        source.describe()
                    ),
                ));
            }
            Some(_) => {}
            None => chosen = Some((tool, input, source)),
        }
    }
    let (tool_name, _, source) = chosen.ok_or_else(|| ToolError::invalid_param("inputs", "give at least one file"))?;
    let accepted = options_of(tool_name);
    if let Some(option) = params.options_given().into_iter().find(|option| !accepted.contains(option)) {
        return Err(ToolError::invalid_param(
            option,
            format!("does not apply when converting {} into {}", source.describe(), params.to.as_str().to_uppercase()),
        ));
    }
    let Ok(Value::Object(mut routed)) = serde_json::to_value(&params) else {
        return Err(ToolError::internal("convert parameters do not serialize"));
    };
    routed.remove("to");
    match tool_name {
        "pdf_to_office" | "convert_office" => {
            routed.insert("to".into(), params.to.as_str().into());
        }
        "pdf_to_image" => {
            routed.insert("format".into(), params.to.as_str().into());
        }
        _ => {}
    }
    let routed = Value::Object(routed);
    (tool(tool_name)?.check)(&routed)?;
    Ok(Routed { tool: tool_name, params: routed })
}

/// The engine a `convert` step needs, told before the run from `to` and the inputs' MIME types
/// (`None`: a later step, whose inputs are not known yet, gets the slowest engine it may need).
/// Inputs known to be PDFs or images are refused here when `to` is no format they become.
fn engine_before_run(params: &Value, input_types: Option<&[&str]>) -> Result<Option<Engine>, ToolError> {
    let params = ConvertParams::parse(params)?;
    let Some(input_types) = input_types else {
        let possible = Source::ALL.into_iter().filter_map(|source| tool_for(source, params.to));
        return Ok(slowest(possible.filter_map(engine_of)));
    };
    let mut engines = Vec::new();
    for content_type in input_types {
        match Source::of_content_type(content_type) {
            Some(source) => engines.extend(engine_of(tool_or_refusal(source, params.to)?)),
            // Office documents, HTML and text: all LibreOffice's.
            None => engines.extend(tool_for(Source::Office, params.to).and_then(engine_of)),
        }
    }
    Ok(slowest(engines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_target_has_a_source() {
        for to in ConvertTarget::ALL {
            assert!(Source::ALL.into_iter().any(|source| tool_for(source, to).is_some()), "{to:?}");
        }
    }

    #[test]
    fn routes_lead_to_tools_that_exist() {
        for source in Source::ALL {
            for to in ConvertTarget::ALL {
                if let Some(name) = tool_for(source, to) {
                    assert!(tool(name).is_ok(), "{name}");
                }
            }
        }
    }

    #[test]
    fn the_class_follows_inputs_and_target() {
        let pdf = json!({"to": "pdf"});
        assert_eq!(engine_before_run(&pdf, Some(&["image/png", "image/jpeg"][..])).unwrap(), None);
        assert_eq!(
            engine_before_run(&pdf, Some(&["application/octet-stream"][..])).unwrap(),
            Some(Engine::Libreoffice)
        );
        assert_eq!(engine_before_run(&pdf, None).unwrap(), Some(Engine::Libreoffice));
        assert_eq!(engine_before_run(&json!({"to": "png"}), Some(&["application/pdf"][..])).unwrap(), None);
        assert_eq!(engine_before_run(&json!({"to": "png"}), None).unwrap(), None);
        assert_eq!(
            engine_before_run(&json!({"to": "docx"}), Some(&["application/pdf"][..])).unwrap(),
            Some(Engine::Libreoffice)
        );
        let refused = engine_before_run(&pdf, Some(&["application/pdf"][..])).unwrap_err();
        assert_eq!(refused.code, ErrorCode::UnsupportedFormat);
        assert!(refused.message.contains("a PDF into PDF"), "{refused}");
        let refused = engine_before_run(&json!({"to": "xlsx"}), Some(&["image/png"][..])).unwrap_err();
        assert!(refused.message.contains("an image into XLSX; an image becomes PDF"), "{refused}");
    }
}
