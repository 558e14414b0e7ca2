//! What a rendering is asked to do: how the page loads ([`PageOptions`]) and what is captured
//! ([`Capture`]: a PDF or a screenshot). Lengths are in inches, as DevTools takes them.

use std::collections::BTreeMap;
use std::time::Duration;

/// How a page is loaded, and what makes its rendering fail.
#[derive(Debug, Clone, Default)]
pub struct PageOptions {
    pub media: Option<Media>,
    /// CSS media features to emulate (`prefers-color-scheme` → `dark`).
    pub media_features: BTreeMap<String, String>,
    pub user_agent: Option<String>,
    /// Headers added to remote requests; each applies to the URLs its pattern matches, or all.
    pub extra_headers: Vec<ExtraHeader>,
    /// Cookies sent with remote requests to their domain.
    pub cookies: Vec<Cookie>,
    /// Waited after the page's `load` event.
    pub wait_delay: Duration,
    /// A JavaScript expression evaluated until it is `true`, after the delay.
    pub wait_for_expression: Option<String>,
    /// Statuses of the main page that fail the rendering.
    pub fail_on_http_status: Vec<StatusRange>,
    /// Statuses of any other resource that fail the rendering.
    pub fail_on_resource_http_status: Vec<StatusRange>,
    /// A resource that could not be loaded (or was refused) fails the rendering.
    pub fail_on_resource_loading_failed: bool,
    /// An uncaught exception in the page's scripts fails the rendering.
    pub fail_on_console_exceptions: bool,
}

/// The CSS media type a page is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Print,
    Screen,
}

impl Media {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Print => "print",
            Self::Screen => "screen",
        }
    }
}

/// A range of HTTP statuses that fails a rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRange {
    pub from: u16,
    pub to: u16,
}

impl StatusRange {
    /// Gotenberg's reading of one code: `X99` is the class `X00`–`X99`, anything else itself.
    pub fn from_code(code: u16) -> Self {
        if code % 100 == 99 { Self { from: code - 99, to: code } } else { Self { from: code, to: code } }
    }

    pub fn contains(&self, status: u16) -> bool {
        (self.from..=self.to).contains(&status)
    }
}

/// A header for remote requests, limited to URLs matching `scope` when given.
#[derive(Debug, Clone)]
pub struct ExtraHeader {
    pub name: String,
    pub value: String,
    pub scope: Option<regex::Regex>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    /// The host the cookie belongs to (`example.com`, or `.example.com` for its subdomains too).
    pub domain: String,
    pub path: Option<String>,
}

impl Cookie {
    /// Whether the cookie goes with a request to `host` for `path`.
    pub fn applies_to(&self, host: &str, path: &str) -> bool {
        let domain = self.domain.trim_start_matches('.').to_ascii_lowercase();
        let host = host.to_ascii_lowercase();
        let host_matches = host == domain || host.ends_with(&format!(".{domain}"));
        host_matches && self.path.as_deref().is_none_or(|prefix| path.starts_with(prefix))
    }
}

/// What the rendering produces.
#[derive(Debug, Clone)]
pub enum Capture {
    Pdf(PdfOptions),
    Screenshot(ScreenshotOptions),
}

impl Capture {
    pub fn omit_background(&self) -> bool {
        match self {
            Self::Pdf(pdf) => pdf.omit_background,
            Self::Screenshot(shot) => shot.omit_background,
        }
    }
}

/// `Page.printToPDF`'s options.
#[derive(Debug, Clone)]
pub struct PdfOptions {
    pub paper_width: f64,
    pub paper_height: f64,
    /// Top, bottom, left, right.
    pub margins: [f64; 4],
    pub landscape: bool,
    pub print_background: bool,
    pub omit_background: bool,
    pub scale: f64,
    /// Chromium's page ranges (`1-3, 5`); `None` prints every page.
    pub page_ranges: Option<String>,
    /// HTML templates of each page's header and footer (`<span class="pageNumber">` and friends).
    pub header_html: Option<String>,
    pub footer_html: Option<String>,
    /// The page's own `@page { size }` wins over the paper size.
    pub prefer_css_page_size: bool,
    /// The whole page on one sheet as tall as its content.
    pub single_page: bool,
    /// Bookmarks from the page's headings.
    pub outline: bool,
    /// A tagged (accessible) PDF.
    pub tagged: bool,
}

impl Default for PdfOptions {
    /// US Letter with 1 cm margins, as Gotenberg prints.
    fn default() -> Self {
        Self {
            paper_width: 8.5,
            paper_height: 11.0,
            margins: [0.39; 4],
            landscape: false,
            print_background: false,
            omit_background: false,
            scale: 1.0,
            page_ranges: None,
            header_html: None,
            footer_html: None,
            prefer_css_page_size: false,
            single_page: false,
            outline: false,
            tagged: false,
        }
    }
}

/// `Page.captureScreenshot`'s options.
#[derive(Debug, Clone)]
pub struct ScreenshotOptions {
    /// The viewport, in CSS pixels.
    pub width: u32,
    pub height: u32,
    /// Only the viewport; otherwise the whole page (cut at 16 384 pixels).
    pub clip: bool,
    /// Only the first element this CSS selector matches.
    pub selector: Option<String>,
    pub format: ImageFormat,
    /// JPEG and WebP quality, 0–100.
    pub quality: Option<u8>,
    pub omit_background: bool,
    pub optimize_for_speed: bool,
    pub device_scale_factor: f64,
}

impl Default for ScreenshotOptions {
    fn default() -> Self {
        Self {
            width: 800,
            height: 600,
            clip: false,
            selector: None,
            format: ImageFormat::Png,
            quality: None,
            omit_background: false,
            optimize_for_speed: false,
            device_scale_factor: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Webp => "webp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x99_stands_for_its_class() {
        let class = StatusRange::from_code(499);
        assert!(class.contains(400) && class.contains(404) && class.contains(499));
        assert!(!class.contains(500));
        assert!(StatusRange::from_code(404).contains(404));
        assert!(!StatusRange::from_code(404).contains(403));
    }

    #[test]
    fn cookies_go_to_their_domain_only() {
        let cookie = Cookie { name: "a".into(), value: "b".into(), domain: ".example.com".into(), path: None };
        assert!(cookie.applies_to("example.com", "/"));
        assert!(cookie.applies_to("www.example.com", "/x"));
        assert!(!cookie.applies_to("evil-example.com", "/"));
    }
}
