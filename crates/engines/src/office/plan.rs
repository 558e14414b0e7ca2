//! What a conversion asks of LibreOffice: the target, the options, and the import filter, export
//! filter and filter data they become for each kind of document. Every option either has a
//! visible effect on the output or is refused with the option named.

use super::OfficeError;
use super::detect::{DocumentKind, SourceFormat};
use scanpro_core::pages::PageSelection;
use serde::Serialize;
use std::collections::BTreeMap;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetFormat {
    Pdf,
    Docx,
    Doc,
    Odt,
    Rtf,
    /// UTF-8 text of a text document.
    Txt,
    Xlsx,
    Xls,
    Ods,
    /// The first sheet of a spreadsheet, comma-separated, UTF-8.
    Csv,
    Pptx,
    Ppt,
    Odp,
    Odg,
}

impl TargetFormat {
    pub const ALL: [Self; 14] = [
        Self::Pdf,
        Self::Docx,
        Self::Doc,
        Self::Odt,
        Self::Rtf,
        Self::Txt,
        Self::Xlsx,
        Self::Xls,
        Self::Ods,
        Self::Csv,
        Self::Pptx,
        Self::Ppt,
        Self::Odp,
        Self::Odg,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Doc => "doc",
            Self::Odt => "odt",
            Self::Rtf => "rtf",
            Self::Txt => "txt",
            Self::Xlsx => "xlsx",
            Self::Xls => "xls",
            Self::Ods => "ods",
            Self::Csv => "csv",
            Self::Pptx => "pptx",
            Self::Ppt => "ppt",
            Self::Odp => "odp",
            Self::Odg => "odg",
        }
    }
}

impl std::str::FromStr for TargetFormat {
    type Err = OfficeError;
    fn from_str(name: &str) -> Result<Self, OfficeError> {
        let name = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|target| target.extension() == name).ok_or_else(|| {
            let known: Vec<_> = Self::ALL.iter().map(|t| t.extension()).collect();
            OfficeError::invalid("to", format!("unknown format \"{name}\"; one of {}", known.join(", ")))
        })
    }
}

impl std::fmt::Display for TargetFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

/// PDF/A conformance of a PDF export (LibreOffice's `SelectPdfVersion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdfaLevel {
    /// PDF/A-1b (PDF 1.4 base).
    A1b,
    /// PDF/A-2b (PDF 1.7 base, transparency allowed).
    A2b,
    /// PDF/A-3b (PDF/A-2b plus embedded files).
    A3b,
}

impl PdfaLevel {
    fn select_pdf_version(self) -> i32 {
        match self {
            Self::A1b => 1,
            Self::A2b => 2,
            Self::A3b => 3,
        }
    }
}

/// Options of a conversion; the defaults are a plain conversion.
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// PDF output only: the pages to export, in the one page-selection syntax, resolved against
    /// the laid-out document. The export keeps document order, so the selection must be
    /// ascending.
    pub pages: Option<PageSelection>,
    /// PDF output only: write PDF/A at this level instead of plain PDF.
    pub pdfa: Option<PdfaLevel>,
    /// PDF output only: whether the document's outline (headings of a text document, slide titles
    /// of a presentation) becomes PDF bookmarks (`ExportBookmarks`). `None` keeps LibreOffice's
    /// default, which is on.
    pub export_bookmarks: Option<bool>,
    /// PDF output only: comments in the document become PDF text annotations (`ExportNotes`).
    pub export_notes: bool,
    /// PDF output only: an accessible PDF/UA-1 document, tagged, with its title and language
    /// (`PDFUACompliance`).
    pub pdfua: bool,
    /// Spreadsheets to PDF only: every sheet on one page sized to fit the whole sheet
    /// (`SinglePageSheets`), so the PDF has one page per sheet.
    pub single_page_sheets: bool,
    /// Text documents and spreadsheets only: every page style in portrait is turned to landscape
    /// (width and height swapped) before the export.
    pub landscape: bool,
    /// PDF output only: further settings of LibreOffice's PDF export under its own `FilterData`
    /// names (`Quality`, `Watermark`, `InitialView`, …), for the tool that offers them.
    pub pdf_export: Vec<(&'static str, FilterValue)>,
    /// The password that opens an encrypted document.
    pub password: Option<String>,
    /// Text documents: tables of contents and other indexes are brought up to date (page
    /// numbers included) before the export.
    pub update_indexes: bool,
}

