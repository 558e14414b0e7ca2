//! What the Chromium tools share: how a page loads ([`web_params!`] adds those fields to each
//! tool's parameters, flat), the PDF layout fields, and rendering a page in the warm browsers.
//! The tools: [`html_to_pdf`](super::html_to_pdf), [`markdown_to_pdf`](super::markdown_to_pdf),
//! [`url_to_pdf`](super::url_to_pdf), [`screenshot`](super::screenshot).

use crate::engines::EngineStep;
use crate::step::{Input, Output};
use scanpro_core::params::{PdfaLevel, PdfaParams};
use scanpro_core::{ErrorCode, ToolError};
use scanpro_engines::chromium::{
    Capture, ChromiumError, Cookie, ExtraHeader, Media, PageOptions, PdfOptions, Source, StatusRange,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest `wait_delay_ms`.
const MAX_WAIT_MS: u32 = 60_000;
/// Headers and cookies one page may be given.
const MAX_HEADERS: usize = 64;

/// Declares a Chromium tool's parameters: the page-loading fields every Chromium tool takes, then
/// the tool's own. (Serde cannot flatten a struct into one that refuses unknown fields.)
macro_rules! web_params {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$field_meta:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The CSS media type the page is laid out for: `print` (PDFs' default) or `screen`.
            #[serde(default)]
            pub media: Option<$crate::tools::web::MediaType>,
            /// CSS media features to emulate, e.g. `{"prefers-color-scheme": "dark"}`.
            #[serde(default)]
            pub media_features: std::collections::BTreeMap<String, String>,
            /// The browser's `User-Agent`.
            #[serde(default)]
            pub user_agent: Option<String>,
            /// Headers sent with remote requests (where remote fetches are allowed); a value
            /// ending in `;scope=REGEX` goes only to URLs the expression matches.
            #[serde(default)]
            pub extra_headers: std::collections::BTreeMap<String, String>,
            /// Cookies sent with remote requests to their domain.
            #[serde(default)]
            pub cookies: Vec<$crate::tools::web::CookieParam>,
            /// Milliseconds to wait after the page loaded (at most 60 000).
            #[serde(default)]
            pub wait_delay_ms: u32,
            /// A JavaScript expression evaluated until it is `true` before capturing, e.g.
            /// `window.status === 'ready'`.
            #[serde(default)]
            pub wait_for_expression: Option<String>,
            /// HTTP statuses of the main page that fail the job; `X99` stands for `X00`–`X99`.
            #[serde(default = "crate::tools::web::default_failing_statuses")]
            pub fail_on_http_status: Vec<u16>,
            /// HTTP statuses of the page's resources that fail the job.
            #[serde(default)]
            pub fail_on_resource_http_status: Vec<u16>,
            /// Fail when a resource cannot be loaded (or is refused).
            #[serde(default)]
            pub fail_on_resource_loading_failed: bool,
            /// Fail on an uncaught exception in the page's scripts.
            #[serde(default)]
            pub fail_on_console_exceptions: bool,
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl $crate::tools::web::LoadFields for $name {
            fn load(&self) -> $crate::tools::web::Load<'_> {
                $crate::tools::web::Load {
                    media: self.media,
                    media_features: &self.media_features,
                    user_agent: self.user_agent.as_deref(),
                    extra_headers: &self.extra_headers,
                    cookies: &self.cookies,
                    wait_delay_ms: self.wait_delay_ms,
                    wait_for_expression: self.wait_for_expression.as_deref(),
                    fail_on_http_status: &self.fail_on_http_status,
                    fail_on_resource_http_status: &self.fail_on_resource_http_status,
                    fail_on_resource_loading_failed: self.fail_on_resource_loading_failed,
                    fail_on_console_exceptions: self.fail_on_console_exceptions,
                }
            }
        }
    };
}
pub(crate) use web_params;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    Print,
    Screen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CookieParam {
    pub name: String,
    pub value: String,
    /// `example.com`, or `.example.com` for its subdomains too.
    pub domain: String,
    #[serde(default)]
    pub path: Option<String>,
}

