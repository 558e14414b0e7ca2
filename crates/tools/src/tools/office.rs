//! The LibreOffice conversions: office documents to PDF and back, between office formats, and
//! web pages (HTML, Markdown) to PDF. Each input is converted on its own by the warm pool.

use super::{Runner, Tool};
use crate::catalogue::InputRule;
use crate::engines::{Engine, EngineStep, StepFuture};
use crate::names::{UniqueNames, safe_stem};
use crate::params::{check, parse, schema};
use crate::step::{Input, Output, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::{
    ConvertOfficeParams, OfficeToPdfParams, PageToPdfParams, PdfToOfficeParams, PdfaLevel, page_selection,
};
use scanpro_engines::office::{self, ConvertOptions, ConvertRequest, TargetFormat};
use serde_json::json;

/// What LibreOffice opens, by detected format.
const OFFICE_DOCUMENTS: &[&str] =
    &["docx", "doc", "odt", "rtf", "txt", "html", "xlsx", "xls", "ods", "pptx", "ppt", "odp", "odg"];

pub(crate) const OFFICE_TO_PDF: Tool = Tool {
    name: "office_to_pdf",
    title: "Office to PDF",
    summary: "Word, Excel, PowerPoint, OpenDocument, RTF, text and HTML documents to PDF or PDF/A; each input becomes one PDF.",
    group: "convert_to_pdf",
    inputs: InputRule { min: 1, max: None, formats: OFFICE_DOCUMENTS },
    schema: schema::<OfficeToPdfParams>,
    check: check::<OfficeToPdfParams>,
    runner: Runner::Engine(Engine::Libreoffice, office_to_pdf),
};

pub(crate) const HTML_TO_PDF: Tool = Tool {
    name: "html_to_pdf",
    title: "HTML to PDF",
    summary: "A web page saved as HTML to PDF. Remote images, styles and scripts are never fetched.",
    group: "convert_to_pdf",
    inputs: InputRule { min: 1, max: None, formats: &["html"] },
    schema: schema::<PageToPdfParams>,
    check: check::<PageToPdfParams>,
    runner: Runner::Engine(Engine::Libreoffice, html_to_pdf),
};

pub(crate) const MARKDOWN_TO_PDF: Tool = Tool {
    name: "markdown_to_pdf",
    title: "Markdown to PDF",
    summary: "Markdown (CommonMark with tables, task lists and strikethrough) to PDF. Remote images are never fetched.",
    group: "convert_to_pdf",
    inputs: InputRule { min: 1, max: None, formats: &["txt"] },
    schema: schema::<PageToPdfParams>,
    check: check::<PageToPdfParams>,
    runner: Runner::Engine(Engine::Libreoffice, markdown_to_pdf),
};

pub(crate) const PDF_TO_OFFICE: Tool = Tool {
    name: "pdf_to_office",
    title: "PDF to Word, PowerPoint or OpenDocument",
    summary: "Each page rebuilt as positioned text boxes and drawings in a docx, odt, pptx, odp or odg: the layout is kept, text does not reflow.",
    group: "convert_from_pdf",
    inputs: InputRule { min: 1, max: None, formats: &["pdf"] },
    schema: schema::<PdfToOfficeParams>,
    check: check::<PdfToOfficeParams>,
    runner: Runner::Engine(Engine::Libreoffice, pdf_to_office),
};

pub(crate) const CONVERT_OFFICE: Tool = Tool {
    name: "convert_office",
    title: "Convert office documents",
    summary: "Between office formats: doc to docx, xlsx to ods or csv, pptx to odp, and back.",
    group: "convert",
    inputs: InputRule { min: 1, max: None, formats: OFFICE_DOCUMENTS },
    schema: schema::<ConvertOfficeParams>,
    check: check::<ConvertOfficeParams>,
    runner: Runner::Engine(Engine::Libreoffice, convert_office),
};

fn office_to_pdf(step: EngineStep<'_>) -> StepFuture<'_> {
    Box::pin(async move {
        let params: OfficeToPdfParams = parse(step.params)?;
        let options = ConvertOptions {
            pages: params.pages.as_deref().map(|pages| page_selection("pages", Some(pages))).transpose()?,
            pdfa: params.pdfa.map(pdfa_level),
            export_bookmarks: params.export_bookmarks,
            export_notes: params.export_notes,
            single_page_sheets: params.single_page_sheets,
            landscape: params.landscape,
        };
        convert_each(&step, step.inputs, &ConvertRequest { to: TargetFormat::Pdf, options }).await
    })
}

fn html_to_pdf(step: EngineStep<'_>) -> StepFuture<'_> {
    Box::pin(async move {
        let params: PageToPdfParams = parse(step.params)?;
        convert_each(&step, step.inputs, &page_request(&params)).await
    })
}

fn markdown_to_pdf(step: EngineStep<'_>) -> StepFuture<'_> {
    Box::pin(async move {
        let params: PageToPdfParams = parse(step.params)?;
        let scratch = tempfile::Builder::new()
            .prefix("scanpro-markdown-")
            .tempdir()
            .map_err(|e| ToolError::internal(format!("scratch directory: {e}")))?;
        let mut pages = Vec::with_capacity(step.inputs.len());
        for (index, input) in step.inputs.iter().enumerate() {
            let markdown = std::fs::read(&input.path)
                .map_err(|e| ToolError::internal(format!("cannot read {}: {e}", input.filename)))?;
            let path = scratch.path().join(format!("{index}.html"));
            std::fs::write(&path, markdown_page(&String::from_utf8_lossy(&markdown)))
                .map_err(|e| ToolError::internal(format!("scratch file: {e}")))?;
            pages.push(Input { path, filename: input.filename.clone() });
        }
        convert_each(&step, &pages, &page_request(&params)).await
    })
}

fn pdf_to_office(step: EngineStep<'_>) -> StepFuture<'_> {
    Box::pin(async move {
        let params: PdfToOfficeParams = parse(step.params)?;
        let to = target_format(params.to)?;
        convert_each(&step, step.inputs, &ConvertRequest::new(to)).await
    })
}

fn convert_office(step: EngineStep<'_>) -> StepFuture<'_> {
    Box::pin(async move {
        let params: ConvertOfficeParams = parse(step.params)?;
        let to = target_format(params.to)?;
        convert_each(&step, step.inputs, &ConvertRequest::new(to)).await
    })
}

/// The engine's target for a format named in the parameters: both name formats by extension.
fn target_format(to: impl serde::Serialize) -> Result<TargetFormat, ToolError> {
    let name = serde_json::to_value(to).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    name.parse::<TargetFormat>().map_err(ToolError::from)
}

fn page_request(params: &PageToPdfParams) -> ConvertRequest {
    let options =
        ConvertOptions { landscape: params.landscape, pdfa: params.pdfa.map(pdfa_level), ..Default::default() };
    ConvertRequest { to: TargetFormat::Pdf, options }
}

fn pdfa_level(level: PdfaLevel) -> office::PdfaLevel {
    match level {
        PdfaLevel::A1b => office::PdfaLevel::A1b,
        PdfaLevel::A2b => office::PdfaLevel::A2b,
        PdfaLevel::A3b => office::PdfaLevel::A3b,
    }
}

/// Converts each input as `request` asks; an error names the file it happened on.
async fn convert_each(
    step: &EngineStep<'_>,
    inputs: &[Input],
    request: &ConvertRequest,
) -> Result<StepResult, ToolError> {
    let pool = step.engines.office()?;
    let extension = request.to.extension();
    let mut names = UniqueNames::default();
    let mut outputs = Vec::with_capacity(inputs.len());
    let mut converted = Vec::with_capacity(inputs.len());
    for input in inputs {
        let filename = names.claim(&safe_stem(&input.filename), &format!(".{extension}"));
        let path = step.out_dir.join(&filename);
        let done = pool
            .convert(&input.path, &path, request)
            .await
            .map_err(|e| ToolError::new(e.code(), format!("{}: {e}", input.filename)))?;
        converted.push(json!({"file": input.filename, "opened_as": done.kind, "route": done.route}));
        outputs.push(Output { path, filename, content_type: content_type(extension).into() });
    }
    Ok(StepResult { outputs, report: Some(json!({"to": extension, "converted": converted})) })
}

fn content_type(extension: &str) -> &'static str {
    match extension {
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "doc" => "application/msword",
        "xls" => "application/vnd.ms-excel",
        "ppt" => "application/vnd.ms-powerpoint",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "odp" => "application/vnd.oasis.opendocument.presentation",
        "odg" => "application/vnd.oasis.opendocument.graphics",
        "rtf" => "application/rtf",
        "csv" => "text/csv",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// A Markdown text as a standalone HTML page with a plain, print-friendly style.
fn markdown_page(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut body = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut body, Parser::new_ext(markdown, options));
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>{MARKDOWN_STYLE}</style></head><body>\n{body}</body></html>\n"
    )
}

const MARKDOWN_STYLE: &str = "body{font-family:'DejaVu Sans',sans-serif;font-size:11pt;line-height:1.4}\
pre,code{font-family:'DejaVu Sans Mono',monospace;font-size:9.5pt}pre{background:#f4f4f4;padding:6pt}\
table{border-collapse:collapse}th,td{border:1px solid #999;padding:3pt 6pt}\
blockquote{color:#555;border-left:3pt solid #ccc;padding-left:8pt}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_a_complete_page() {
        let page = markdown_page("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ and `code`\n");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<h1>Title</h1>"));
        assert!(page.contains("<table>"));
        assert!(page.contains("<del>gone</del>"));
        assert!(page.contains("<code>code</code>"));
    }

    #[test]
    fn every_format_a_parameter_names_is_an_engine_target() {
        use scanpro_core::params::{OfficeTarget, PdfImportTarget};
        let office: Vec<OfficeTarget> = serde_json::from_value(json!([
            "docx", "doc", "odt", "rtf", "txt", "xlsx", "xls", "ods", "csv", "pptx", "ppt", "odp", "odg"
        ]))
        .unwrap();
        for to in office {
            assert_eq!(target_format(to).unwrap().extension(), serde_json::to_value(to).unwrap());
        }
        for to in [
            PdfImportTarget::Docx,
            PdfImportTarget::Odt,
            PdfImportTarget::Pptx,
            PdfImportTarget::Odp,
            PdfImportTarget::Odg,
        ] {
            assert_eq!(target_format(to).unwrap().extension(), serde_json::to_value(to).unwrap());
        }
    }

    #[test]
    fn output_types_cover_every_target() {
        for target in TargetFormat::ALL {
            assert_ne!(content_type(target.extension()), "application/octet-stream", "{target}");
        }
    }
}
