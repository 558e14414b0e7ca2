//! Attachments: files embedded in a PDF (the catalog's `EmbeddedFiles` name tree), each also
//! listed as an associated file (`/AF`, as PDF/A-3 and Factur-X expect).
//!
//! Attachments already in the document are kept; one with the same name is replaced. The name
//! tree is rebuilt as one sorted leaf, which every reader accepts.

use crate::dests::deref;
use crate::guard::guarded;
use crate::open::open_unguarded;
use crate::rewrite::prepare;
use crate::save::save_atomic;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat, text_string};
use scanpro_core::ToolError;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Levels of a name tree walked at most; deeper trees are refused as malformed.
const MAX_TREE_DEPTH: usize = 32;

/// One file to embed.
#[derive(Debug, Clone)]
pub struct Attachment<'a> {
    /// The name readers show (and the key in the name tree).
    pub name: String,
    pub path: &'a Path,
    /// The MIME type, e.g. `text/xml`.
    pub mime_type: Option<String>,
    /// How the file relates to the document: `Source`, `Data`, `Alternative`, `Supplement` or
    /// `Unspecified`.
    pub relationship: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachReport {
    pub pages: u32,
    /// Every attachment the output holds, by name.
    pub attachments: Vec<String>,
}

/// Embeds `files` into `input`, saved as `out`.
pub fn attach(input: &Path, files: &[Attachment<'_>], out: &Path) -> Result<AttachReport, ToolError> {
    guarded("attach", || {
        let mut doc = open_unguarded(input)?;
        let prepared = prepare(&mut doc)?;
        let mut entries = existing_entries(&doc)?;
        let mut associated = Vec::with_capacity(files.len());
        for file in files {
            let bytes =
                std::fs::read(file.path).map_err(|e| ToolError::internal(format!("cannot read {}: {e}", file.name)))?;
            let spec = embed(&mut doc, file, bytes);
            entries.insert(file.name.clone(), Object::Reference(spec));
            associated.push(Object::Reference(spec));
        }
        let names: Vec<String> = entries.keys().cloned().collect();
        let leaf: Vec<Object> = entries
            .into_iter()
            .flat_map(|(name, spec)| [Object::String(utf16(&name), StringFormat::Hexadecimal), spec])
            .collect();
        let tree = doc.add_object(Dictionary::from_iter([("Names", Object::Array(leaf))]));
        let catalog = doc.catalog_mut().map_err(|e| ToolError::internal(format!("no catalog: {e}")))?;
        let mut name_dictionary = match catalog.get(b"Names") {
            Ok(Object::Dictionary(names)) => names.clone(),
            _ => Dictionary::new(),
        };
        name_dictionary.set("EmbeddedFiles", Object::Reference(tree));
        let names_id = {
            let id = doc.add_object(name_dictionary);
            Object::Reference(id)
        };
        let catalog = doc.catalog_mut().map_err(|e| ToolError::internal(format!("no catalog: {e}")))?;
        // A `Names` given by reference is replaced by the copy holding the new tree.
        catalog.set("Names", names_id);
        let mut af = match catalog.get(b"AF") {
            Ok(Object::Array(existing)) => existing.clone(),
            _ => Vec::new(),
        };
        af.extend(associated);
        catalog.set("AF", Object::Array(af));
        save_atomic(&mut doc, out)?;
        Ok(AttachReport { pages: prepared.pages, attachments: names })
    })
}

/// The embedded file stream and its file specification; returns the specification's id.
fn embed(doc: &mut Document, file: &Attachment<'_>, bytes: Vec<u8>) -> ObjectId {
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let mut stream_dict = Dictionary::from_iter([
        ("Type", Object::Name(b"EmbeddedFile".to_vec())),
        ("Params", Object::Dictionary(Dictionary::from_iter([("Size", Object::Integer(size))]))),
    ]);
    if let Some(mime) = &file.mime_type {
        stream_dict.set("Subtype", Object::Name(mime.as_bytes().to_vec()));
    }
    let mut stream = Stream::new(stream_dict, bytes);
    // Text and XML shrink; a file that does not is kept as it is.
    let _ = stream.compress();
    let stream = doc.add_object(stream);
    let relationship = file.relationship.as_deref().unwrap_or("Unspecified");
    let spec = Dictionary::from_iter([
        ("Type", Object::Name(b"Filespec".to_vec())),
        ("F", Object::String(file.name.as_bytes().to_vec(), StringFormat::Literal)),
        ("UF", text_string(&file.name)),
        (
            "EF",
            Object::Dictionary(Dictionary::from_iter([
                ("F", Object::Reference(stream)),
                ("UF", Object::Reference(stream)),
            ])),
        ),
        ("AFRelationship", Object::Name(relationship.as_bytes().to_vec())),
    ]);
    doc.add_object(spec)
}

/// The attachments the document has, by name, from every leaf of its name tree.
fn existing_entries(doc: &Document) -> Result<BTreeMap<String, Object>, ToolError> {
    let mut entries = BTreeMap::new();
    let catalog = doc.catalog().map_err(|e| ToolError::internal(format!("no catalog: {e}")))?;
    let names = deref(doc, catalog.get(b"Names").ok()).and_then(|o| o.as_dict().ok());
    let Some(root) = names.and_then(|n| deref(doc, n.get(b"EmbeddedFiles").ok())) else { return Ok(entries) };
    let mut pending = vec![(root, 0)];
    while let Some((node, depth)) = pending.pop() {
        if depth > MAX_TREE_DEPTH {
            return Err(ToolError::new(scanpro_core::ErrorCode::InvalidPdf, "the attachments' name tree is too deep"));
        }
        let Ok(node) = node.as_dict() else { continue };
        if let Some(Object::Array(leaf)) = deref(doc, node.get(b"Names").ok()) {
            for pair in leaf.chunks_exact(2) {
                if let Some(name) = deref(doc, Some(&pair[0])).and_then(crate::info::decode_text) {
                    entries.insert(name, pair[1].clone());
                }
            }
        }
        if let Some(Object::Array(kids)) = deref(doc, node.get(b"Kids").ok()) {
            pending.extend(kids.iter().filter_map(|kid| deref(doc, Some(kid))).map(|kid| (kid, depth + 1)));
        }
    }
    Ok(entries)
}

/// A text string as UTF-16BE with its byte-order mark.
fn utf16(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    bytes
}

/// Attachments read at most: more is a hostile file, not a dossier.
const MAX_ATTACHMENTS: usize = 10_000;

/// One embedded file, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmbeddedFile {
    pub name: String,
    /// Bytes, once decompressed.
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The page it is pinned to, for a file attached to a page rather than to the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentsReport {
    pub pages: u32,
    pub attachments: Vec<EmbeddedFile>,
}

/// The files embedded in `input`: the document's (its `EmbeddedFiles` tree) and the pages'
/// (file attachment annotations).
pub fn list_attachments(input: &Path) -> Result<AttachmentsReport, ToolError> {
    guarded("attachments", || {
        let doc = open_unguarded(input)?;
        let pages = crate::page_tree::page_count(doc.get_pages().len())?;
        let attachments = embedded_files(&doc)?.into_iter().map(|(file, _)| file).collect();
        Ok(AttachmentsReport { pages, attachments })
    })
}

/// Hands each file embedded in `input` (as [`list_attachments`] lists them) with its bytes to
/// `write`; a file that does not decompress within lopdf's limit is refused.
pub fn extract_attachments(
    input: &Path,
    mut write: impl FnMut(&EmbeddedFile, &[u8]) -> Result<(), ToolError>,
) -> Result<AttachmentsReport, ToolError> {
    guarded("attachments", || {
        let doc = open_unguarded(input)?;
        let pages = crate::page_tree::page_count(doc.get_pages().len())?;
        let files = embedded_files(&doc)?;
        for (file, stream) in &files {
            let bytes = stream_bytes(&doc, *stream).map_err(|why| {
                ToolError::new(scanpro_core::ErrorCode::InvalidPdf, format!("attachment {:?}: {why}", file.name))
            })?;
            write(file, &bytes)?;
        }
        Ok(AttachmentsReport { pages, attachments: files.into_iter().map(|(file, _)| file).collect() })
    })
}

/// Every embedded file with the id of its stream, document files first, then by page.
fn embedded_files(doc: &Document) -> Result<Vec<(EmbeddedFile, ObjectId)>, ToolError> {
    let mut files = Vec::new();
    for (name, spec) in existing_entries(doc)? {
        if let Some(found) = describe(doc, &spec, Some(name), None) {
            files.push(found);
        }
    }
    for (number, page_id) in doc.get_pages() {
        let annots = doc.get_dictionary(page_id).ok().and_then(|p| deref(doc, p.get(b"Annots").ok()));
        let Some(Object::Array(annots)) = annots else { continue };
        for annot in annots.iter().filter_map(|a| deref(doc, Some(a))).filter_map(|a| a.as_dict().ok()) {
            let attached = annot.get(b"Subtype").and_then(Object::as_name).is_ok_and(|s| s == b"FileAttachment");
            if let (true, Ok(spec)) = (attached, annot.get(b"FS"))
                && let Some(found) = describe(doc, spec, None, Some(number))
            {
                files.push(found);
            }
        }
        if files.len() > MAX_ATTACHMENTS {
            break;
        }
    }
    files.truncate(MAX_ATTACHMENTS);
    Ok(files)
}

/// A file specification's embedded file: its name (the tree's key, else the spec's own), size,
/// type and description.
fn describe(doc: &Document, spec: &Object, key: Option<String>, page: Option<u32>) -> Option<(EmbeddedFile, ObjectId)> {
    let spec = deref(doc, Some(spec))?.as_dict().ok()?;
    let files = deref(doc, spec.get(b"EF").ok())?.as_dict().ok()?;
    let stream_id = [&b"UF"[..], b"F"].iter().find_map(|k| files.get(k).ok()?.as_reference().ok())?;
    let Ok(Object::Stream(stream)) = doc.get_object(stream_id) else { return None };
    let text = |key: &[u8]| deref(doc, spec.get(key).ok()).and_then(crate::info::decode_text);
    let name = key.or_else(|| text(b"UF")).or_else(|| text(b"F")).unwrap_or_else(|| "attachment".to_owned());
    let declared = deref(doc, stream.dict.get(b"Params").ok())
        .and_then(|p| p.as_dict().ok())
        .and_then(|p| p.get(b"Size").ok())
        .and_then(|s| s.as_i64().ok())
        .and_then(|s| u64::try_from(s).ok());
    let mime_type =
        stream.dict.get(b"Subtype").and_then(Object::as_name).ok().map(|m| String::from_utf8_lossy(m).into_owned());
    let size = declared.unwrap_or(stream.content.len() as u64);
    Some((EmbeddedFile { name, size, mime_type, description: text(b"Desc"), page }, stream_id))
}

fn stream_bytes(doc: &Document, id: ObjectId) -> Result<Vec<u8>, String> {
    match doc.get_object(id) {
        Ok(Object::Stream(stream)) if stream.dict.has(b"Filter") => {
            stream.decompressed_content_with_limit(lopdf::DEFAULT_MAX_DECOMPRESSED_SIZE).map_err(|e| e.to_string())
        }
        Ok(Object::Stream(stream)) => Ok(stream.content.clone()),
        _ => Err("its data is missing".into()),
    }
}