pub(crate) fn default_failing_statuses() -> Vec<u16> {
    vec![499, 599]
}

/// The page-loading fields of a tool's parameters, borrowed.
pub(crate) struct Load<'a> {
    pub media: Option<MediaType>,
    pub media_features: &'a BTreeMap<String, String>,
    pub user_agent: Option<&'a str>,
    pub extra_headers: &'a BTreeMap<String, String>,
    pub cookies: &'a [CookieParam],
    pub wait_delay_ms: u32,
    pub wait_for_expression: Option<&'a str>,
    pub fail_on_http_status: &'a [u16],
    pub fail_on_resource_http_status: &'a [u16],
    pub fail_on_resource_loading_failed: bool,
    pub fail_on_console_exceptions: bool,
}

pub(crate) trait LoadFields {
    fn load(&self) -> Load<'_>;
}

impl Load<'_> {
    /// Checks the fields and makes the engine's options; `pdf` lays pages out for print.
    pub fn options(&self, pdf: bool) -> Result<PageOptions, ToolError> {
        if self.wait_delay_ms > MAX_WAIT_MS {
            return Err(ToolError::invalid_param("wait_delay_ms", format!("at most {MAX_WAIT_MS}")));
        }
        if self.extra_headers.len() > MAX_HEADERS || self.cookies.len() > MAX_HEADERS {
            return Err(ToolError::invalid_param(
                "extra_headers",
                format!("at most {MAX_HEADERS} headers and cookies"),
            ));
        }
        let mut extra_headers = Vec::with_capacity(self.extra_headers.len());
        for (name, value) in self.extra_headers {
            let (value, scope) = match value.split_once(";scope=") {
                Some((value, scope)) => {
                    let scope = regex::RegexBuilder::new(scope).size_limit(1 << 20).build().map_err(|e| {
                        ToolError::invalid_param(
                            "extra_headers",
                            format!("{name}: the scope is not a regular expression: {e}"),
                        )
                    })?;
                    (value.trim_end().to_owned(), Some(scope))
                }
                None => (value.clone(), None),
            };
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if name.is_empty() || !name.chars().all(token) || value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(ToolError::invalid_param("extra_headers", format!("{name}: not a valid HTTP header")));
            }
            extra_headers.push(ExtraHeader { name: name.clone(), value, scope });
        }
        let statuses = |field: &'static str, codes: &[u16]| {
            codes
                .iter()
                .map(|&code| {
                    if (100..=599).contains(&code) {
                        Ok(StatusRange::from_code(code))
                    } else {
                        Err(ToolError::invalid_param(field, format!("{code} is not an HTTP status")))
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(PageOptions {
            media: match self.media {
                Some(MediaType::Screen) => Some(Media::Screen),
                Some(MediaType::Print) => Some(Media::Print),
                None if pdf => Some(Media::Print),
                None => None,
            },
            media_features: self.media_features.clone(),
            user_agent: self.user_agent.map(str::to_owned),
            extra_headers,
            cookies: self
                .cookies
                .iter()
                .map(|c| Cookie {
                    name: c.name.clone(),
                    value: c.value.clone(),
                    domain: c.domain.clone(),
                    path: c.path.clone(),
                })
                .collect(),
            wait_delay: Duration::from_millis(u64::from(self.wait_delay_ms)),
            wait_for_expression: self.wait_for_expression.map(str::to_owned),
            fail_on_http_status: statuses("fail_on_http_status", self.fail_on_http_status)?,
            fail_on_resource_http_status: statuses("fail_on_resource_http_status", self.fail_on_resource_http_status)?,
            fail_on_resource_loading_failed: self.fail_on_resource_loading_failed,
            fail_on_console_exceptions: self.fail_on_console_exceptions,
        })
    }
}

/// A length: a number with a unit (`210mm`, `21cm`, `8.5in`, `72pt`, `96px`, `6pc`), or a bare
/// number of inches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Length {
    Inches(f64),
    Text(String),
}

