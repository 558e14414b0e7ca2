//! What tools' parameters share: page selections, stamp positions, fonts and layers, and the
//! parameters of the tools whose engine (`scanpro_engines`) or PDF code (`scanpro_pdf`) takes them
//! whole. Every other tool's parameters live beside its code in `scanpro_tools`.
//!
//! Field names are part of the public API (DESIGN.md): add fields freely, never rename one.
//! Unknown fields are refused so a typo is not silently ignored. Doc comments become the
//! descriptions in each tool's JSON Schema.

mod images;
mod marks;
mod ocr;
mod optimize;

pub use images::*;
pub use marks::*;
pub use ocr::*;
pub use optimize::*;

use crate::error::ToolError;
use crate::pages::PageSelection;
use schemars::Schema;

/// Parameter names that hold secrets: never logged, and erased from a job once it has ended.
pub const SECRET_PARAMS: &[&str] = &["password", "user_password", "owner_password"];

/// Schema transform for a page selection field (`1-3,5,last`): `format: page-selection` and the
/// syntax as a `pattern`, so forms check it as it is typed.
pub fn page_selection_field(schema: &mut Schema) {
    schema.insert("format".into(), "page-selection".into());
    schema.insert("pattern".into(), PageSelection::pattern().into());
}

/// Schema transform for an option most people leave alone: `x-advanced`, which forms may tuck
/// under "More options".
pub fn advanced(schema: &mut Schema) {
    schema.insert("x-advanced".into(), true.into());
}

/// Parameters that need checks beyond their types.
pub trait Validate {
    /// Checks what can be checked without the document (syntax, ranges of numbers).
    fn validate(&self) -> Result<(), ToolError>;
}

/// The pages `selection` names in a document of `page_count` pages, naming `field` on error.
pub fn resolve_pages(field: &str, selection: &str, page_count: u32) -> Result<Vec<u32>, ToolError> {
    PageSelection::parse(selection).and_then(|s| s.resolve(page_count)).map_err(|e| ToolError::invalid_param(field, e))
}

/// Parses an optional page selection, naming `field` on error; absent means every page.
pub fn page_selection(field: &str, value: Option<&str>) -> Result<PageSelection, ToolError> {
    match value {
        None => Ok(PageSelection::all()),
        Some(text) => PageSelection::parse(text).map_err(|e| ToolError::invalid_param(field, e)),
    }
}
