//! LibreOffice conversions through a pool of warm instances.
//!
//! A conversion detects the input's format from its bytes, plans the import and export filters
//! for the target and options, copies the input into a private directory and hands it to an idle
//! warm instance through its UNO bridge. A crash or a deadline loses no document: it is retried
//! once on a fresh instance, then converted by a cold `soffice --convert-to`, and only then fails
//! with a typed error. Macros never run and documents never reach the network (see [`profile`]);
//! every LibreOffice process is confined to its own directory (see [`instance`]).
//!
//! # Layout
//! - [`detect`]: the input format from its bytes (OOXML / ODF zip, OLE2, RTF, HTML, text, PDF).
//! - [`references`]: documents that link to local files are refused before conversion.
//! - [`plan`]: targets, options, and the filters and filter data they become.
//! - [`profile`]: the hardened LibreOffice profile every instance and cold process copies.
//! - [`instance`]: one warm `soffice.bin` and its Python UNO bridge (`uno_bridge.py`).
//! - [`cold`]: the `soffice --convert-to` fallback.
//! - [`pool`]: leasing, deadlines, retries, recycling, status and shutdown.
//! - [`error`]: [`OfficeError`] and its stable codes.
//!
//! # What PDF import gives
//! A PDF converted to docx, odt, pptx, odp or odg goes through LibreOffice's PDF import, which
//! rebuilds every page as positioned shapes: each line of text a separate text box, images and
//! vector graphics as drawings. The result looks like the PDF but does not reflow: no paragraphs,
//! columns, tables or styles, fonts only as close as the installed ones, and scanned pages stay
//! images (no OCR). There is no PDF import into spreadsheets, so PDF to xlsx, xls, ods or csv is
//! refused.

mod cold;
mod config;
pub mod detect;
mod error;
mod instance;
pub mod plan;
mod pool;
pub mod profile;
mod references;

pub use config::OfficeConfig;
pub use detect::{DocumentKind, SourceFormat};
pub use error::OfficeError;
pub use plan::{ConvertOptions, ConvertRequest, FilterValue, PdfaLevel, TargetFormat};
pub use pool::{Converted, OfficePool, PoolStatus, Route};
