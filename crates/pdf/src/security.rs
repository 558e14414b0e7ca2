//! Protect and unlock: AES-256 encryption (PDF 2.0 security handler, revision 6) with a user
//! and an owner password and permissions, and its removal.
//!
//! Passwords go to lopdf and nowhere else: no error message or report quotes one.

use crate::dests::deref;
use crate::guard::guarded;
use crate::open::{needs_password, open_as, opens_with};
use crate::page_tree::page_count;
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::encryption::crypt_filters::{Aes256CryptFilter, CryptFilter};
use lopdf::{Dictionary, Document, EncryptionState, EncryptionVersion, Object};
use rand::Rng;
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// What someone holding only the user password may do; `true` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Permissions {
    /// Print at full quality.
    pub print: bool,
    /// Copy or extract text and images. Extraction for accessibility stays allowed regardless.
    pub copy: bool,
    /// Change content, and insert, remove or rotate pages.
    pub modify: bool,
    /// Add or change annotations. PDF ties form filling to this permission too: readers let
    /// whoever may annotate also fill forms.
    pub annotate: bool,
    /// Fill in existing form fields.
    pub fill_forms: bool,
}

/// What protecting did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectReport {
    pub pages: u32,
    /// The encryption applied.
    pub encryption: &'static str,
    /// Whether a password is needed to open the document.
    pub user_password: bool,
    pub permissions: Permissions,
}

/// What unlocking did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnlockReport {
    pub pages: u32,
    /// Whether the input was encrypted; if not, the output is a copy of it.
    pub was_encrypted: bool,
}

const ENCRYPTION: &str = "AES-256 (PDF 2.0 security handler, revision 6)";

/// The crypt filter name every string and stream uses.
const STANDARD_FILTER: &[u8] = b"StdCF";

/// Encrypts `input` with AES-256 into `out`. `owner_password` must not be empty; an empty
/// `user_password` lets anyone open the document under `permissions`. An input that needs a
/// password to open is `encrypted_input` (unlock it first); a permissions-only one is re-protected.
pub fn protect(
    input: &Path,
    user_password: &str,
    owner_password: &str,
    permissions: Permissions,
    out: &Path,
) -> Result<ProtectReport, ToolError> {
    guarded("protect", || {
        if owner_password.is_empty() {
            return Err(ToolError::invalid_param("owner_password", "must not be empty"));
        }
        let mut doc = open_as(input, None)?;
        let prepared = prepare(&mut doc)?;
        declare_aes256_support(&mut doc);
        let mut key = [0u8; 32];
        rand::rng().fill(&mut key);
        let filter: Arc<dyn CryptFilter> = Arc::new(Aes256CryptFilter);
        let version = EncryptionVersion::V5 {
            encrypt_metadata: true,
            crypt_filters: BTreeMap::from([(STANDARD_FILTER.to_vec(), filter)]),
            file_encryption_key: &key,
            stream_filter: STANDARD_FILTER.to_vec(),
            string_filter: STANDARD_FILTER.to_vec(),
            owner_password,
            user_password,
            permissions: lopdf_permissions(permissions),
        };
        // Any failure here is about the passwords: SASLprep refuses some characters. lopdf's
        // message would quote the character, so it is not passed on.
        let state = EncryptionState::try_from(version).map_err(|_| {
            ToolError::invalid_param(
                "owner_password / user_password",
                "contains characters a PDF password cannot hold (control, unassigned or mixed-direction characters)",
            )
        })?;
        doc.encrypt(&state).map_err(|e| ToolError::internal(format!("protect: encryption failed ({e})")))?;
        save_atomic(&mut doc, out)?;
        Ok(ProtectReport {
            pages: prepared.pages,
            encryption: ENCRYPTION,
            user_password: !user_password.is_empty(),
            permissions,
        })
    })
}

/// Decrypts `input` into `out` with `password` (user or owner; empty for a document that opens
/// without one). A password that does not open it is `wrong_password`; an input that is not
/// encrypted is copied unchanged.
pub fn unlock(input: &Path, password: &str, out: &Path) -> Result<UnlockReport, ToolError> {
    guarded("unlock", || {
        let given = Some(password).filter(|p| !p.is_empty());
        let mut doc = open_as(input, given).map_err(|e| match needs_password(&e) {
            true => ToolError::new(ErrorCode::WrongPassword, "the PDF needs a password to open; give it as `password`"),
            false => e,
        })?;
        if !doc.was_encrypted() {
            copy_atomic(input, out)?;
            return Ok(UnlockReport { pages: page_count(doc.get_pages().len())?, was_encrypted: false });
        }
        if !opens_with(&doc, password) {
            return Err(ToolError::new(ErrorCode::WrongPassword, "the password does not open this PDF"));
        }
        let prepared = prepare(&mut doc)?;
        save_atomic(&mut doc, out)?;
        Ok(UnlockReport { pages: prepared.pages, was_encrypted: true })
    })
}

/// The PDF permission bits for `allowed`. Extraction for accessibility is always allowed, as
/// PDF 2.0 requires.
fn lopdf_permissions(allowed: Permissions) -> lopdf::Permissions {
    use lopdf::Permissions as P;
    let mut bits = P::COPYABLE_FOR_ACCESSIBILITY;
    let pairs = [
        (allowed.print, P::PRINTABLE | P::PRINTABLE_IN_HIGH_QUALITY),
        (allowed.copy, P::COPYABLE),
        (allowed.modify, P::MODIFIABLE | P::ASSEMBLABLE),
        (allowed.annotate, P::ANNOTABLE),
        (allowed.fill_forms, P::FILLABLE),
    ];
    for (allow, flags) in pairs {
        if allow {
            bits |= flags;
        }
    }
    bits
}

/// AES-256 is PDF 2.0, or PDF 1.7 with Adobe extension level 8: declare the latter (as qpdf
/// does), which readers older than PDF 2.0 also understand.
fn declare_aes256_support(doc: &mut Document) {
    if version_number(&doc.version) < (1, 7) {
        doc.version = "1.7".into();
    }
    if version_number(&doc.version) >= (2, 0) {
        return;
    }
    let existing = doc.catalog().ok().and_then(|catalog| deref(doc, catalog.get(b"Extensions").ok()));
    let mut extensions = existing.and_then(|e| e.as_dict().ok()).cloned().unwrap_or_default();
    let mut adobe = Dictionary::new();
    adobe.set("BaseVersion", Object::Name(b"1.7".to_vec()));
    adobe.set("ExtensionLevel", 8);
    extensions.set("ADBE", adobe);
    if let Ok(catalog) = doc.catalog_mut() {
        catalog.set("Extensions", extensions);
    }
}

fn version_number(version: &str) -> (u32, u32) {
    let mut parts = version.trim().splitn(2, '.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// Copies `input` to `out` through a temp file beside it, so `out` is whole or absent.
fn copy_atomic(input: &Path, out: &Path) -> Result<(), ToolError> {
    let write_error = |e: std::io::Error| ToolError::internal(format!("cannot write {}: {e}", out.display()));
    let temp = out.with_file_name(format!(".{}.part", out.file_name().unwrap_or_default().to_string_lossy()));
    std::fs::copy(input, &temp).map_err(write_error)?;
    std::fs::rename(&temp, out).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        write_error(e)
    })
}
