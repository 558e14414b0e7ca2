//! Opening an input: read, sniff, parse, decrypt with the empty password, and classify every
//! failure with a stable code, so the user learns whether to send another file, a password, or
//! nothing (our fault).

use crate::format;
use crate::guard::guarded;
use lopdf::{DecompressError, Document, LoadOptions};
use scanpro_core::{ErrorCode, ToolError};
use std::path::Path;

/// Opens a PDF for reading or editing.
///
/// - not a PDF (no `%PDF-` in the first 1024 bytes) → `unsupported_format`, naming what it is;
/// - encrypted with a non-empty user password → `encrypted_input`. A file whose user password is
///   empty (permissions-only protection) opens like any other and comes back decrypted:
///   [`Document::was_encrypted`] tells;
/// - unparsable, truncated, or without pages → `invalid_pdf`;
/// - a stream that would inflate past lopdf's decompression bound → `resource_limit`;
/// - a crash inside lopdf → `internal_error`.
pub fn open(path: &Path) -> Result<Document, ToolError> {
    guarded("open", || open_unguarded(path))
}

/// [`open`] without its own panic guard, for operations that already run inside one.
pub(crate) fn open_unguarded(path: &Path) -> Result<Document, ToolError> {
    let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
    let head = &bytes[..bytes.len().min(format::SNIFF_LEN)];
    if !format::is_pdf(head) {
        let what = format::describe(head);
        return Err(ToolError::new(ErrorCode::UnsupportedFormat, format!("this is {what}, not a PDF")));
    }
    // Lenient loading already rebuilds a damaged cross-reference table by scanning the objects.
    let mut doc = Document::load_mem_with_options(&bytes, LoadOptions::default()).map_err(classify_load_error)?;
    drop(bytes);
    if doc.is_encrypted() {
        return Err(ToolError::new(
            ErrorCode::EncryptedInput,
            "the PDF is protected by a password; a password is needed to open it",
        ));
    }
    if doc.was_encrypted() {
        // Decryption leaves gaps and stale numbering that qpdf reports; a fresh numbering is clean.
        doc.renumber_objects();
    }
    if doc.page_iter().next().is_none() {
        return Err(ToolError::new(ErrorCode::InvalidPdf, "the PDF has no pages (or its page tree is unreadable)"));
    }
    Ok(doc)
}

fn read_error(path: &Path, error: std::io::Error) -> ToolError {
    ToolError::internal(format!("cannot read {}: {error}", path.display()))
}

fn classify_load_error(error: lopdf::Error) -> ToolError {
    use lopdf::Error as E;
    match error {
        E::Decompress(DecompressError::MemoryLimitExceeded { .. }) => {
            ToolError::new(ErrorCode::ResourceLimit, "a stream in the PDF inflates beyond the processing limit")
        }
        E::InvalidPassword | E::Decryption(_) => {
            ToolError::new(ErrorCode::EncryptedInput, "the PDF is encrypted and could not be decrypted without a password")
        }
        E::UnsupportedSecurityHandler(handler) => ToolError::new(
            ErrorCode::EncryptedInput,
            format!(
                "the PDF is encrypted with an unsupported security handler ({})",
                String::from_utf8_lossy(&handler)
            ),
        ),
        other => ToolError::new(ErrorCode::InvalidPdf, format!("the PDF is damaged and cannot be read ({other})")),
    }
}
