//! What the LibreOffice tools share: the formats it opens, the engine's targets, and converting
//! each input on its own through the warm pool. The tools: [`office_to_pdf`](super::office_to_pdf),
//! [`html_to_pdf`](super::html_to_pdf), [`markdown_to_pdf`](super::markdown_to_pdf),
//! [`pdf_to_office`](super::pdf_to_office), [`convert_office`](super::convert_office).

use crate::engines::EngineStep;
use crate::names::{UniqueNames, safe_stem};
use crate::step::{Input, Output, StepResult};
use scanpro_core::ToolError;
use scanpro_core::params::PdfaLevel;
use scanpro_engines::office::{self, ConvertRequest, TargetFormat};
use serde_json::json;

/// What LibreOffice opens, by detected format.
pub(super) const OFFICE_DOCUMENTS: &[&str] =
    &["docx", "doc", "odt", "rtf", "txt", "html", "xlsx", "xls", "ods", "pptx", "ppt", "odp", "odg"];

/// The engine's target for a format named in the parameters: both name formats by extension.
pub(super) fn target_format(to: impl serde::Serialize) -> Result<TargetFormat, ToolError> {
    let name = serde_json::to_value(to).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    name.parse::<TargetFormat>().map_err(ToolError::from)
}

pub(super) fn pdfa_level(level: PdfaLevel) -> office::PdfaLevel {
    match level {
        PdfaLevel::A1b => office::PdfaLevel::A1b,
        PdfaLevel::A2b => office::PdfaLevel::A2b,
        PdfaLevel::A3b => office::PdfaLevel::A3b,
    }
}

/// Converts each input as `request` asks; an error names the file it happened on.
pub(super) async fn convert_each(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_a_parameter_names_is_an_engine_target() {
        use super::super::convert_office::OfficeTarget;
        use super::super::pdf_to_office::PdfImportTarget;
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
