//! Documents that name local files are refused before LibreOffice sees them.
//!
//! LibreOffice follows a document's links to local files when it lays the document out: an HTML
//! `<img src="/etc/…">` or `<body background="file:…">`, an ODF `xlink:href`, an OOXML
//! relationship with `TargetMode="External"`, a Word `INCLUDEPICTURE` field. The sandbox already
//! keeps every file but the document out of its reach; this check says so to the user, with the
//! reference, instead of converting a document whose images quietly went missing.
//!
//! A reference is local when it is a `file:` URL, an absolute or UNC path, a Windows drive path,
//! or a relative path that climbs out of the document (`..`). Web URLs are left alone (they are
//! never fetched either), and so are references inside a package (`Pictures/1.png`, `media/…`).

use super::OfficeError;
use super::detect::SourceFormat;
use regex::Regex;
use std::io::Read;
use std::path::Path;
use std::sync::LazyLock;

/// How much of one part or file is read for references.
const SCAN_LIMIT: u64 = 64 * 1024 * 1024;

/// Refuses `input` when it references a local file (see the module documentation).
pub(crate) fn refuse_local_references(input: &Path, format: SourceFormat) -> Result<(), OfficeError> {
    let found = match format {
        SourceFormat::Docx | SourceFormat::Xlsx | SourceFormat::Pptx => scan_package(input, ooxml_part)?,
        SourceFormat::Odt | SourceFormat::Ods | SourceFormat::Odp | SourceFormat::Odg => scan_package(input, odf_part)?,
        SourceFormat::Html => html(&read_text(input)?),
        SourceFormat::Rtf => rtf_fields(&read_text(input)?),
        _ => None,
    };
    match found {
        Some(reference) => Err(OfficeError::LocalReference(reference)),
        None => Ok(()),
    }
}

fn read_text(path: &Path) -> Result<String, OfficeError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(SCAN_LIMIT).read_to_end(&mut bytes)?;
    Ok(decode(&bytes))
}

/// Text in the encodings XML and HTML parsers accept: UTF-16 with its byte-order mark, else
/// UTF-8 (invalid bytes replaced).
fn decode(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest.chunks_exact(2).map(|pair| from([pair[0], pair[1]])).collect();
        String::from_utf16_lossy(&units)
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Runs `part` over every XML part of a zip package.
fn scan_package(input: &Path, part: fn(&str, &str) -> Option<String>) -> Result<Option<String>, OfficeError> {
    let file = std::fs::File::open(input)?;
    // A package zip cannot open is LibreOffice's to judge; it has nothing to follow either.
    let Ok(mut archive) = zip::ZipArchive::new(file) else { return Ok(None) };
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index(index) else { continue };
        let Ok(name) = entry.name().map(|name| name.into_owned()) else { continue };
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        // A damaged entry (a bad checksum shows only at its end) is scanned as far as it reads:
        // LibreOffice may read it just as far.
        let mut bytes = Vec::new();
        let _ = entry.take(SCAN_LIMIT).read_to_end(&mut bytes);
        if let Some(found) = part(&name, &decode(&bytes)) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// OOXML: external relationships of the kinds LibreOffice loads (pictures, media, embedded
/// objects, sub-documents, frames), and field instructions that include files. Hyperlinks and
/// links to other workbooks are left alone: they are never followed, cached values stand in.
fn ooxml_part(name: &str, xml: &str) -> Option<String> {
    static RELATIONSHIP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)<Relationship\b[^>]*>").unwrap());
    static TARGET: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"(?is)\bTarget\s*=\s*["']([^"']*)["']"#).unwrap());
    static LOADED_TYPE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?is)\bType\s*=\s*["'][^"']*/(?:image|oleObject|package|subDocument|frame|video|audio|media)["']"#,
        )
        .unwrap()
    });
    if name.ends_with(".rels") {
        for relationship in RELATIONSHIP.find_iter(xml) {
            let relationship = relationship.as_str();
            if !relationship.to_ascii_lowercase().contains("external") || !LOADED_TYPE.is_match(relationship) {
                continue;
            }
            if let Some(target) = TARGET.captures(relationship).map(|c| unescape(&c[1]))
                && is_local(&target)
            {
                return Some(target);
            }
        }
        return None;
    }
    static INSTRUCTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?is)<w:instrText\b[^>]*>(.*?)</w:instrText>|\bw:instr\s*=\s*"([^"]*)""#).unwrap()
    });
    let instructions: String = INSTRUCTION
        .captures_iter(xml)
        .filter_map(|c| c.get(1).or(c.get(2)))
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    fields(&unescape(&instructions))
}

