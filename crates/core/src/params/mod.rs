//! Typed parameters of every tool, one module per group of tools. Field names are part of the
//! public API (DESIGN.md): add fields freely, never rename one. Unknown fields are refused so a
//! typo is not silently ignored. Doc comments become the descriptions in each tool's JSON Schema.

mod convert;
mod document;
mod images;
mod ocr;
mod optimize;
mod organize;
mod pages;
mod security;
mod stamp;

pub use convert::*;
pub use document::*;
pub use images::*;
pub use ocr::*;
pub use optimize::*;
pub use organize::*;
pub use pages::*;
pub use security::*;
pub use stamp::*;

use crate::error::ToolError;
use crate::pages::PageSelection;

/// Parameter names that hold secrets: never logged, and erased from a job once it has ended.
pub const SECRET_PARAMS: &[&str] = &["password", "user_password", "owner_password"];

/// Parameters that need checks beyond their types.
pub trait Validate {
    /// Checks what can be checked without the document (syntax, ranges of numbers).
    fn validate(&self) -> Result<(), ToolError>;
}

/// Parses an optional page selection, naming `field` on error; absent means every page.
pub fn page_selection(field: &str, value: Option<&str>) -> Result<PageSelection, ToolError> {
    match value {
        None => Ok(PageSelection::all()),
        Some(text) => PageSelection::parse(text).map_err(|e| ToolError::invalid_param(field, e)),
    }
}
