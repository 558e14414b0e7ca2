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