/// RTF: the instructions of `{\*\fldinst …}` groups.
fn rtf_fields(text: &str) -> Option<String> {
    static INSTRUCTION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)\\fldinst\b([^}]*)").unwrap());
    let instructions: Vec<&str> =
        INSTRUCTION.captures_iter(text).filter_map(|c| c.get(1)).map(|m| m.as_str()).collect();
    fields(&instructions.join(" "))
}

/// ODF: the `xlink:href` of what LibreOffice loads: images, fills and backgrounds, embedded
/// objects and plugins, linked sections, frames, fonts. Hyperlinks (`text:a`) and linked sheets
/// (never updated) are left alone.
fn odf_part(_name: &str, xml: &str) -> Option<String> {
    static LOADED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?is)<(?:draw:image|style:background-image|draw:fill-image|draw:object|draw:object-ole|draw:plugin|draw:floating-frame|draw:applet|text:section-source|svg:font-face-uri|style:font-face-uri)\b[^>]*?\bxlink:href\s*=\s*["']([^"']*)["']"#,
        )
        .unwrap()
    });
    LOADED.captures_iter(xml).map(|c| unescape(&c[1])).find(|target| is_local(target))
}

/// In field instructions, the ones that read other files: `INCLUDEPICTURE`, `INCLUDETEXT`, `LINK`, `DDE`.
fn fields(text: &str) -> Option<String> {
    static FIELD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?i)\b(?:INCLUDEPICTURE|INCLUDETEXT|LINK|DDEAUTO|DDE)\s+(?:\\[a-z*]\s+)*(?:"([^"]*)"|(\S+))"#)
            .unwrap()
    });
    FIELD.captures_iter(text).filter_map(|c| c.get(1).or(c.get(2)).map(|m| m.as_str().to_owned())).find(|t| {
        let target = t.replace("\\\\", "\\");
        is_local(&target) || !(target.starts_with("http://") || target.starts_with("https://"))
    })
}

/// HTML: every attribute that loads something, and CSS `url()` / `@import`.
fn html(text: &str) -> Option<String> {
    static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?is)\b(?:src|background|poster|data|srcset|codebase|archive|lowsrc|dynsrc|xlink:href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"#,
        )
        .unwrap()
    });
    static LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?is)<link\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"#).unwrap());
    static CSS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?is)(?:url\s*\(\s*["']?([^"')]*)|@import\s+["']([^"']*))"#).unwrap());
    let text = unescape(text);
    let attribute = ATTRIBUTE
        .captures_iter(&text)
        .chain(LINK.captures_iter(&text))
        .filter_map(|c| c.get(1).or(c.get(2)).or(c.get(3)));
    let css = CSS.captures_iter(&text).filter_map(|c| c.get(1).or(c.get(2)));
    attribute
        .chain(css)
        .flat_map(|m| {
            m.as_str().split(',').map(|candidate| candidate.split_whitespace().next().unwrap_or("").to_owned())
        })
        .find(|target| is_local(target))
}

/// Whether `target` names a file outside the document.
fn is_local(target: &str) -> bool {
    let target: String = target.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    let lower = target.to_ascii_lowercase();
    let drive = lower.as_bytes();
    lower.starts_with("file:")
        || lower.starts_with('/')
        || lower.starts_with('\\')
        || lower.starts_with("vnd.sun.star.")
        || (drive.len() >= 2
            && drive[0].is_ascii_alphabetic()
            && drive[1] == b':'
            && !lower.contains("://")
            && !lower.starts_with("data:")
            && !lower.starts_with("mailto:")
            && !lower.starts_with("javascript:")
            && !lower.starts_with("tel:"))
        || lower.split(['/', '\\']).any(|segment| segment == ".." || segment == "%2e%2e")
}

/// Decodes the XML/HTML character references and percent escapes a reference may hide behind.
fn unescape(text: &str) -> String {
    static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)&#(x[0-9a-f]+|[0-9]+);?|&(amp|colon|sol|bsol|period|lt|gt|quot|apos);").unwrap()
    });
    let decoded = REFERENCE.replace_all(text, |c: &regex::Captures| {
        if let Some(number) = c.get(1) {
            let number = number.as_str();
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => number.parse().ok(),
            };
            return code.and_then(char::from_u32).map(String::from).unwrap_or_default();
        }
        match c[2].to_ascii_lowercase().as_str() {
            "amp" => "&",
            "colon" => ":",
            "sol" => "/",
            "bsol" => "\\",
            "period" => ".",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            _ => "'",
        }
        .to_owned()
    });
    percent_decode(&decoded)
}

