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
