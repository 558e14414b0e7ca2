//! The cold fallback: one `soffice --convert-to` process per document, in a fresh copy of the
//! template profile, under the runner's deadline. It pays LibreOffice's start-up (about 0.9 s a
//! document here) but converts documents that crash LibreOffice through a UNO connection. It
//! cannot turn pages to landscape, and a page selection costs it a second run (the first one
//! counts the pages).

use super::OfficeError;
use super::detect::DocumentKind;
use super::plan::{Export, FilterValue, Plan, page_range};
use super::profile::{copy_template, soffice_args, soffice_grants, sweep_stale_pipes};
use crate::last_lines;
use scanpro_process::sandbox::Grants;
use scanpro_process::{ProcessError, Subprocess};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where and how a cold conversion runs.
pub(crate) struct Cold<'a> {
    pub soffice: &'a Path,
    pub template: &'a Path,
    /// The conversion's private directory; the input copy is in it.
    pub dir: &'a Path,
    pub input: &'a Path,
    pub timeout: Duration,
}

#[derive(Debug)]
pub(crate) enum ColdFailure {
    Timeout,
    /// LibreOffice ran and wrote nothing; its last words.
    NoOutput(String),
    Refused(OfficeError),
}

/// Converts trying `first_kind` (what a warm attempt saw the document open as), then the plan's
/// kinds, until one writes an output.
pub(crate) async fn convert(
    cold: &Cold<'_>,
    plan: &Plan,
    first_kind: Option<DocumentKind>,
) -> Result<(DocumentKind, PathBuf), ColdFailure> {
    let profile = cold.dir.join("cold-profile");
    copy_template(cold.template, &profile).map_err(|e| ColdFailure::Refused(e.into()))?;
    let mut kinds: Vec<DocumentKind> = first_kind.into_iter().filter(|kind| plan.exports.contains_key(kind)).collect();
    kinds.extend(plan.kinds().filter(|kind| Some(*kind) != first_kind));
    let mut last_words = String::new();
    for kind in kinds {
        let export = &plan.exports[&kind];
        if export.landscape {
            return Err(ColdFailure::Refused(OfficeError::Failed(
                "LibreOffice crashed on the document, and the cold process that converts such documents cannot turn pages to landscape: convert without landscape".into(),
            )));
        }
        let mut filter_data = export.filter_data.clone();
        if let Some(selection) = &plan.pages {
            let full = match run(cold, &profile, plan, export, &filter_data, "cold-count").await {
                Ok(path) => path,
                Err(ColdFailure::NoOutput(words)) => {
                    last_words = words;
                    continue;
                }
                Err(other) => return Err(other),
            };
            match page_range(selection, page_count(&full).await?).map_err(ColdFailure::Refused)? {
                None => return Ok((kind, full)),
                Some(range) => filter_data.insert("PageRange", FilterValue::Text(range)),
            };
        }
        match run(cold, &profile, plan, export, &filter_data, &format!("cold-{}", kind.as_str())).await {
            Ok(path) => return Ok((kind, path)),
            Err(ColdFailure::NoOutput(words)) => last_words = words,
            Err(other) => return Err(other),
        }
    }
    Err(ColdFailure::NoOutput(last_words))
}

/// One `soffice --convert-to` into `dir/out_dir`: the output path, or
/// [`ColdFailure::NoOutput`] with soffice's last words.
async fn run(
    cold: &Cold<'_>,
    profile: &Path,
    plan: &Plan,
    export: &Export,
    filter_data: &BTreeMap<&'static str, FilterValue>,
    out_dir: &str,
) -> Result<PathBuf, ColdFailure> {
    let out_dir = cold.dir.join(out_dir);
    // The conversion's directory holds its profile, the input and the outputs: nothing else.
    let mut command = Subprocess::new(cold.soffice)
        .args(soffice_args(profile))
        .timeout(cold.timeout)
        .confine_to(soffice_grants(cold.dir));
    if let Some(import) = plan.import {
        let filter = match import.options {
            Some(options) => format!("{}:{options}", import.filter),
            None => import.filter.to_owned(),
        };
        command = command.arg(format!("--infilter={filter}"));
    }
    let output = command
        .arg("--convert-to")
        .arg(convert_to(plan.target.extension(), export, filter_data))
        .arg("--outdir")
        .arg(&out_dir)
        .arg(cold.input)
        .run()
        .await;
    sweep_stale_pipes();
    let output = match output {
        Ok(output) => output,
        Err(ProcessError::Timeout { .. }) => return Err(ColdFailure::Timeout),
        Err(error) => return Err(ColdFailure::Refused(OfficeError::Unavailable(error.to_string()))),
    };
    let stem = cold.input.file_stem().unwrap_or_default();
    let written = out_dir.join(stem).with_extension(plan.target.extension());
    match std::fs::metadata(&written) {
        Ok(meta) if meta.len() > 0 => Ok(written),
        _ => Err(ColdFailure::NoOutput(format!(
            "soffice wrote no output ({}): {}",
            output.status,
            last_lines(&output.stderr_tail)
        ))),
    }
}

/// `ext:filter[:options]`, the options being the filter data as LibreOffice's typed JSON.
fn convert_to(extension: &str, export: &Export, filter_data: &BTreeMap<&'static str, FilterValue>) -> String {
    let mut spec = format!("{extension}:{}", export.filter);
    if !filter_data.is_empty() {
        let typed: serde_json::Map<String, serde_json::Value> =
            filter_data.iter().map(|(name, value)| (name.to_string(), value.typed_json())).collect();
        spec.push(':');
        spec.push_str(&serde_json::Value::Object(typed).to_string());
    } else if let Some(options) = export.options {
        spec.push(':');
        spec.push_str(options);
    }
    spec
}

async fn page_count(pdf: &Path) -> Result<u32, ColdFailure> {
    let failed = |why: String| {
        ColdFailure::Refused(OfficeError::Failed(format!("cannot count the pages LibreOffice wrote: {why}")))
    };
    let out = Subprocess::new("qpdf")
        .arg("--show-npages")
        .arg(pdf)
        .confine_to(Grants::new().read(pdf))
        .timeout(Duration::from_secs(60))
        .run()
        .await
        .map_err(|e| failed(e.to_string()))?;
    String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| failed(last_lines(&out.stderr_tail)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn convert_to_spells_filter_data_as_typed_json() {
        let export = Export {
            filter: "writer_pdf_Export",
            options: None,
            filter_data: BTreeMap::new(),
            landscape: false,
            needs_view: true,
            keep_comments: false,
        };
        let mut data = BTreeMap::new();
        data.insert("PageRange", FilterValue::Text("2-3".into()));
        data.insert("SelectPdfVersion", FilterValue::Int(2));
        assert_eq!(
            convert_to("pdf", &export, &data),
            r#"pdf:writer_pdf_Export:{"PageRange":{"type":"string","value":"2-3"},"SelectPdfVersion":{"type":"long","value":"2"}}"#
        );
        let text = Export { filter: "Text (encoded)", options: Some("UTF8"), ..export };
        assert_eq!(convert_to("txt", &text, &BTreeMap::new()), "txt:Text (encoded):UTF8");
    }
}