impl Length {
    pub fn inches(&self, field: &'static str) -> Result<f64, ToolError> {
        let value = match self {
            Self::Inches(inches) => Some(*inches),
            Self::Text(text) => parse_length(text),
        };
        value.filter(|v| v.is_finite() && (0.0..=200.0).contains(v)).ok_or_else(|| {
            ToolError::invalid_param(field, "a length such as 210mm, 21cm, 8.5in, 72pt or 96px, up to 200 inches")
        })
    }
}

/// `210mm` in inches; `None` when it does not parse.
pub(crate) fn parse_length(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.trim().parse().ok()?;
    let per_inch = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "in" => 1.0,
        "mm" => 25.4,
        "cm" => 2.54,
        "pt" => 72.0,
        "px" => 96.0,
        "pc" => 6.0,
        _ => return None,
    };
    Some(number / per_inch)
}

/// Declares a Chromium PDF tool's parameters: the page-loading fields, the printing fields
/// ([`Print`]), then the tool's own.
macro_rules! pdf_params {
    ($(#[$meta:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $crate::tools::web::web_params! {
            $(#[$meta])*
            pub struct $name {
                /// Paper width (`210mm`, `8.5in`…); A4 when absent.
                #[serde(default)]
                pub paper_width: Option<$crate::tools::web::Length>,
                /// Paper height; A4 when absent.
                #[serde(default)]
                pub paper_height: Option<$crate::tools::web::Length>,
                /// Top margin; 1 cm when absent (each margin alike).
                #[serde(default)]
                pub margin_top: Option<$crate::tools::web::Length>,
                #[serde(default)]
                pub margin_bottom: Option<$crate::tools::web::Length>,
                #[serde(default)]
                pub margin_left: Option<$crate::tools::web::Length>,
                #[serde(default)]
                pub margin_right: Option<$crate::tools::web::Length>,
                /// Lay the pages out in landscape.
                #[serde(default)]
                pub landscape: bool,
                /// Print background colours and images.
                #[serde(default)]
                pub print_background: bool,
                /// Leave the page's default white background transparent.
                #[serde(default)]
                pub omit_background: bool,
                /// Zoom of the page's content, 0.1 to 2.
                #[serde(default = "crate::tools::web::one")]
                pub scale: f64,
                /// Only these pages, as Chromium counts them: `1-3, 5`.
                #[serde(default)]
                pub pages: Option<String>,
                /// HTML of each page's header; `<span class="pageNumber"></span>`, `totalPages`,
                /// `title`, `date` and `url` are filled in.
                #[serde(default)]
                pub header_html: Option<String>,
                /// HTML of each page's footer, with the same fields.
                #[serde(default)]
                pub footer_html: Option<String>,
                /// The page's own CSS `@page { size }` wins over the paper size.
                #[serde(default)]
                pub prefer_css_page_size: bool,
                /// All content on one page as tall as it.
                #[serde(default)]
                pub single_page: bool,
                /// Bookmarks from the page's headings.
                #[serde(default)]
                pub outline: bool,
                /// A tagged (accessible) PDF.
                #[serde(default)]
                pub tagged: bool,
                /// Write PDF/A at this level (converted by Ghostscript after rendering).
                #[serde(default)]
                pub pdfa: Option<scanpro_core::params::PdfaLevel>,
                /// An accessible PDF/UA-1 document: tagged, its title and language checked, and
                /// identified as PDF/UA. Not with `pdfa`, whose conversion drops the tags.
                #[serde(default)]
                pub pdfua: bool,
                $($own)*
            }
        }

        impl $crate::tools::web::PrintFields for $name {
            fn print(&self) -> $crate::tools::web::Print<'_> {
                $crate::tools::web::Print {
                    paper_width: &self.paper_width,
                    paper_height: &self.paper_height,
                    margins: [&self.margin_top, &self.margin_bottom, &self.margin_left, &self.margin_right],
                    landscape: self.landscape,
                    print_background: self.print_background,
                    omit_background: self.omit_background,
                    scale: self.scale,
                    pages: self.pages.as_deref(),
                    header_html: self.header_html.as_deref(),
                    footer_html: self.footer_html.as_deref(),
                    prefer_css_page_size: self.prefer_css_page_size,
                    single_page: self.single_page,
                    outline: self.outline,
                    tagged: self.tagged,
                    pdfa: self.pdfa,
                    pdfua: self.pdfua,
                }
            }
        }
    };
}
pub(crate) use pdf_params;