/// One conversion: the target format and its options.
#[derive(Debug, Clone)]
pub struct ConvertRequest {
    pub to: TargetFormat,
    pub options: ConvertOptions,
}

impl ConvertRequest {
    pub fn new(to: TargetFormat) -> Self {
        Self { to, options: ConvertOptions::default() }
    }
}

/// A value in an export filter's `FilterData`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FilterValue {
    Bool(bool),
    Int(i32),
    Text(String),
}

impl FilterValue {
    /// The typed form `soffice --convert-to 'ext:filter:{…}'` reads.
    pub(crate) fn typed_json(&self) -> serde_json::Value {
        let (kind, value) = match self {
            Self::Bool(b) => ("boolean", b.to_string()),
            Self::Int(n) => ("long", n.to_string()),
            Self::Text(s) => ("string", s.clone()),
        };
        serde_json::json!({ "type": kind, "value": value })
    }
}

/// The import side: a filter forced instead of LibreOffice's type detection.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Import {
    pub filter: &'static str,
    pub options: Option<&'static str>,
}

/// How a document of one kind is exported.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Export {
    pub filter: &'static str,
    pub options: Option<&'static str>,
    pub filter_data: BTreeMap<&'static str, FilterValue>,
    pub landscape: bool,
    /// PDF export lays the document out, which needs a (hidden) view.
    pub needs_view: bool,
    /// Comments are wanted in the output (they are otherwise dropped before a view exists).
    pub keep_comments: bool,
}

/// Everything a conversion needs, decided before LibreOffice runs.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub source: SourceFormat,
    pub target: TargetFormat,
    pub import: Option<Import>,
    /// One entry per kind the document may open in and the request fits.
    pub exports: BTreeMap<DocumentKind, Export>,
    pub pages: Option<PageSelection>,
    request: ConvertRequest,
}

