//! What an input document is, from its bytes, never its name: zip-based OOXML and ODF, OLE2
//! (legacy Office, or an encrypted OOXML package), RTF, HTML, plain UTF-8 text, PDF. Anything
//! else is refused before LibreOffice sees it.

use super::OfficeError;
use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// The four LibreOffice applications a document opens in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Text,
    Spreadsheet,
    Presentation,
    Drawing,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Spreadsheet => "spreadsheet",
            Self::Presentation => "presentation",
            Self::Drawing => "drawing",
        }
    }

    pub(crate) fn from_bridge(name: &str) -> Option<Self> {
        [Self::Text, Self::Spreadsheet, Self::Presentation, Self::Drawing]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// An input format, as detected from content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
    Odg,
    Doc,
    Xls,
    Ppt,
    /// An OOXML package inside an encrypted OLE2 container. LibreOffice opens the ones encrypted
    /// with Office's default password; which application it opens in shows only then.
    EncryptedOoxml,
    Rtf,
    Html,
    /// UTF-8 (or ASCII) text.
    Txt,
    Pdf,
}

impl SourceFormat {
    /// The extension the private copy gets: LibreOffice's type detection starts from it.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Docx | Self::EncryptedOoxml => "docx",
            Self::Xlsx => "xlsx",
            Self::Pptx => "pptx",
            Self::Odt => "odt",
            Self::Ods => "ods",
            Self::Odp => "odp",
            Self::Odg => "odg",
            Self::Doc => "doc",
            Self::Xls => "xls",
            Self::Ppt => "ppt",
            Self::Rtf => "rtf",
            Self::Html => "html",
            Self::Txt => "txt",
            Self::Pdf => "pdf",
        }
    }

    /// The applications the document may open in, most likely first. OLE2 files are matched by
    /// stream names, which an embedded object can carry too, so every office kind stays possible.
    pub fn kinds(self) -> &'static [DocumentKind] {
        use DocumentKind::*;
        match self {
            Self::Docx | Self::Odt | Self::Rtf | Self::Html | Self::Txt => &[Text],
            Self::Xlsx | Self::Ods => &[Spreadsheet],
            Self::Pptx | Self::Odp => &[Presentation],
            Self::Odg => &[Drawing],
            Self::Doc | Self::EncryptedOoxml => &[Text, Spreadsheet, Presentation],
            Self::Xls => &[Spreadsheet, Text, Presentation],
            Self::Ppt => &[Presentation, Text, Spreadsheet],
            // The import filter, chosen by the target, decides.
            Self::Pdf => &[Text, Presentation, Drawing],
        }
    }
}

