//! Content sniffing: what a file is, from its first bytes, never from its name.
//!
//! A PDF may carry junk before `%PDF-` (mail gateways, MacBinary headers); readers accept the
//! header anywhere in the first 1024 bytes, so we do too. A file that *starts* with another
//! format's magic bytes is that format even if `%PDF-` appears soon after (an uncompressed zip of
//! PDFs has one within its first few hundred bytes).

/// How many leading bytes the sniffers look at; read at least this much of a file.
pub const SNIFF_LEN: usize = 8192;

/// Readers look for `%PDF-` this far into the file.
const PDF_HEADER_WINDOW: usize = 1024;

const PDF_MIME: &str = "application/pdf";
const PKCS12_MIME: &str = "application/x-pkcs12";
/// The DER of the `pkcs7-data` OID, which opens every PKCS#12 file's content.
const PKCS7_DATA_OID: &[u8] = &[0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01];

/// The MIME type of a file from its leading bytes; `application/octet-stream` when unknown.
pub fn content_type(head: &[u8]) -> &'static str {
    if head.starts_with(b"%PDF-") {
        return PDF_MIME;
    }
    if is_pkcs12(head) {
        return PKCS12_MIME;
    }
    match infer::get(head) {
        Some(kind) => kind.mime_type(),
        None if has_pdf_header(head) => PDF_MIME,
        None => "application/octet-stream",
    }
}

/// Whether the leading bytes are those of a PDF.
pub fn is_pdf(head: &[u8]) -> bool {
    content_type(head) == PDF_MIME
}

fn has_pdf_header(head: &[u8]) -> bool {
    head[..head.len().min(PDF_HEADER_WINDOW)].windows(5).any(|w| w == b"%PDF-")
}

/// A PKCS#12 (`.p12`, `.pfx`) file: a DER `SEQUENCE` holding version 3, then data content.
fn is_pkcs12(head: &[u8]) -> bool {
    let start = &head[..head.len().min(32)];
    start.first() == Some(&0x30)
        && start.windows(4).take(8).any(|w| w == [0x02, 0x01, 0x03, 0x30])
        && start.windows(PKCS7_DATA_OID.len()).any(|w| w == PKCS7_DATA_OID)
}

/// A phrase naming what a non-PDF file is, for error messages: "a PNG image (image/png)".
pub fn describe(head: &[u8]) -> String {
    if head.is_empty() {
        return "an empty file".into();
    }
    if let Some(kind) = infer::get(head) {
        let noun = match kind.matcher_type() {
            infer::MatcherType::Image => "image",
            infer::MatcherType::Video => "video",
            infer::MatcherType::Audio => "audio file",
            infer::MatcherType::Archive => "archive",
            infer::MatcherType::Doc => "document",
            infer::MatcherType::Book => "e-book",
            infer::MatcherType::Font => "font",
            infer::MatcherType::App => "program",
            infer::MatcherType::Text | infer::MatcherType::Custom => "file",
        };
        let name = kind.extension().to_ascii_uppercase();
        // Letters read aloud: "an MP4", "a PNG".
        let article =
            if name.starts_with(['A', 'E', 'I', 'O', 'F', 'H', 'L', 'M', 'N', 'R', 'S', 'X']) { "an" } else { "a" };
        return format!("{article} {name} {noun} ({})", kind.mime_type());
    }
    if is_pkcs12(head) {
        return "a PKCS#12 certificate file (application/x-pkcs12)".into();
    }
    if looks_like_text(head) {
        return "a plain text file".into();
    }
    "a file with no %PDF- header".into()
}

fn looks_like_text(head: &[u8]) -> bool {
    let sample = &head[..head.len().min(PDF_HEADER_WINDOW)];
    match std::str::from_utf8(sample) {
        Ok(text) => !text.chars().any(|c| c.is_control() && !c.is_whitespace()),
        // A multi-byte character cut at the end of the sample is still text.
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > sample.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn pdf_header_anywhere_in_the_first_kilobyte() {
        assert!(is_pdf(b"%PDF-1.7\n"));
        let mut junk = vec![b' '; 1000];
        junk.extend_from_slice(b"%PDF-1.4");
        assert!(is_pdf(&junk));
        let mut far = vec![b' '; 1100];
        far.extend_from_slice(b"%PDF-1.4");
        assert!(!is_pdf(&far));
    }

    #[test]
    fn other_magic_at_the_start_wins() {
        let mut zip = b"PK\x03\x04\x14\0\0\0\0\0".to_vec();
        zip.extend_from_slice(b"a.pdf%PDF-1.4");
        assert_eq!(content_type(&zip), "application/zip");
        assert_eq!(content_type(PNG), "image/png");
        assert_eq!(content_type(b"\x00\x01\x02"), "application/octet-stream");
    }

    #[test]
    fn descriptions_name_the_kind() {
        assert_eq!(describe(PNG), "a PNG image (image/png)");
        assert_eq!(describe(b"hello world\n"), "a plain text file");
        assert_eq!(describe(b""), "an empty file");
        assert_eq!(describe(b"\x00\x01\x02\x03"), "a file with no %PDF- header");
    }
}
