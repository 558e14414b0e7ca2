//! Settings of the OCR engine.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct OcrConfig {
    /// The `ocrmypdf` program. Default: `ocrmypdf` on `PATH`.
    pub ocrmypdf: PathBuf,
    /// The `tesseract` program OCRmyPDF runs, asked for its languages. Default: `tesseract` on
    /// `PATH` (OCRmyPDF finds it there too).
    pub tesseract: PathBuf,
    /// Pages OCRed at once by one document (`ocrmypdf --jobs`); Tesseract itself runs one
    /// thread per page. Default: the number of cores.
    pub jobs: usize,
    /// Time allowed per page of a document; a document gets `startup_time` plus this for each
    /// page, up to `max_timeout`. Default 60 s (a dense 300 dpi page takes 5–15 s on one core).
    pub timeout_per_page: Duration,
    /// Time allowed for starting up and finishing a document, whatever its pages. Default 30 s.
    pub startup_time: Duration,
    /// Longest any document may take. Default 1 hour.
    pub max_timeout: Duration,
    /// Address space allowed to each process of an OCR run (OCRmyPDF, Tesseract, Ghostscript),
    /// in bytes. Default 4 GiB.
    pub memory_limit_bytes: Option<u64>,
    /// Where each run makes its private directory. Default: the system temp dir.
    pub work_dir: PathBuf,
}

impl Default for OcrConfig {
    fn default() -> Self {
        Self {
            ocrmypdf: PathBuf::from("ocrmypdf"),
            tesseract: PathBuf::from("tesseract"),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            timeout_per_page: Duration::from_secs(60),
            startup_time: Duration::from_secs(30),
            max_timeout: Duration::from_secs(3600),
            memory_limit_bytes: Some(4 * 1024 * 1024 * 1024),
            work_dir: std::env::temp_dir(),
        }
    }
}

impl OcrConfig {
    /// The deadline of a document of `pages` pages.
    pub fn timeout_for(&self, pages: u32) -> Duration {
        (self.startup_time + self.timeout_per_page * pages).min(self.max_timeout)
    }
}