pub(crate) fn one() -> f64 {
    1.0
}

/// The longest header or footer template.
const MAX_TEMPLATE_BYTES: usize = 64 << 10;

/// The printing fields of a tool's parameters, borrowed.
pub(crate) struct Print<'a> {
    pub paper_width: &'a Option<Length>,
    pub paper_height: &'a Option<Length>,
    /// Top, bottom, left, right.
    pub margins: [&'a Option<Length>; 4],
    pub landscape: bool,
    pub print_background: bool,
    pub omit_background: bool,
    pub scale: f64,
    pub pages: Option<&'a str>,
    pub header_html: Option<&'a str>,
    pub footer_html: Option<&'a str>,
    pub prefer_css_page_size: bool,
    pub single_page: bool,
    pub outline: bool,
    pub tagged: bool,
    pub pdfa: Option<PdfaLevel>,
    pub pdfua: bool,
}

/// What happens to a rendered PDF: PDF/A by Ghostscript, or PDF/UA identification.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Finish {
    pub pdfa: Option<PdfaLevel>,
    pub pdfua: bool,
}

pub(crate) trait PrintFields: LoadFields {
    fn print(&self) -> Print<'_>;

    /// Checks every field of a PDF tool.
    fn check_fields(&self) -> Result<(), ToolError> {
        self.load().options(true)?;
        self.print().options().map(drop)
    }
}

impl Print<'_> {
    pub fn finish(&self) -> Finish {
        Finish { pdfa: self.pdfa, pdfua: self.pdfua }
    }

    /// Checks the fields and makes the engine's print options.
    pub fn options(&self) -> Result<PdfOptions, ToolError> {
        if !(0.1..=2.0).contains(&self.scale) {
            return Err(ToolError::invalid_param("scale", "from 0.1 to 2"));
        }
        if self.omit_background && !self.print_background {
            return Err(ToolError::invalid_param("omit_background", "needs print_background"));
        }
        for (field, template) in [("header_html", self.header_html), ("footer_html", self.footer_html)] {
            if template.is_some_and(|t| t.len() > MAX_TEMPLATE_BYTES) {
                return Err(ToolError::invalid_param(field, "at most 64 KB"));
            }
        }
        let length =
            |field, value: &Option<Length>, default: f64| value.as_ref().map_or(Ok(default), |l| l.inches(field));
        let margin = 0.39;
        let [top, bottom, left, right] = self.margins;
        let options = PdfOptions {
            paper_width: length("paper_width", self.paper_width, 8.27)?,
            paper_height: length("paper_height", self.paper_height, 11.7)?,
            margins: [
                length("margin_top", top, margin)?,
                length("margin_bottom", bottom, margin)?,
                length("margin_left", left, margin)?,
                length("margin_right", right, margin)?,
            ],
            landscape: self.landscape,
            print_background: self.print_background,
            omit_background: self.omit_background,
            scale: self.scale,
            page_ranges: self.pages.filter(|p| !p.trim().is_empty()).map(str::to_owned),
            header_html: self.header_html.map(str::to_owned),
            footer_html: self.footer_html.map(str::to_owned),
            prefer_css_page_size: self.prefer_css_page_size,
            single_page: self.single_page,
            outline: self.outline,
            tagged: self.tagged || self.pdfua,
        };
        if self.pdfua && self.pdfa.is_some() {
            return Err(ToolError::invalid_param(
                "pdfua",
                "not together with pdfa: the PDF/A conversion drops the tags PDF/UA needs",
            ));
        }
        if options.paper_width < 0.1 || options.paper_height < 0.1 {
            return Err(ToolError::invalid_param("paper_width", "the paper must be at least 0.1 inch each way"));
        }
        Ok(options)
    }
}

