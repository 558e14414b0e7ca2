//! The external engines ScanPro supervises, each run through the one subprocess runner
//! ([`scanpro_process`]).
//!
//! # Layout
//! - [`chromium`]: web pages to PDF and images in warm headless browsers.
//! - [`ghostscript`]: compress, PDF/A and grayscale rewrites (Ghostscript and qpdf), each output
//!   checked against its input.
//! - [`office`]: LibreOffice conversions through a pool of warm instances.
//! - [`ocr`]: OCR with OCRmyPDF and Tesseract; the text of born-digital PDFs with `pdftotext`.

pub mod chromium;
pub mod ghostscript;
pub mod ocr;
pub mod office;

/// The last few lines of a stderr tail: enough to say what went wrong.
pub(crate) fn last_lines(tail: &str) -> String {
    let lines: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// A loopback port nobody listens on right now, for an engine's control connection. Another
/// process may take it first; the engine then fails to start and is started again.
pub(crate) fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
