//! Opening an input: read, sniff, parse, decrypt (with the empty password, or the one given),
//! and classify every failure with a stable code, so the user learns whether to send another
//! file, a password, or nothing (our fault).

use crate::format;
use crate::guard::guarded;
use lopdf::{DecompressError, Document, LoadOptions, Object};
use scanpro_core::{ErrorCode, ToolError};
use std::path::Path;

/// What an encrypted input without its password is told: the tools that take no password send
/// the user to `unlock`.
const NEEDS_PASSWORD: &str = "the PDF is protected by a password; run the unlock tool with its password first";

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

/// [`open`] with a password (user or owner) for an encrypted input: one that it does not open
/// is `wrong_password`. The password is only checked when the file needs one to open; use
/// [`opens_with`] to check it against a permissions-only file too. Unencrypted files open as
/// with [`open`].
pub fn open_with_password(path: &Path, password: &str) -> Result<Document, ToolError> {
    guarded("open", || open_as(path, Some(password)))
}

/// [`open`] without its own panic guard, for operations that already run inside one.
pub(crate) fn open_unguarded(path: &Path) -> Result<Document, ToolError> {
    open_as(path, None)
}

pub(crate) fn open_as(path: &Path, password: Option<&str>) -> Result<Document, ToolError> {
    let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
    load(bytes, password).map(|(doc, _)| doc)
}

/// [`open_unguarded`] that hands the file's bytes back too, for work on the file as it is (a
/// signature appended to it, or checked against it) without reading it twice.
pub(crate) fn open_with_bytes(path: &Path) -> Result<(Document, Vec<u8>), ToolError> {
    let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
    load(bytes, None)
}

/// Parses and classifies `bytes`; they come back once parsed, for the caller that needs them.
fn load(bytes: Vec<u8>, password: Option<&str>) -> Result<(Document, Vec<u8>), ToolError> {
    let head = &bytes[..bytes.len().min(format::SNIFF_LEN)];
    if !format::is_pdf(head) {
        let what = format::describe(head);
        return Err(ToolError::new(ErrorCode::UnsupportedFormat, format!("this is {what}, not a PDF")));
    }
    // Lenient loading already rebuilds a damaged cross-reference table by scanning the objects.
    let options = LoadOptions { password: password.map(str::to_owned), ..LoadOptions::default() };
    let mut doc =
        Document::load_mem_with_options(&bytes, options).map_err(|e| classify_load_error(e, password.is_some()))?;
    if doc.is_encrypted() {
        return Err(ToolError::new(ErrorCode::EncryptedInput, NEEDS_PASSWORD));
    }
    if doc.was_encrypted() {
        // Decryption leaves gaps and stale numbering that qpdf reports; a fresh numbering is clean.
        doc.renumber_objects();
    }
    if doc.page_iter().next().is_none() {
        return Err(ToolError::new(ErrorCode::InvalidPdf, "the PDF has no pages (or its page tree is unreadable)"));
    }
    Ok((doc, bytes))
}

/// Whether `error` is [`open`]'s answer to an input that needs a password to open.
pub(crate) fn needs_password(error: &ToolError) -> bool {
    error.code == ErrorCode::EncryptedInput && error.message == NEEDS_PASSWORD
}

/// Whether `password` is the user or the owner password of `doc` as it was encrypted (always
/// true for a document that was not). lopdf opens a permissions-only file with the empty
/// password whatever password it is given; this checks the one given.
pub fn opens_with(doc: &Document, password: &str) -> bool {
    let Some(state) = &doc.encryption_state else { return true };
    let Ok(encrypt) = state.encode() else { return false };
    let mut probe = Document::new();
    let encrypt_id = probe.add_object(encrypt);
    probe.trailer.set("Encrypt", Object::Reference(encrypt_id));
    if let Ok(file_id) = doc.trailer.get(b"ID") {
        probe.trailer.set("ID", file_id.clone());
    }
    probe.authenticate_password(password).is_ok()
}

fn read_error(path: &Path, error: std::io::Error) -> ToolError {
    ToolError::internal(format!("cannot read {}: {error}", path.display()))
}

fn classify_load_error(error: lopdf::Error, password_given: bool) -> ToolError {
    use lopdf::Error as E;
    match error {
        E::InvalidPassword if password_given => {
            ToolError::new(ErrorCode::WrongPassword, "the password does not open this PDF")
        }
        E::Decompress(DecompressError::MemoryLimitExceeded { .. }) => {
            ToolError::new(ErrorCode::ResourceLimit, "a stream in the PDF inflates beyond the processing limit")
        }
        E::InvalidPassword | E::Decryption(_) => ToolError::new(ErrorCode::EncryptedInput, NEEDS_PASSWORD),
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