/// Detects the format of the file at `path`.
pub fn detect(path: &Path) -> Result<SourceFormat, OfficeError> {
    let mut head = Vec::with_capacity(HEAD);
    std::fs::File::open(path)?.take(HEAD as u64).read_to_end(&mut head)?;
    let unsupported = |what: &str| {
        Err(OfficeError::UnsupportedFormat(format!("the input is {what}, not a document LibreOffice converts")))
    };
    if head.is_empty() {
        return unsupported("empty");
    }
    if head[..head.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        return Ok(SourceFormat::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") {
        return zip_format(path, &head).map_or_else(|| unsupported("a zip archive"), Ok);
    }
    if head.starts_with(&OLE_MAGIC) {
        return ole_format(path)?.map_or_else(|| unsupported("an OLE2 file of no Office application"), Ok);
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    if text.starts_with(b"{\\rtf") {
        return Ok(SourceFormat::Rtf);
    }
    if looks_like_html(text) {
        return Ok(SourceFormat::Html);
    }
    if is_plain_text(text) {
        return Ok(SourceFormat::Txt);
    }
    unsupported("binary data")
}

/// Bytes read for every check but the zip and OLE2 ones.
const HEAD: usize = 64 * 1024;
const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn zip_format(path: &Path, head: &[u8]) -> Option<SourceFormat> {
    let Ok(mut archive) = std::fs::File::open(path).map_err(drop).and_then(|f| zip::ZipArchive::new(f).map_err(drop))
    else {
        // A damaged central directory: LibreOffice may still repair it, so judge by the local
        // headers at the start.
        return odf_from_mimetype(&String::from_utf8_lossy(head)).or_else(|| ooxml_from_names(head_names(head)));
    };
    if let Ok(mut entry) = archive.by_name("mimetype") {
        let mut mimetype = String::new();
        return match entry.by_ref().take(200).read_to_string(&mut mimetype) {
            Ok(_) => odf_from_mimetype(&mimetype),
            Err(_) => odf_from_mimetype(&String::from_utf8_lossy(head)),
        };
    }
    if let Some(format) = ooxml_from_names(archive.file_names().flatten()) {
        return Some(format);
    }
    let mut manifest = String::new();
    archive.by_name("META-INF/manifest.xml").ok()?.take(1 << 20).read_to_string(&mut manifest).ok()?;
    odf_from_mimetype(&manifest)
}

/// The ODF format named by a `mimetype` entry or a manifest (templates open like documents).
fn odf_from_mimetype(text: &str) -> Option<SourceFormat> {
    const PREFIX: &str = "application/vnd.oasis.opendocument.";
    let rest = &text[text.find(PREFIX)? + PREFIX.len()..];
    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    match name.trim_end_matches("-template") {
        "text" | "text-master" | "text-web" => Some(SourceFormat::Odt),
        "spreadsheet" => Some(SourceFormat::Ods),
        "presentation" => Some(SourceFormat::Odp),
        "graphics" => Some(SourceFormat::Odg),
        _ => None,
    }
}

fn ooxml_from_names<S: AsRef<str>>(names: impl Iterator<Item = S>) -> Option<SourceFormat> {
    let mut found = None;
    for name in names {
        let format = match name.as_ref().split('/').next() {
            Some("word") => SourceFormat::Docx,
            Some("xl") => SourceFormat::Xlsx,
            Some("ppt") => SourceFormat::Pptx,
            _ => continue,
        };
        found.get_or_insert(format);
    }
    found
}

/// Entry names from the local file headers in `head` (signature, 26 bytes, name length at 26).
fn head_names(head: &[u8]) -> impl Iterator<Item = &str> {
    head.windows(4).enumerate().filter(|(_, w)| *w == b"PK\x03\x04").filter_map(move |(at, _)| {
        let len = u16::from_le_bytes([*head.get(at + 26)?, *head.get(at + 27)?]) as usize;
        std::str::from_utf8(head.get(at + 30..at + 30 + len)?).ok()
    })
}

/// Reads the OLE2 directory entries (128-byte records, 128-aligned in the file) looking for the
/// streams that name an application. The file is streamed, never held whole.
fn ole_format(path: &Path) -> std::io::Result<Option<SourceFormat>> {
    const STREAMS: [(&str, SourceFormat); 5] = [
        ("EncryptedPackage", SourceFormat::EncryptedOoxml),
        ("WordDocument", SourceFormat::Doc),
        ("PowerPoint Document", SourceFormat::Ppt),
        ("Workbook", SourceFormat::Xls),
        ("Book", SourceFormat::Xls),
    ];
    let mut found: Vec<SourceFormat> = Vec::new();
    let mut file = std::fs::File::open(path)?;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let filled = read_full(&mut file, &mut chunk)?;
        for record in chunk[..filled].chunks_exact(128) {
            if let Some((_, format)) = STREAMS.iter().find(|(name, _)| is_stream_entry(record, name)) {
                found.push(*format);
            }
        }
        if filled < chunk.len() {
            break;
        }
    }
    Ok(STREAMS.iter().map(|(_, format)| *format).find(|format| found.contains(format)))
}

/// A directory entry for a stream called `name`: UTF-16LE name, its byte length (with the
/// terminator) at offset 64, object type 2 (stream) at offset 66.
fn is_stream_entry(record: &[u8], name: &str) -> bool {
    let units = name.encode_utf16().count();
    let declared = u16::from_le_bytes([record[64], record[65]]) as usize;
    declared == (units + 1) * 2
        && record[66] == 2
        && name
            .encode_utf16()
            .zip(record.chunks_exact(2))
            .all(|(unit, bytes)| unit == u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn looks_like_html(text: &[u8]) -> bool {
    let start = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
    let lower = text[start..text.len().min(start + 1024)].to_ascii_lowercase();
    lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || (lower.starts_with(b"<")
            && [&b"<html"[..], b"<body", b"<head"].iter().any(|tag| lower.windows(tag.len()).any(|w| w == *tag)))
}

/// UTF-8 without NUL or control characters other than tab, line breaks and form feed. A
/// character cut by the end of `text` is fine.
fn is_plain_text(text: &[u8]) -> bool {
    let valid = match std::str::from_utf8(text) {
        Ok(_) => text.len(),
        Err(error) if error.error_len().is_none() => error.valid_up_to(),
        Err(_) => return false,
    };
    text[..valid].iter().all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn detect_bytes(bytes: &[u8]) -> Result<SourceFormat, OfficeError> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        detect(file.path())
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn ole_with_stream(name: &str) -> Vec<u8> {
        let mut bytes = OLE_MAGIC.to_vec();
        bytes.resize(1024, 0);
        let mut record = [0u8; 128];
        for (i, unit) in name.encode_utf16().enumerate() {
            record[i * 2..i * 2 + 2].copy_from_slice(&unit.to_le_bytes());
        }
        record[64..66].copy_from_slice(&u16::try_from((name.encode_utf16().count() + 1) * 2).unwrap().to_le_bytes());
        record[66] = 2;
        bytes.extend_from_slice(&record);
        bytes
    }

    #[test]
    fn zip_documents_by_their_entries() {
        let odt = zip_of(&[("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<x/>")]);
        assert_eq!(detect_bytes(&odt).unwrap(), SourceFormat::Odt);
        let ots = zip_of(&[("mimetype", b"application/vnd.oasis.opendocument.spreadsheet-template")]);
        assert_eq!(detect_bytes(&ots).unwrap(), SourceFormat::Ods);
        let docx = zip_of(&[("[Content_Types].xml", b"<x/>"), ("word/document.xml", b"<x/>")]);
        assert_eq!(detect_bytes(&docx).unwrap(), SourceFormat::Docx);
        let pptx = zip_of(&[("ppt/presentation.xml", b"<x/>")]);
        assert_eq!(detect_bytes(&pptx).unwrap(), SourceFormat::Pptx);
        let epub = zip_of(&[("mimetype", b"application/epub+zip")]);
        assert_eq!(detect_bytes(&epub).unwrap_err().code(), scanpro_core::ErrorCode::UnsupportedFormat);
        let plain = zip_of(&[("photo.jpg", b"\xFF\xD8")]);
        assert_eq!(detect_bytes(&plain).unwrap_err().code(), scanpro_core::ErrorCode::UnsupportedFormat);
    }

    #[test]
    fn truncated_zip_is_judged_by_its_local_headers() {
        let docx = zip_of(&[("word/document.xml", &[b'x'; 4000][..]), ("word/styles.xml", b"<x/>")]);
        assert_eq!(detect_bytes(&docx[..docx.len() - 60]).unwrap(), SourceFormat::Docx);
    }

    #[test]
    fn ole_files_by_their_directory_entries() {
        assert_eq!(detect_bytes(&ole_with_stream("WordDocument")).unwrap(), SourceFormat::Doc);
        assert_eq!(detect_bytes(&ole_with_stream("Workbook")).unwrap(), SourceFormat::Xls);
        assert_eq!(detect_bytes(&ole_with_stream("PowerPoint Document")).unwrap(), SourceFormat::Ppt);
        assert_eq!(detect_bytes(&ole_with_stream("EncryptedPackage")).unwrap(), SourceFormat::EncryptedOoxml);
        assert!(detect_bytes(&ole_with_stream("__substg1.0_0037001F")).is_err(), "an Outlook message is no document");
    }

    #[test]
    fn text_formats_and_refusals() {
        assert_eq!(detect_bytes(b"{\\rtf1\\ansi hello}").unwrap(), SourceFormat::Rtf);
        assert_eq!(detect_bytes(b"\n  <!DOCTYPE html><p>x").unwrap(), SourceFormat::Html);
        assert_eq!(detect_bytes(b"<div><body>x</body></div>").unwrap(), SourceFormat::Html);
        assert_eq!(detect_bytes("Grüße\r\n\tline two\n".as_bytes()).unwrap(), SourceFormat::Txt);
        assert_eq!(detect_bytes(b"%PDF-1.7\n").unwrap(), SourceFormat::Pdf);
        for refused in
            [&b""[..], b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", b"\xFF\xD8\xFF\xE0", b"text\0with nul", b"\xC3\x28 invalid"]
        {
            let error = detect_bytes(refused).unwrap_err();
            assert_eq!(error.code(), scanpro_core::ErrorCode::UnsupportedFormat, "{refused:?}: {error}");
        }
    }
}