/// A document's files as the browser sees them: each input under its own name, a zip input
/// (a saved web page) unpacked with its folders; the page to open is `index.html` when there is
/// one, else the first HTML file.
pub(crate) struct Site {
    pub files: BTreeMap<String, PathBuf>,
    pub main: String,
    /// Holds unpacked zips; removed with the site.
    _scratch: tempfile::TempDir,
}

/// The largest a zipped web page may unpack to, and how many files it may hold.
const MAX_UNPACKED_BYTES: u64 = 512 << 20;
const MAX_ZIP_ENTRIES: usize = 10_000;

impl Site {
    pub fn of(inputs: &[Input], scratch_in: &Path) -> Result<Self, ToolError> {
        let scratch = tempfile::Builder::new()
            .prefix(".site-")
            .tempdir_in(scratch_in)
            .map_err(|e| ToolError::internal(format!("scratch directory: {e}")))?;
        let mut files = BTreeMap::new();
        for input in inputs {
            if is_zip(&input.path) {
                unzip_into(&input.path, scratch.path(), &mut files).map_err(|why| {
                    ToolError::new(ErrorCode::UnsupportedFormat, format!("{}: {why}", input.filename))
                })?;
            } else {
                files.insert(input.filename.clone(), input.path.clone());
            }
        }
        let html = |name: &String| {
            let lower = name.to_ascii_lowercase();
            lower.ends_with(".html") || lower.ends_with(".htm")
        };
        let main = files
            .keys()
            .find(|name| name.rsplit('/').next() == Some("index.html") && !name.contains('/'))
            .or_else(|| files.keys().find(|name| name.ends_with("/index.html")))
            .or_else(|| files.keys().find(|name| html(name) && !matches!(name.as_str(), "header.html" | "footer.html")))
            .cloned()
            .ok_or_else(|| {
                ToolError::new(ErrorCode::UnsupportedFormat, "no HTML page among the inputs (name it index.html)")
            })?;
        Ok(Self { files, main, _scratch: scratch })
    }

    pub fn source(&self) -> Source {
        Source::Files { files: self.files.clone(), main: self.main.clone() }
    }

    /// Replaces each `{{ toHTML "notes.md" }}` in the main page with that Markdown file of the
    /// site as HTML (Gotenberg's Markdown templates).
    pub fn expand_markdown(&mut self) -> Result<(), ToolError> {
        let template = self.text_of(&self.main)?.unwrap_or_default();
        let call = regex::Regex::new(r#"\{\{-?\s*toHTML\s+"([^"]+)"\s*-?\}\}"#).expect("a valid pattern");
        let mut missing = Vec::new();
        let mut failed = None;
        let page = call.replace_all(&template, |found: &regex::Captures<'_>| match self.text_of(&found[1]) {
            Ok(Some(markdown)) => super::markdown_to_pdf::markdown_html(&markdown),
            Ok(None) => {
                missing.push(format!("'{}'", &found[1]));
                String::new()
            }
            Err(error) => {
                failed = Some(error);
                String::new()
            }
        });
        if let Some(error) = failed {
            return Err(error);
        }
        if !missing.is_empty() {
            return Err(ToolError::invalid_param(
                "inputs",
                format!("Markdown file(s) not found: {}", missing.join(", ")),
            ));
        }
        let expanded = self._scratch.path().join("expanded.html");
        std::fs::write(&expanded, page.as_bytes()).map_err(|e| ToolError::internal(format!("scratch file: {e}")))?;
        self.files.insert(self.main.clone(), expanded);
        Ok(())
    }

