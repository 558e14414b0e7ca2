//! Documents that try to pull a file of the server into their conversion, in every way the
//! formats allow: HTML and Markdown attributes and CSS, ODF links and style backgrounds, OOXML
//! external relationships and fields, and a legacy `.doc` whose link no scanner reads.

use std::io::Write;
use std::path::{Path, PathBuf};

/// One document and how it was made to reach `target`.
pub struct Hostile {
    pub name: String,
    pub path: PathBuf,
    /// The tool that converts it.
    pub tool: &'static str,
}

/// Writes every hostile document aimed at `image` (a PNG on the server) and `text` (a text file
/// on the server) into `dir`.
pub fn documents(dir: &Path, image: &Path, text: &Path) -> Vec<Hostile> {
    let image = image.display().to_string();
    let text = text.display().to_string();
    let mut made = Vec::new();
    let mut add = |name: &str, tool: &'static str, bytes: Vec<u8>| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        made.push(Hostile { name: name.to_owned(), path, tool });
    };
    let html_ways = [
        format!("<body background=\"{image}\"><p>background</p></body>"),
        format!("<p><img src=\"file://{image}\"></p>"),
        format!("<p><img src=\"{image}\"></p>"),
        format!("<p><img src=\"f&#105;le://{image}\"></p>"),
        format!("<div style=\"background-image: url('{image}')\">css</div>"),
        format!("<p><img srcset=\"x.png 1x, {image} 2x\"></p>"),
        format!("<p><object data=\"{text}\"></object><iframe src=\"{text}\"></iframe><embed src=\"{text}\"></p>"),
        format!("<p><img src=\"../../../../../../..{image}\"></p>"),
        format!("<link rel=stylesheet href=\"file://{text}\"><p>style</p>"),
    ];
    for (index, body) in html_ways.iter().enumerate() {
        add(&format!("way{index}.html"), "html_to_pdf", format!("<!DOCTYPE html><html>{body}</html>").into_bytes());
    }
    add("image.md", "markdown_to_pdf", format!("# Report\n\n![logo]({image})\n").into_bytes());
    add("raw.md", "markdown_to_pdf", format!("# Report\n\n<img src=\"file://{image}\">\n").into_bytes());
    add("linked.odt", "office_to_pdf", odt(&image));
    add("linked.docx", "office_to_pdf", docx(&image, &text));
    add("linked.xlsx", "office_to_pdf", xlsx(&image));
    made
}

/// An ODT whose paragraph style has `image` as background and whose frame links it.
pub fn odt(image: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.2">
<office:automatic-styles><style:style style:name="P1" style:family="paragraph"><style:paragraph-properties><style:background-image xlink:href="{image}" xlink:type="simple" xlink:actuate="onLoad"/></style:paragraph-properties></style:style></office:automatic-styles>
<office:body><office:text><text:p text:style-name="P1">Linked picture below</text:p><text:p><draw:frame draw:name="img1" text:anchor-type="paragraph" svg:width="4cm" svg:height="4cm"><draw:image xlink:href="file://{image}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p></office:text></office:body></office:document-content>"#
    );
    package(&[
        ("mimetype", "application/vnd.oasis.opendocument.text".into()),
        (
            "META-INF/manifest.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#.into(),
        ),
        ("content.xml", content),
    ])
}

/// A DOCX with an externally linked picture of `image` and an `INCLUDETEXT` field of `text`.
pub fn docx(image: &str, text: &str) -> Vec<u8> {
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><w:body>
<w:p><w:r><w:t>Linked picture below</w:t></w:r></w:p>
<w:p><w:r><w:drawing><wp:inline><wp:extent cx="1440000" cy="1440000"/><wp:docPr id="1" name="Picture 1"/><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="1" name="linked"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:link="rIdImage"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1440000" cy="1440000"/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>
<w:p><w:fldSimple w:instr=" INCLUDETEXT &quot;{text}&quot; "><w:r><w:t>included</w:t></w:r></w:fldSimple></w:p>
</w:body></w:document>"#
    );
    package(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.into(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#.into(),
        ),
        (
            "word/_rels/document.xml.rels",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdImage" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="file://{image}" TargetMode="External"/></Relationships>"#
            ),
        ),
        ("word/document.xml", document),
    ])
}

/// An XLSX whose drawing links `image` from outside the package.
pub fn xlsx(image: &str) -> Vec<u8> {
    let rel = |id: &str, kind: &str, target: &str| {
        format!(
            r#"<Relationship Id="{id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}" Target="{target}"/>"#
        )
    };
    let rels = |inner: String| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{inner}</Relationships>"#
        )
    };
    package(&[
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/drawings/drawing1.xml" ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/></Types>"#.into(),
        ),
        ("_rels/.rels", rels(rel("rId1", "officeDocument", "xl/workbook.xml"))),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into(),
        ),
        ("xl/_rels/workbook.xml.rels", rels(rel("rId1", "worksheet", "worksheets/sheet1.xml"))),
        (
            "xl/worksheets/sheet1.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Linked picture</t></is></c></row></sheetData><drawing r:id="rId1"/></worksheet>"#.into(),
        ),
        ("xl/worksheets/_rels/sheet1.xml.rels", rels(rel("rId1", "drawing", "../drawings/drawing1.xml"))),
        (
            "xl/drawings/drawing1.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><xdr:oneCellAnchor><xdr:from><xdr:col>1</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="1440000" cy="1440000"/><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="linked"/><xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill><a:blip r:link="rId1"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr><a:prstGeom prst="rect"/></xdr:spPr></xdr:pic><xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>"#.into(),
        ),
        (
            "xl/drawings/_rels/drawing1.xml.rels",
            rels(format!(
                r#"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="file://{image}" TargetMode="External"/>"#
            )),
        ),
    ])
}

/// A zip package of `parts`, the first stored (ODF wants its `mimetype` so).
fn package(parts: &[(&str, String)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (index, (name, content)) in parts.iter().enumerate() {
        let method = if index == 0 { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        zip.start_file(*name, zip::write::SimpleFileOptions::default().compression_method(method)).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}