impl Plan {
    pub fn new(source: SourceFormat, request: &ConvertRequest) -> Result<Self, OfficeError> {
        let (import, kinds): (Option<Import>, &[DocumentKind]) = match source {
            SourceFormat::Pdf => pdf_import(request.to)?,
            SourceFormat::Txt => (Some(Import { filter: "Text (encoded)", options: Some("UTF8") }), source.kinds()),
            SourceFormat::Html => (Some(Import { filter: "HTML (StarWriter)", options: None }), source.kinds()),
            _ => (None, source.kinds()),
        };
        let mut exports = BTreeMap::new();
        let mut first_error = None;
        for &kind in kinds {
            match export_for(kind, source, request) {
                Ok(export) => {
                    exports.insert(kind, export);
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        if exports.is_empty() {
            return Err(first_error.expect("every source format has a kind"));
        }
        Ok(Self {
            source,
            target: request.to,
            import,
            exports,
            pages: request.options.pages.clone(),
            request: request.clone(),
        })
    }

    /// Why the request does not fit a document that opened as `kind`.
    pub fn misfit(&self, kind: DocumentKind) -> OfficeError {
        export_for(kind, self.source, &self.request).err().unwrap_or_else(|| {
            OfficeError::Failed(format!(
                "the document opened as a {} document, which this conversion did not plan for",
                kind.as_str()
            ))
        })
    }

    /// The conversion's options.
    pub fn options(&self) -> &ConvertOptions {
        &self.request.options
    }

    /// The kinds to try, most likely first.
    pub fn kinds(&self) -> impl Iterator<Item = DocumentKind> + '_ {
        let order = match self.source {
            SourceFormat::Pdf => &[DocumentKind::Text, DocumentKind::Presentation, DocumentKind::Drawing][..],
            source => source.kinds(),
        };
        order.iter().copied().filter(|kind| self.exports.contains_key(kind))
    }
}

fn pdf_import(to: TargetFormat) -> Result<(Option<Import>, &'static [DocumentKind]), OfficeError> {
    use TargetFormat::*;
    let (filter, kinds): (&str, &[DocumentKind]) = match to {
        Docx | Doc | Odt => ("writer_pdf_import", &[DocumentKind::Text]),
        Pptx | Ppt | Odp => ("impress_pdf_import", &[DocumentKind::Presentation]),
        Odg => ("draw_pdf_import", &[DocumentKind::Drawing]),
        Pdf => return Err(OfficeError::invalid("to", "the input is already a PDF")),
        Xlsx | Xls | Ods | Csv => {
            return Err(OfficeError::invalid(
                "to",
                "LibreOffice cannot import a PDF into a spreadsheet; convert it to docx, odt or pptx",
            ));
        }
        Txt | Rtf => {
            return Err(OfficeError::invalid(
                "to",
                "a PDF imports as positioned shapes, not running text; extract its text with pdf_to_text",
            ));
        }
    };
    Ok((Some(Import { filter, options: None }), kinds))
}

fn export_filter(kind: DocumentKind, to: TargetFormat) -> Option<(&'static str, Option<&'static str>)> {
    use DocumentKind::*;
    use TargetFormat::*;
    Some(match (kind, to) {
        (Text, Pdf) => ("writer_pdf_Export", None),
        (Text, Docx) => ("MS Word 2007 XML", None),
        (Text, Doc) => ("MS Word 97", None),
        (Text, Odt) => ("writer8", None),
        (Text, Rtf) => ("Rich Text Format", None),
        (Text, Txt) => ("Text (encoded)", Some("UTF8")),
        (Spreadsheet, Pdf) => ("calc_pdf_Export", None),
        (Spreadsheet, Xlsx) => ("Calc MS Excel 2007 XML", None),
        (Spreadsheet, Xls) => ("MS Excel 97", None),
        (Spreadsheet, Ods) => ("calc8", None),
        // Field separator 44 (comma), text delimiter 34 (double quote), charset 76 (UTF-8).
        (Spreadsheet, Csv) => ("Text - txt - csv (StarCalc)", Some("44,34,76,1")),
        (Presentation, Pdf) => ("impress_pdf_Export", None),
        (Presentation, Pptx) => ("Impress MS PowerPoint 2007 XML", None),
        (Presentation, Ppt) => ("MS PowerPoint 97", None),
        (Presentation, Odp) => ("impress8", None),
        (Drawing, Pdf) => ("draw_pdf_Export", None),
        (Drawing, Odg) => ("draw8", None),
        _ => return None,
    })
}

fn export_for(kind: DocumentKind, source: SourceFormat, request: &ConvertRequest) -> Result<Export, OfficeError> {
    let options = &request.options;
    let to = request.to;
    let (filter, filter_options) = export_filter(kind, to).ok_or_else(|| {
        OfficeError::invalid("to", format!("a {} document cannot be converted to {to}", kind.as_str()))
    })?;
    let pdf = to == TargetFormat::Pdf;
    let pdf_only = [
        ("pages", options.pages.is_some()),
        ("pdfa", options.pdfa.is_some()),
        ("export_bookmarks", options.export_bookmarks.is_some()),
        ("export_notes", options.export_notes),
        ("single_page_sheets", options.single_page_sheets),
        ("pdf export options", !options.pdf_export.is_empty()),
    ];
    if let Some((field, _)) = pdf_only.iter().find(|(_, set)| *set && !pdf) {
        return Err(OfficeError::invalid(field, format!("applies to PDF output only, not {to}")));
    }
    if options.single_page_sheets && kind != DocumentKind::Spreadsheet {
        return Err(OfficeError::invalid(
            "single_page_sheets",
            format!("applies to spreadsheets only; this is a {} document", kind.as_str()),
        ));
    }
    if options.landscape && source == SourceFormat::Pdf {
        return Err(OfficeError::invalid("landscape", "does not apply to a PDF input, whose pages keep their size"));
    }
    if options.landscape && !matches!(kind, DocumentKind::Text | DocumentKind::Spreadsheet) {
        return Err(OfficeError::invalid(
            "landscape",
            format!("applies to text documents and spreadsheets; a {} keeps its page size", kind.as_str()),
        ));
    }
    let mut filter_data = BTreeMap::new();
    if let Some(level) = options.pdfa {
        filter_data.insert("SelectPdfVersion", FilterValue::Int(level.select_pdf_version()));
    }
    if let Some(bookmarks) = options.export_bookmarks {
        filter_data.insert("ExportBookmarks", FilterValue::Bool(bookmarks));
    }
    if options.export_notes {
        filter_data.insert("ExportNotes", FilterValue::Bool(true));
    }
    if options.pdfua {
        filter_data.insert("PDFUACompliance", FilterValue::Bool(true));
    }
    if options.single_page_sheets {
        filter_data.insert("SinglePageSheets", FilterValue::Bool(true));
    }
    filter_data.extend(options.pdf_export.iter().cloned());
    Ok(Export {
        filter,
        options: filter_options,
        filter_data,
        landscape: options.landscape,
        needs_view: pdf,
        keep_comments: options.export_notes,
    })
}

/// LibreOffice's `PageRange` for `selection` in a document of `page_count` pages; `None` when
/// every page is selected.
pub(crate) fn page_range(selection: &PageSelection, page_count: u32) -> Result<Option<String>, OfficeError> {
    let pages = selection.resolve(page_count).map_err(|error| OfficeError::invalid("pages", error.to_string()))?;
    if pages.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(OfficeError::invalid(
            "pages",
            format!(
                "\"{selection}\": a PDF export keeps the document's page order; list the pages in ascending order and reorder afterwards"
            ),
        ));
    }
    if pages.len() == page_count as usize {
        return Ok(None);
    }
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for page in pages {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == page => *end = page,
            _ => runs.push((page, page)),
        }
    }
    let text: Vec<String> =
        runs.iter().map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }).collect();
    Ok(Some(text.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use scanpro_core::ErrorCode;

    fn request(to: TargetFormat, options: ConvertOptions) -> ConvertRequest {
        ConvertRequest { to, options }
    }

    fn field_of(error: OfficeError) -> &'static str {
        match error {
            OfficeError::InvalidParams { field, .. } => field,
            other => panic!("expected invalid_params, got {other}"),
        }
    }

    #[test]
    fn pdf_options_become_filter_data() {
        let options = ConvertOptions {
            pdfa: Some(PdfaLevel::A2b),
            export_bookmarks: Some(false),
            export_notes: true,
            single_page_sheets: true,
            ..Default::default()
        };
        let plan = Plan::new(SourceFormat::Xlsx, &request(TargetFormat::Pdf, options)).unwrap();
        let export = &plan.exports[&DocumentKind::Spreadsheet];
        assert_eq!(export.filter, "calc_pdf_Export");
        assert_eq!(export.filter_data["SelectPdfVersion"], FilterValue::Int(2));
        assert_eq!(export.filter_data["ExportBookmarks"], FilterValue::Bool(false));
        assert_eq!(export.filter_data["ExportNotes"], FilterValue::Bool(true));
        assert_eq!(export.filter_data["SinglePageSheets"], FilterValue::Bool(true));
        assert!(export.needs_view && export.keep_comments);
    }

    #[test]
    fn options_that_do_not_fit_are_refused_by_name() {
        let sheets = ConvertOptions { single_page_sheets: true, ..Default::default() };
        assert_eq!(
            field_of(Plan::new(SourceFormat::Docx, &request(TargetFormat::Pdf, sheets)).unwrap_err()),
            "single_page_sheets"
        );
        let pdfa = ConvertOptions { pdfa: Some(PdfaLevel::A1b), ..Default::default() };
        assert_eq!(field_of(Plan::new(SourceFormat::Docx, &request(TargetFormat::Odt, pdfa)).unwrap_err()), "pdfa");
        let landscape = ConvertOptions { landscape: true, ..Default::default() };
        assert_eq!(
            field_of(Plan::new(SourceFormat::Pptx, &request(TargetFormat::Pdf, landscape.clone())).unwrap_err()),
            "landscape"
        );
        assert_eq!(
            field_of(Plan::new(SourceFormat::Pdf, &request(TargetFormat::Docx, landscape)).unwrap_err()),
            "landscape"
        );
        assert_eq!(
            field_of(Plan::new(SourceFormat::Docx, &request(TargetFormat::Xlsx, Default::default())).unwrap_err()),
            "to"
        );
        assert_eq!(
            field_of(Plan::new(SourceFormat::Pdf, &request(TargetFormat::Xlsx, Default::default())).unwrap_err()),
            "to"
        );
        assert_eq!(
            field_of(Plan::new(SourceFormat::Pdf, &request(TargetFormat::Pdf, Default::default())).unwrap_err()),
            "to"
        );
    }

    #[test]
    fn uncertain_kinds_keep_every_fitting_export() {
        let plan = Plan::new(SourceFormat::Doc, &request(TargetFormat::Pdf, Default::default())).unwrap();
        assert_eq!(
            plan.kinds().collect::<Vec<_>>(),
            [DocumentKind::Text, DocumentKind::Spreadsheet, DocumentKind::Presentation]
        );
        let sheets = ConvertOptions { single_page_sheets: true, ..Default::default() };
        let plan = Plan::new(SourceFormat::Xls, &request(TargetFormat::Pdf, sheets)).unwrap();
        assert_eq!(plan.kinds().collect::<Vec<_>>(), [DocumentKind::Spreadsheet]);
        assert_eq!(field_of(plan.misfit(DocumentKind::Text)), "single_page_sheets");
    }

    #[test]
    fn pdf_input_imports_by_target() {
        let plan = Plan::new(SourceFormat::Pdf, &request(TargetFormat::Pptx, Default::default())).unwrap();
        assert_eq!(plan.import.unwrap().filter, "impress_pdf_import");
        assert_eq!(plan.exports[&DocumentKind::Presentation].filter, "Impress MS PowerPoint 2007 XML");
        let plan = Plan::new(SourceFormat::Txt, &request(TargetFormat::Pdf, Default::default())).unwrap();
        assert_eq!(plan.import.unwrap().options, Some("UTF8"));
    }

    #[test]
    fn page_ranges_compress_and_keep_order() {
        let selection = |s: &str| PageSelection::parse(s).unwrap();
        assert_eq!(page_range(&selection("1-3,5,7-"), 9).unwrap().as_deref(), Some("1-3,5,7-9"));
        assert_eq!(page_range(&selection("even"), 6).unwrap().as_deref(), Some("2,4,6"));
        assert_eq!(page_range(&selection("-2--1"), 4).unwrap().as_deref(), Some("3-4"));
        assert_eq!(page_range(&selection("all"), 4).unwrap(), None);
        assert_eq!(page_range(&selection("3,1"), 4).unwrap_err().code(), ErrorCode::InvalidParams);
        assert_eq!(field_of(page_range(&selection("9"), 4).unwrap_err()), "pages");
        assert!("PDF".parse::<TargetFormat>().is_ok());
        assert_eq!(field_of("docm".parse::<TargetFormat>().unwrap_err()), "to");
    }
}
