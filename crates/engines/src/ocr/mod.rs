//! OCR with OCRmyPDF and Tesseract, and the text of born-digital PDFs with poppler.
//!
//! An OCR request is checked (languages against those Tesseract has, the input's format from its
//! bytes, encryption with `qpdf`, pages with `pdfinfo`), then one `ocrmypdf` runs in a private
//! directory through the subprocess runner, with page parallelism (`--jobs`), one Tesseract
//! thread per page, a deadline that grows with the page count, and a memory limit. A small
//! OCRmyPDF plugin reports pages as they finish and which pages went to Tesseract, on stderr
//! lines the runner streams back. The output is checked with poppler before it is handed over.
//!
//! # Layout
//! - [`run`](ocr()): one request, from input to checked output; exit statuses become errors.
//! - `command`: the `ocrmypdf` command line, and the plugin's line protocol.
//! - `scanpro_plugin.py`: the plugin (progress, OCRed pages, a resolution for images without one).
//! - `inspect`: format, encryption and page count of an input.
//! - `languages`: installed languages (cached), the readiness check [`available`].
//! - `text`: [`pdf_to_text`] with `pdftotext`, also used to read back OCR results.
//! - `config`: [`OcrConfig`]; `error`: [`OcrError`] and its stable codes.

mod command;
mod config;
mod error;
mod inspect;
mod languages;
mod run;
mod text;

pub use config::OcrConfig;
pub use error::OcrError;
pub use inspect::InputFormat;
pub use languages::{OcrEngineInfo, available, installed_languages, installed_languages_blocking};
pub use run::{OcrReport, ocr};
pub use text::{TextReport, pdf_to_text};