    /// The text of one of the site's files, by its name.
    pub fn text_of(&self, name: &str) -> Result<Option<String>, ToolError> {
        let Some(path) = self.files.get(name) else { return Ok(None) };
        std::fs::read(path)
            .map(|bytes| Some(String::from_utf8_lossy(&bytes).into_owned()))
            .map_err(|e| ToolError::internal(format!("cannot read {name}: {e}")))
    }
}

fn is_zip(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == *b"PK\x03\x04"
}

/// Unpacks a zip's files under `dir`, each entry by its own path; paths that climb out, and
/// zips that unpack too large, are refused.
fn unzip_into(zip: &Path, dir: &Path, files: &mut BTreeMap<String, PathBuf>) -> Result<(), String> {
    let file = std::fs::File::open(zip).map_err(|e| e.to_string())?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| format!("not a readable zip: {e}"))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(format!("more than {MAX_ZIP_ENTRIES} files in the zip"));
    }
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| e.to_string())?;
        if entry.is_dir() {
            continue;
        }
        let Some(relative) = entry.enclosed_name() else {
            return Err(format!("{}: a path outside the zip", entry.name().unwrap_or_default()));
        };
        let name = relative.to_string_lossy().replace('\\', "/");
        let target = dir.join(format!("{index}"));
        let mut out = std::fs::File::create(&target).map_err(|e| e.to_string())?;
        let budget = MAX_UNPACKED_BYTES - total;
        let copied =
            std::io::copy(&mut std::io::Read::take(&mut entry, budget + 1), &mut out).map_err(|e| e.to_string())?;
        total += copied;
        if total > MAX_UNPACKED_BYTES {
            return Err(format!("unpacks to more than {} MB", MAX_UNPACKED_BYTES >> 20));
        }
        files.insert(name, target);
    }
    Ok(())
}

/// Renders `source` to a PDF named `filename` in the step's output directory, then makes it
/// PDF/A (Ghostscript) or identifies it as PDF/UA as `finish` asks.
pub(crate) async fn render_pdf(
    step: &EngineStep<'_>,
    source: &Source,
    page: &PageOptions,
    pdf: PdfOptions,
    finish: Finish,
    filename: String,
) -> Result<Output, ToolError> {
    let pool = step.engines.chromium()?;
    let path = step.out_dir.join(&filename);
    let finished = finish.pdfa.is_some() || finish.pdfua;
    let rendered = if finished { step.out_dir.join(format!(".rendered-{filename}")) } else { path.clone() };
    pool.render(source, page, &Capture::Pdf(pdf), &rendered, None).await.map_err(tool_error)?;
    let converted = match finish {
        Finish { pdfa: Some(level), .. } => {
            scanpro_engines::ghostscript::pdfa(step.engines.ghostscript(), &rendered, &path, &PdfaParams { level })
                .await
                .map(drop)
        }
        Finish { pdfua: true, .. } => {
            let (rendered, marked) = (rendered.clone(), path.clone());
            tokio::task::spawn_blocking(move || scanpro_pdf::mark_pdfua(&rendered, &marked).map(drop))
                .await
                .unwrap_or_else(|e| Err(ToolError::internal(format!("the PDF/UA step failed: {e}"))))
        }
        Finish { .. } => Ok(()),
    };
    if finished {
        let _ = std::fs::remove_file(&rendered);
    }
    converted?;
    Ok(Output { path, filename, content_type: "application/pdf".into() })
}

pub(crate) fn tool_error(error: ChromiumError) -> ToolError {
    ToolError::new(error.code(), error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_in_any_unit() {
        assert_eq!(parse_length("8.5"), Some(8.5));
        assert_eq!(parse_length("1in"), Some(1.0));
        assert!((parse_length("25.4mm").unwrap() - 1.0).abs() < 1e-9);
        assert!((parse_length("2.54cm").unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(parse_length("72pt"), Some(1.0));
        assert_eq!(parse_length("96px"), Some(1.0));
        assert_eq!(parse_length("1furlong"), None);
        assert_eq!(parse_length("mm"), None);
    }
}
