//! External programs ScanPro runs, and the one place that runs them.
//!
//! # Layout
//! - [`process`]: the subprocess runner. Every child process of ScanPro starts here: no shell, its
//!   own process group, a private temp dir removed with it, resource limits, a parent-death
//!   signal, a deadline, a bounded stderr tail; timeout, cancel and drop kill the whole group.
//!   [`Subprocess::spawn`] starts long-lived children (warm engines) under the same rules.
//! - [`sandbox`]: the Landlock ruleset every child runs under: the system, its temp dir and the
//!   files it was granted, no network.
//! - [`ghostscript`]: compress, PDF/A and grayscale rewrites (Ghostscript and qpdf), each output
//!   checked against its input.
//! - [`office`]: LibreOffice conversions through a pool of warm instances.
//! - [`ocr`]: OCR with OCRmyPDF and Tesseract; the text of born-digital PDFs with `pdftotext`.
//! - [`progress`]: [`PageProgress`](progress::PageProgress), what engines report as pages finish.

pub mod ghostscript;
pub mod ocr;
pub mod office;
pub mod process;
pub mod progress;
pub mod sandbox;

pub use process::{Limits, ProcessError, ProcessOutput, RunningProcess, Subprocess};
