//! Signing: the document is kept byte for byte and a signature is appended as an incremental
//! update (a new revision holding the signature field, its widget and the signature value), so
//! earlier signatures stay valid.
//!
//! The update is written with a placeholder `/Contents` of zeros and a placeholder `/ByteRange`;
//! then the real byte range is patched in, the covered bytes are hashed, and the CMS signature
//! is written into the placeholder in hex.

use super::cms::{self, SignedAttributes};
use super::keys::Credentials;
use crate::guard::guarded;
use crate::open::open_with_bytes;
use crate::page_tree::is_sound;
use crate::save::write_bytes_atomic;
use crate::stamp::geometry::{PageFrame, real};
use crate::streams::reencoded_page_contents;
use chrono::{DateTime, Utc};
use lopdf::{Dictionary, IncrementalDocument, Object, ObjectId, Stream, StringFormat, text_string};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;
use std::path::Path;

/// A signature to add.
pub struct Signing<'a> {
    pub credentials: &'a Credentials,
    /// The signature field's name; `None`: `Signature1`, `Signature2`, … (the first free one).
    pub field: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub contact: Option<String>,
    /// Where the signature shows; `None`: an invisible signature.
    pub visible: Option<Visible>,
    /// The claimed signing time (`/M`).
    pub at: DateTime<Utc>,
    /// Sends an RFC 3161 request (DER) to the time-stamping authority and returns its answer.
    pub timestamp: Option<&'a TimestampSender<'a>>,
}

/// Sends an RFC 3161 request (DER) to the time-stamping authority and returns its answer (DER).
pub type TimestampSender<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, ToolError> + 'a;