/// `%20` and friends decoded (lossily where the bytes are not UTF-8).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_targets_in_every_spelling() {
        for local in [
            "file:///etc/passwd",
            "FILE:/etc/passwd",
            "/usr/share/pixmaps/debian-logo.png",
            "\\\\server\\share\\x.png",
            "C:\\Windows\\win.ini",
            "../../data/blobs/ab/cd",
            "img/../../../etc/passwd",
            "vnd.sun.star.expand:$BRAND_BASE_DIR/x",
        ] {
            assert!(is_local(local), "{local}");
        }
        for remote in [
            "https://example.com/a.png",
            "Pictures/1.png",
            "media/image1.png",
            "data:image/png;base64,AA",
            "#top",
            "mailto:a@b.c",
        ] {
            assert!(!is_local(remote), "{remote}");
        }
    }

    #[test]
    fn html_references_through_entities_and_css() {
        assert!(html(r#"<body background="/usr/share/pixmaps/debian-logo.png">"#).is_some());
        assert!(html(r#"<img src="f&#105;le:///etc/passwd">"#).is_some());
        assert!(html(r#"<img src=&#x2f;etc&#x2f;hostname>"#).is_some());
        assert!(html(r#"<div style="background: url( '/etc/x.png' )">"#).is_some());
        assert!(html(r#"<style>@import "/etc/x.css";</style>"#).is_some());
        assert!(html(r#"<img srcset="a.png 1x, /etc/b.png 2x">"#).is_some());
        assert!(html(r#"<img src="%2Fetc%2Fpasswd">"#).is_some());
        assert_eq!(html(r##"<a href="https://example.com/">x</a><img src="logo.png"><a href="#top">t</a>"##), None);
        assert_eq!(html(r#"<a href="/about">links are never followed</a>"#), None);
        assert!(html(r#"<link rel="stylesheet" href="file:///etc/site.css">"#).is_some());
    }

    #[test]
    fn package_references() {
        let rels = r#"<Relationships><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="file:///etc/x.png" TargetMode="External"/><Relationship Id="rId1" Target="media/image1.png"/></Relationships>"#;
        assert_eq!(ooxml_part("word/_rels/document.xml.rels", rels).as_deref(), Some("file:///etc/x.png"));
        let workbook = r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" Target="/Projects/Summary.xlsx" TargetMode="External"/>"#;
        assert_eq!(
            ooxml_part("xl/externalLinks/_rels/externalLink1.xml.rels", workbook),
            None,
            "cached values stand in"
        );
        let hyperlink = r#"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="file:///C:/x.pdf" TargetMode="External"/>"#;
        assert_eq!(ooxml_part("word/_rels/document.xml.rels", hyperlink), None, "hyperlinks are not followed");
        let internal = r#"<Relationship Id="rId1" Target="../media/image1.png"/>"#;
        assert_eq!(ooxml_part("word/_rels/document.xml.rels", internal), None, "internal targets are the package's");
        let field = r#"<w:instrText> INCLUDEPICTURE "C:\\secret.png" \d </w:instrText>"#;
        assert!(ooxml_part("word/document.xml", field).is_some());
        let odf = r#"<style:background-image xlink:href="/usr/share/pixmaps/debian-logo.png" xlink:type="simple"/>"#;
        assert!(odf_part("styles.xml", odf).is_some());
        assert_eq!(odf_part("content.xml", r#"<draw:image xlink:href="Pictures/1.png"/>"#), None);
        assert_eq!(odf_part("content.xml", r#"<text:a xlink:href="/home/a/notes.odt">a link</text:a>"#), None);
        let prose = r#"<w:t>Follow the LINK below or INCLUDEPICTURE docs</w:t>"#;
        assert_eq!(ooxml_part("word/document.xml", prose), None, "text outside field instructions is prose");
        let simple = r#"<w:fldSimple w:instr=" INCLUDETEXT &quot;/etc/passwd&quot; "/>"#;
        assert!(ooxml_part("word/document.xml", simple).is_some());
        assert!(rtf_fields(r#"{\field{\*\fldinst INCLUDEPICTURE "/etc/x.png" \d}}"#).is_some());
        assert_eq!(rtf_fields(r#"{\rtf1 a LINK to nowhere}"#), None);
    }

    #[test]
    fn utf16_parts_are_read_as_text() {
        let xml = r#"<style:background-image xlink:href="/etc/x.png"/>"#;
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        assert!(odf_part("styles.xml", &decode(&bytes)).is_some());
    }
}
