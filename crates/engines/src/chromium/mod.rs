//! Web pages to PDF and images with headless Chromium (Debian's `chromium-headless-shell`, else
//! the full browser), driven over the DevTools protocol.
//!
//! - [`pool`]: warm browsers, one rendering at a time each, all started after the first
//!   rendering, recycled after a number of renderings or past a memory cap, replaced after a
//!   crash, killed on a deadline.
//! - [`browser`]: one browser process under the subprocess runner's sandbox, with the next
//!   rendering's blank page opened ahead.
//! - [`cdp`]: the DevTools connection.
//! - [`page`]: one rendering in a fresh browser context, every request answered by ScanPro.
//! - [`remote`]: remote requests, where allowed, checked against internal addresses.
//! - [`options`]: what a rendering is asked to do.

mod browser;
mod cdp;
pub mod options;
mod page;
mod pool;
pub mod remote;

pub use options::{
    Capture, Cookie, ExtraHeader, ImageFormat, Media, PageOptions, PdfOptions, ScreenshotOptions, StatusRange,
};
pub use page::{DOCUMENT_ORIGIN, Source};
pub use pool::{ChromiumPool, ChromiumStatus};
pub use reqwest::Url;

use scanpro_core::ErrorCode;
use std::path::PathBuf;
use std::time::Duration;

/// Settings of the Chromium engine.
#[derive(Debug, Clone)]
pub struct ChromiumConfig {
    /// The browser; found on the system when `None`.
    pub program: Option<PathBuf>,
    /// Browsers kept warm: the most renderings at once.
    pub instances: usize,
    /// A browser is replaced after this many renderings.
    pub recycle_after: u32,
    /// A browser whose processes use more memory than this after a rendering is replaced. The
    /// resident sizes of its dozen processes are summed, shared pages counted in each: an idle
    /// browser already counts about 1 GB.
    pub max_rss_bytes: u64,
    /// Deadline of one rendering; the browser is killed past it.
    pub timeout: Duration,
    pub startup_timeout: Duration,
    /// Where browser profiles are created.
    pub work_dir: PathBuf,
    /// Pages may load `http(s)` resources and `url_to_pdf` may open addresses.
    pub allow_remote: bool,
    /// Remote requests may go to loopback, private and other internal addresses too.
    pub allow_private_hosts: bool,
}

impl Default for ChromiumConfig {
    fn default() -> Self {
        Self {
            program: None,
            instances: 1,
            recycle_after: 100,
            max_rss_bytes: 4 << 30,
            timeout: Duration::from_secs(60),
            startup_timeout: Duration::from_secs(30),
            work_dir: std::env::temp_dir(),
            allow_remote: false,
            allow_private_hosts: false,
        }
    }
}

/// Why a rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum ChromiumError {
    /// Chromium is not installed or cannot start.
    #[error("Chromium is unavailable: {0}")]
    Unavailable(String),
    /// The rendering passed its deadline; the browser was killed.
    #[error("the page did not finish rendering within {} s (a script that never ends, or a page too large)", .0.as_secs())]
    Timeout(Duration),
    /// The browser or the page's renderer crashed.
    #[error("Chromium crashed while rendering the page: {0}")]
    Crashed(String),
    /// The main page could not be loaded.
    #[error("the page could not be loaded: {0}")]
    Load(String),
    /// A `fail_on_*` option matched (wording as Gotenberg's).
    #[error("{0}")]
    Status(String),
    /// The page's content refused an option: a wait expression that throws, an unmatched selector.
    #[error("{0}")]
    Page(String),
    /// A remote address that is not allowed.
    #[error("{0}")]
    Refused(String),
    /// Page ranges that do not fit the document.
    #[error("the page ranges do not fit the document: {0}")]
    PageRange(String),
    #[error("the output is larger than {} MB", .0 >> 20)]
    TooLarge(u64),
    #[error("the DevTools protocol failed: {0}")]
    Protocol(String),
    #[error("i/o error around the rendering: {0}")]
    Io(String),
    #[error("the Chromium engine is shut down")]
    ShutDown,
}

impl ChromiumError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unavailable(_) | Self::Crashed(_) | Self::ShutDown => ErrorCode::Unavailable,
            // Another attempt would wait as long for the same script.
            Self::Timeout(_) => ErrorCode::StepTimeout,
            Self::Load(_) | Self::Status(_) => ErrorCode::PageFailed,
            Self::Page(_) | Self::PageRange(_) => ErrorCode::InvalidParams,
            Self::Refused(_) => ErrorCode::Forbidden,
            Self::TooLarge(_) => ErrorCode::ResourceLimit,
            Self::Protocol(_) | Self::Io(_) => ErrorCode::InternalError,
        }
    }
}