/// A visible signature's box and what it shows.
pub struct Visible {
    /// 1-based.
    pub page: u32,
    /// `[x, y, width, height]` in points from the displayed page's top left; `None`: 220 × 70
    /// points at the bottom right, 36 points from the edges.
    pub area: Option<[f64; 4]>,
    /// Lines of text; `None`: who signed, when, and the reason and location given.
    pub text: Option<Vec<String>>,
    /// An image (PNG or JPEG bytes) shown at the left of the box, or filling it without text.
    pub image: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignReport {
    pub field: String,
    pub signer: String,
    /// RFC 3339.
    pub signed_at: String,
    pub timestamped: bool,
    /// The page a visible signature shows on.
    pub page: Option<u32>,
    /// Signatures the document already held (they stay valid).
    pub earlier_signatures: usize,
}

/// Room for the signature besides the certificates: signed attributes and the signature value.
const SIGNATURE_ROOM: usize = 4096;
/// Room for a time-stamp token (the authority's certificates included).
const TIMESTAMP_ROOM: usize = 16384;
/// Placeholder offsets, ten digits each so any real offset fits in their place.
const BYTE_RANGE_PLACEHOLDER: [i64; 3] = [9_999_999_901, 9_999_999_902, 9_999_999_903];

/// Signs `input` into `out`.
pub fn sign(input: &Path, out: &Path, signing: &Signing<'_>) -> Result<SignReport, ToolError> {
    guarded("digital_sign", || sign_unguarded(input, out, signing))
}

fn sign_unguarded(input: &Path, out: &Path, signing: &Signing<'_>) -> Result<SignReport, ToolError> {
    signing.credentials.check_valid_at(signing.at)?;
    let (doc, bytes) = open_with_bytes(input)?;
    if doc.was_encrypted() {
        return Err(ToolError::new(
            ErrorCode::EncryptedInput,
            "the PDF is encrypted; remove its protection (unlock) before signing it",
        ));
    }
    if certified_without_changes(&doc) {
        return Err(ToolError::new(
            ErrorCode::Conflict,
            "the PDF is certified with no changes allowed (DocMDP level 1): another signature would break its \
             certification",
        ));
    }
    if doc.xref_start == 0 {
        return Err(ToolError::new(
            ErrorCode::InvalidPdf,
            "the PDF's cross-reference table is damaged, so a signature cannot be appended to it; repair it first",
        ));
    }
    if !is_sound(&doc) {
        return Err(ToolError::new(
            ErrorCode::InvalidPdf,
            "the PDF's page tree is damaged (a page or node is listed twice, or a kid is missing), so readers \
             disagree on its pages; repair it first",
        ));
    }
    // What the signature covers must read the same everywhere: damaged LZW content is written
    // again in the new revision, other content that does not decode is refused.
    let reencoded = reencoded_page_contents(&doc, doc.get_pages())?;
    let mut update = IncrementalDocument::create_from(bytes, doc);
    for (id, stream) in reencoded {
        update.new_document.set_object(id, Object::Stream(stream));
    }
    let placed = add_signature_objects(&mut update, signing)?;

    let mut written = Vec::new();
    update.save_to(&mut written).map_err(|e| ToolError::internal(format!("cannot write the signed PDF: {e}")))?;
    let appended_from = update.get_prev_documents_bytes().len();
    let contents = patch_byte_range(&mut written, appended_from, placed.contents_len)?;

    let hash = signing.credentials.hash();
    let digest = hash.digest([&written[..contents.start], &written[contents.end..]]);
    let attributes = SignedAttributes { digest: &digest, hash };
    let signature = cms::sign(signing.credentials, &attributes, signing.timestamp)?;
    let hex = hex::encode_upper(&signature);
    let room = contents.end - contents.start - 2;
    if hex.len() > room {
        return Err(ToolError::internal(format!(
            "the signature ({} bytes) is larger than the room kept for it ({} bytes)",
            signature.len(),
            room / 2
        )));
    }
    written[contents.start + 1..contents.start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    write_bytes_atomic(&written, out)?;
    Ok(SignReport {
        field: placed.field,
        signer: signing.credentials.signer_name(),
        signed_at: signing.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        timestamped: signing.timestamp.is_some(),
        page: signing.visible.as_ref().map(|v| v.page),
        earlier_signatures: placed.earlier_signatures,
    })
}

/// Whether a certification signature (`/Perms /DocMDP`) allows no change at all (`/P 1`).
fn certified_without_changes(doc: &lopdf::Document) -> bool {
    let deref = |object: &Object| match object {
        Object::Reference(id) => doc.get_object(*id).ok().cloned(),
        other => Some(other.clone()),
    };
    let Some(signature) = doc
        .catalog()
        .ok()
        .and_then(|root| root.get(b"Perms").ok().and_then(deref))
        .and_then(|perms| perms.as_dict().ok().and_then(|p| p.get(b"DocMDP").ok().and_then(deref)))
    else {
        return false;
    };
    let references = signature.as_dict().ok().and_then(|s| s.get(b"Reference").ok().and_then(deref));
    references.and_then(|r| r.as_array().ok().cloned()).unwrap_or_default().iter().filter_map(deref).any(|reference| {
        let params = reference.as_dict().ok().and_then(|r| r.get(b"TransformParams").ok().and_then(deref));
        params.and_then(|p| p.as_dict().ok().and_then(|p| p.get(b"P").ok().and_then(|p| p.as_i64().ok()))) == Some(1)
    })
}

struct Placed {
    field: String,
    contents_len: usize,
    earlier_signatures: usize,
}

/// Adds the signature value, the field and its widget to the update; returns the field's name
/// and the placeholder's size in bytes.
fn add_signature_objects(update: &mut IncrementalDocument, signing: &Signing<'_>) -> Result<Placed, ToolError> {
    let prev = update.get_prev_documents();
    let root_id = prev
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| ToolError::new(ErrorCode::InvalidPdf, "the PDF has no catalog to add a signature field to"))?;
    let pages = prev.get_pages();
    let page_number = signing.visible.as_ref().map_or(1, |v| v.page);
    let Some(&page_id) = pages.get(&page_number) else {
        return Err(ToolError::invalid_param(
            "page",
            format!("the document has {} pages; page {page_number} does not exist", pages.len()),
        ));
    };
    let existing = super::verify::field_names(prev);
    let earlier_signatures = super::verify::signature_count(prev);
    let field = match &signing.field {
        Some(name) if existing.contains(name) => {
            return Err(ToolError::invalid_param("field", format!("the document already has a field named {name:?}")));
        }
        Some(name) => name.clone(),
        None => (1..).map(|n| format!("Signature{n}")).find(|name| !existing.contains(name)).unwrap_or_default(),
    };
    let frame = prev.get_dictionary(page_id).map(|page| PageFrame::of(prev, page)).map_err(invalid_page)?;

    let contents_len = signing.credentials.chain.iter().map(cms::encoded_len).sum::<usize>()
        + SIGNATURE_ROOM
        + if signing.timestamp.is_some() { TIMESTAMP_ROOM } else { 0 };
    let mut value = Dictionary::new();
    value.set("Type", Object::Name(b"Sig".to_vec()));
    value.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    value.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    value.set(
        "ByteRange",
        Object::Array(std::iter::once(0).chain(BYTE_RANGE_PLACEHOLDER).map(Object::Integer).collect()),
    );
    value.set("Contents", Object::String(vec![0; contents_len], StringFormat::Hexadecimal));
    value.set("M", text_string(&pdf_date(signing.at)));
    value.set("Name", text_string(&signing.credentials.signer_name()));
    for (key, entry) in
        [("Reason", &signing.reason), ("Location", &signing.location), ("ContactInfo", &signing.contact)]
    {
        if let Some(entry) = entry {
            value.set(key, text_string(entry));
        }
    }
    let new = &mut update.new_document;
    let value_id = new.add_object(value);

    let (rect, appearance) = match &signing.visible {
        Some(visible) => {
            let (rect, stream) = super::appearance::visible(new, &frame, visible, signing)?;
            (rect, stream)
        }
        None => ([0.0; 4], super::appearance::invisible()),
    };
    let appearance_id = new.add_object(appearance);
    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set("T", text_string(&field));
    widget.set("V", Object::Reference(value_id));
    // Print, and locked so viewers do not let the box be moved.
    widget.set("F", Object::Integer(132));
    widget.set("P", Object::Reference(page_id));
    widget.set("Rect", Object::Array(rect.iter().map(|&n| real(n)).collect()));
    widget.set("AP", Object::Dictionary(Dictionary::from_iter([("N", Object::Reference(appearance_id))])));
    let widget_id = new.add_object(widget);

    add_to_array(update, page_id, b"Annots", widget_id)?;
    add_to_form(update, root_id, widget_id)?;
    Ok(Placed { field, contents_len, earlier_signatures })
}

fn invalid_page(e: lopdf::Error) -> ToolError {
    ToolError::new(ErrorCode::InvalidPdf, format!("the page to sign is unreadable ({e})"))
}

/// Appends `item` to the array `key` of the dictionary `owner` (direct or an indirect array),
/// copying what changes into the update.
fn add_to_array(
    update: &mut IncrementalDocument,
    owner: ObjectId,
    key: &[u8],
    item: ObjectId,
) -> Result<(), ToolError> {
    update.opt_clone_object_to_new_document(owner).map_err(invalid_page)?;
    let held = update.new_document.get_dictionary(owner).map_err(invalid_page)?.get(key).ok().cloned();
    match held {
        Some(Object::Reference(array_id)) if update.get_prev_documents().get_object(array_id).is_ok() => {
            update.opt_clone_object_to_new_document(array_id).map_err(invalid_page)?;
            let array = update.new_document.get_object_mut(array_id).and_then(Object::as_array_mut);
            array.map_err(invalid_page)?.push(Object::Reference(item));
        }
        Some(Object::Array(mut items)) => {
            items.push(Object::Reference(item));
            update.new_document.get_dictionary_mut(owner).map_err(invalid_page)?.set(key, Object::Array(items));
        }
        _ => {
            let items = Object::Array(vec![Object::Reference(item)]);
            update.new_document.get_dictionary_mut(owner).map_err(invalid_page)?.set(key, items);
        }
    }
    Ok(())
}

/// Adds the field to the catalog's `/AcroForm` (made when there is none) and marks the document
/// as signed (`/SigFlags 3`: signatures exist, append only).
fn add_to_form(update: &mut IncrementalDocument, root_id: ObjectId, field: ObjectId) -> Result<(), ToolError> {
    update.opt_clone_object_to_new_document(root_id).map_err(invalid_page)?;
    let form = update.new_document.get_dictionary(root_id).map_err(invalid_page)?.get(b"AcroForm").ok().cloned();
    let form_id = match form {
        Some(Object::Reference(id)) if update.get_prev_documents().get_dictionary(id).is_ok() => {
            update.opt_clone_object_to_new_document(id).map_err(invalid_page)?;
            id
        }
        Some(Object::Dictionary(dict)) => update.new_document.add_object(dict),
        _ => update.new_document.add_object(Dictionary::new()),
    };
    update.new_document.get_dictionary_mut(root_id).map_err(invalid_page)?.set("AcroForm", Object::Reference(form_id));
    add_to_array(update, form_id, b"Fields", field)?;
    let form = update.new_document.get_dictionary_mut(form_id).map_err(invalid_page)?;
    form.set("SigFlags", Object::Integer(3));
    Ok(())
}

/// Finds the placeholders in the appended revision, writes the real `/ByteRange` in place, and
/// returns where the `/Contents` hex string lies (`<` to `>` inclusive).
fn patch_byte_range(
    written: &mut [u8],
    appended_from: usize,
    contents_len: usize,
) -> Result<std::ops::Range<usize>, ToolError> {
    let missing = || ToolError::internal("the signature placeholder was not found in the written revision");
    let zeros = format!("<{}>", "0".repeat(contents_len * 2));
    let start = appended_from + find(&written[appended_from..], zeros.as_bytes()).ok_or_else(missing)?;
    let end = start + zeros.len();
    let placeholder =
        format!("[0 {} {} {}]", BYTE_RANGE_PLACEHOLDER[0], BYTE_RANGE_PLACEHOLDER[1], BYTE_RANGE_PLACEHOLDER[2]);
    let at = appended_from + find(&written[appended_from..], placeholder.as_bytes()).ok_or_else(missing)?;
    let actual = format!("[0 {start} {end} {}", written.len() - end);
    let padded = format!("{actual:<width$}]", width = placeholder.len() - 1);
    written[at..at + placeholder.len()].copy_from_slice(padded.as_bytes());
    Ok(start..end)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// `D:20261207153000+00'00'`.
fn pdf_date(at: DateTime<Utc>) -> String {
    format!("D:{}+00'00'", at.format("%Y%m%d%H%M%S"))
}

/// A Form XObject of `width` × `height` drawing `content`.
pub(crate) fn form(
    width: f64,
    height: f64,
    matrix: Option<[f64; 6]>,
    resources: Dictionary,
    content: Vec<u8>,
) -> Stream {
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set("BBox", Object::Array(vec![real(0.0), real(0.0), real(width), real(height)]));
    if let Some(matrix) = matrix {
        dict.set("Matrix", Object::Array(matrix.iter().map(|&n| real(n)).collect()));
    }
    dict.set("Resources", Object::Dictionary(resources));
    Stream::new(dict, content)
}
