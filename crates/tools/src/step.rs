//! Running one step: check the inputs, then hand them to the tool.

use crate::catalogue::tool;
use crate::tools::{Runner, Tool};
use scanpro_core::{ErrorCode, ToolError};
use scanpro_pdf::format;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

/// An input file: where it is, and the name the user gave it (output names derive from it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub path: PathBuf,
    pub filename: String,
}

/// A file a step wrote into its output directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    pub path: PathBuf,
    pub filename: String,
    pub content_type: String,
}

/// What a step produced: files, and for tools that answer a question, the answer as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub outputs: Vec<Output>,
    pub report: Option<serde_json::Value>,
}

/// Runs one step of a Rust-native tool synchronously: validates `params`, checks the number of
/// inputs and each input's format from its bytes (not its name), runs the tool, and writes its
/// outputs into `out_dir` (which exists and is empty). Engine tools run through
/// [`run_engine`](crate::engines::run_engine).
pub fn run(
    tool_name: &str,
    params: &serde_json::Value,
    inputs: &[Input],
    out_dir: &Path,
) -> Result<StepResult, ToolError> {
    let (tool_name, params) = resolve(tool_name, params, inputs)?;
    let tool = tool(tool_name)?;
    let Runner::Native(run) = tool.runner else {
        return Err(ToolError::internal(format!("{tool_name} runs in an engine, not in a step process")));
    };
    check_inputs(tool, inputs)?;
    run(&params, inputs, out_dir)
}

/// The tool a step runs as, with its parameters: the tool named, or for a routing tool
/// (`convert`) the tool its inputs (read here) and parameters call for.
pub fn resolve(
    tool_name: &str,
    params: &serde_json::Value,
    inputs: &[Input],
) -> Result<(&'static str, serde_json::Value), ToolError> {
    let tool = tool(tool_name)?;
    match tool.runner {
        Runner::Route(router) => (router.route)(params, inputs).map(|routed| (routed.tool, routed.params)),
        Runner::Native(_) | Runner::Engine(..) => Ok((tool.name, params.clone())),
    }
}

impl From<Output> for Input {
    /// A step's output as the next step's input.
    fn from(output: Output) -> Self {
        Self { path: output.path, filename: output.filename }
    }
}

impl StepResult {
    /// Notes in the report the tool a routing tool's step ran as (`"ran_as": "office_to_pdf"`).
    pub fn ran_as(mut self, tool_name: &str) -> Self {
        match &mut self.report {
            Some(serde_json::Value::Object(report)) => {
                report.insert("ran_as".into(), tool_name.into());
            }
            Some(_) => {}
            None => self.report = Some(serde_json::json!({ "ran_as": tool_name })),
        }
        self
    }
}

/// The input count against the tool's rule, and each input's format from its bytes.
pub(crate) fn check_inputs(tool: &Tool, inputs: &[Input]) -> Result<(), ToolError> {
    tool.inputs.check(tool.name, inputs.len())?;
    // No formats named: the tool takes any file (a web page's assets).
    for input in inputs.iter().filter(|_| !tool.inputs.formats.is_empty()) {
        check_format(input, tool.inputs.formats, tool.name)?;
    }
    Ok(())
}

/// The MIME type of a file from its first bytes (read at least
/// [`SNIFF_LEN`](scanpro_pdf::format::SNIFF_LEN) of them); `application/octet-stream` when
/// unknown. A PDF may carry junk before `%PDF-`; the header counts within the first 1024 bytes.
pub fn detect_content_type(head: &[u8]) -> &'static str {
    format::content_type(head)
}

/// The format of a file from its bytes, named as in the input rules: `pdf`, an image (`jpeg`,
/// `png`, `webp`, `tiff`) or a document LibreOffice reads (`docx`, `html`, `txt`…); `None` for
/// anything else.
pub(crate) fn sniff_format(path: &Path) -> Result<Option<&'static str>, ToolError> {
    let head = read_head(path)?;
    Ok(format_name(detect_content_type(&head)).or_else(|| office_format(path)))
}

/// The short format name (`pdf`) tools declare in their input rules, for a MIME type.
fn format_name(content_type: &str) -> Option<&'static str> {
    match content_type {
        "application/pdf" => Some("pdf"),
        "image/jpeg" => Some("jpeg"),
        "image/png" => Some("png"),
        "image/webp" => Some("webp"),
        "image/tiff" => Some("tiff"),
        "application/x-pkcs12" => Some("pkcs12"),
        _ => None,
    }
}

fn check_format(input: &Input, formats: &[&str], tool: &str) -> Result<(), ToolError> {
    let head = read_head(&input.path)?;
    let sniffed = format_name(detect_content_type(&head));
    let accepted = match sniffed {
        Some(name) => formats.contains(&name),
        // Documents LibreOffice reads are told apart by their zip or OLE2 contents.
        None => office_format(&input.path).is_some_and(|name| formats.contains(&name)),
    };
    if accepted {
        return Ok(());
    }
    Err(ToolError::new(
        ErrorCode::UnsupportedFormat,
        format!(
            "{}: this is {}, but {tool} takes {} files",
            input.filename,
            office_format(&input.path)
                .map_or_else(|| format::describe(&head), |name| format!("a {} file", name.to_uppercase())),
            one_of(formats)
        ),
    ))
}

/// `["jpeg", "png", "tiff"]` → `JPEG, PNG or TIFF`.
fn one_of(formats: &[&str]) -> String {
    let names: Vec<String> = formats.iter().map(|f| f.to_uppercase()).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The office format of a file (`docx`, `xls`, `html`, `txt`…), from its contents.
fn office_format(path: &Path) -> Option<&'static str> {
    use scanpro_engines::office::SourceFormat;
    match scanpro_engines::office::detect::detect(path).ok()? {
        SourceFormat::Pdf => None,
        // Encrypted OOXML shows its application only once opened; LibreOffice then refuses it
        // with `encrypted_input`.
        SourceFormat::EncryptedOoxml => Some("docx"),
        format => Some(format.extension()),
    }
}

fn read_head(path: &Path) -> Result<Vec<u8>, ToolError> {
    let mut head = Vec::with_capacity(format::SNIFF_LEN);
    std::fs::File::open(path)
        .and_then(|file| file.take(format::SNIFF_LEN as u64).read_to_end(&mut head))
        .map_err(|e| ToolError::internal(format!("cannot read input {}: {e}", path.display())))?;
    Ok(head)
}
