//! Local commands: `scanpro run`, `scanpro tools`, and the hidden `scanpro step-exec`.
//!
//! `run` goes through the same tool code as a worker step, on local files, with no server.

use scanpro_core::{ErrorCode, ToolError};
use scanpro_pipeline::steps::StepRequest;
use scanpro_pipeline::{NativeSteps, StepRunner};
use scanpro_process::progress::{PageProgress, ProgressFn};
use scanpro_tools::Input;
use serde_json::{Map, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct RunArgs {
    /// Tool name (see `scanpro tools`).
    tool: String,
    /// `--param value` pairs, input files, and `-o OUTPUT`: a file; a directory (`dir/`, or any
    /// path when there are several outputs); or `NAME.zip` for one zip of every output.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
}

/// A command line split into parameters, inputs and the output path.
#[derive(Debug, Default, PartialEq)]
struct Invocation {
    params: Map<String, Value>,
    inputs: Vec<PathBuf>,
    output: Option<PathBuf>,
}

/// What is wrong with a `run` command line.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum UsageError {
    #[error("-o needs a path")]
    OutputWithoutPath,
    /// `--NAME` came last, with no value after it.
    #[error("--{0} needs a value")]
    ParamWithoutValue(String),
}

pub fn run(args: RunArgs, config_file: Option<PathBuf>) -> ExitCode {
    let Some(tool) = scanpro_tools::find(&args.tool) else {
        eprintln!("scanpro: unknown tool {:?}; `scanpro tools` lists them", args.tool);
        return ExitCode::from(2);
    };
    let invocation = match parse_invocation(&args.args, &tool.params_schema) {
        Ok(invocation) => invocation,
        Err(message) => {
            eprintln!("scanpro: {message}");
            return ExitCode::from(2);
        }
    };
    match run_tool(tool.name, invocation, config_file.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("scanpro: {}: {}", error.code, error.message);
            ExitCode::from(if matches!(error.code, ErrorCode::InvalidParams | ErrorCode::BadRequest) { 2 } else { 1 })
        }
    }
}

fn run_tool(tool: &str, invocation: Invocation, config_file: Option<&Path>) -> Result<(), ToolError> {
    if invocation.inputs.is_empty() {
        return Err(ToolError::new(ErrorCode::BadRequest, "give at least one input file"));
    }
    let inputs = invocation
        .inputs
        .iter()
        .map(|path| {
            if !path.is_file() {
                return Err(ToolError::new(ErrorCode::NotFound, format!("{} is not a readable file", path.display())));
            }
            let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(Input { path: path.clone(), filename })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Everything but the outputs lives in one temp dir removed at exit: a command on local files
    // leaves nothing else behind.
    let scratch = tempfile::Builder::new()
        .prefix("scanpro-run-")
        .tempdir()
        .map_err(|e| ToolError::internal(format!("scratch directory: {e}")))?;
    let out_dir = scratch.path().join("out");
    std::fs::create_dir(&out_dir).map_err(|e| ToolError::internal(format!("scratch directory: {e}")))?;
    // `convert` runs as the tool its inputs call for, natively or on an engine like that tool.
    let (tool, params) = scanpro_tools::resolve(tool, &Value::Object(invocation.params), &inputs)?;
    let result = match scanpro_tools::engine_of(tool) {
        None => {
            configure_signing(tool, config_file)?;
            scanpro_tools::run(tool, &params, &inputs, &out_dir)?
        }
        Some(_) => run_engine_tool(tool, params, &inputs, &out_dir, scratch.path(), config_file)?,
    };
    match (&invocation.output, &result.report) {
        (None, Some(report)) => println!("{}", serde_json::to_string_pretty(report).unwrap_or_default()),
        (None, None) => return Err(ToolError::new(ErrorCode::BadRequest, "give -o OUTPUT")),
        (Some(output), _) => place_outputs(&result.outputs, output)?,
    }
    Ok(())
}

/// The time-stamping authority and trust store of the configuration, for the signature tools.
fn configure_signing(tool: &str, config_file: Option<&Path>) -> Result<(), ToolError> {
    if scanpro_tools::SigningSettings::default().for_tool(tool).is_none() {
        return Ok(());
    }
    let setup = |e: anyhow::Error| ToolError::new(ErrorCode::Unavailable, format!("{e:#}"));
    let config = crate::config::Config::load(config_file, crate::ServerFlags::default()).map_err(setup)?;
    if let Some(signing) = crate::parts::signing_settings(&config).map_err(setup)?.for_tool(tool) {
        scanpro_tools::signing::configure(signing);
    }
    Ok(())
}

/// An engine tool, on this machine's engines or the engine services the configuration names,
/// exactly as a worker runs it. The engines' scratch space goes under `scratch`, not `data_dir`.
fn run_engine_tool(
    tool: &str,
    params: Value,
    inputs: &[Input],
    out_dir: &Path,
    scratch: &Path,
    config_file: Option<&Path>,
) -> Result<scanpro_tools::StepResult, ToolError> {
    let setup = |e: anyhow::Error| ToolError::new(ErrorCode::Unavailable, format!("{e:#}"));
    let mut config = crate::config::Config::load(config_file, crate::ServerFlags::default()).map_err(setup)?;
    config.data_dir = scratch.to_owned();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| setup(e.into()))?;
    runtime.block_on(async {
        let engines = crate::engines::routes(&config).await.map_err(setup)?;
        let request = StepRequest {
            tool: tool.to_owned(),
            params,
            inputs: inputs.to_vec(),
            out_dir: out_dir.to_owned(),
            large_input_bytes: None,
            job: None,
            signing: None,
        };
        let progress: ProgressFn = Arc::new(|done: PageProgress| eprintln!("page {} of {}", done.done, done.total));
        let steps = StepRunner { native: NativeSteps::InProcess, engines: engines.clone() };
        let result = steps.run(request, progress).await;
        engines.local.shutdown().await;
        result
    })
}

/// Where outputs go: `-o x.zip` writes one zip of them all; `-o dir/` (a trailing `/`), an
/// existing directory, or several outputs put the files inside that directory; else the one
/// output is written at the path.
fn place_outputs(outputs: &[scanpro_tools::Output], target: &Path) -> Result<(), ToolError> {
    let io = |e: std::io::Error| ToolError::internal(format!("writing {}: {e}", target.display()));
    let names_folder = target.as_os_str().to_string_lossy().ends_with(std::path::MAIN_SEPARATOR) || target.is_dir();
    let names_zip = target.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("zip"));
    if names_zip && !names_folder {
        let entries: Vec<_> = outputs.iter().map(|o| (o.path.clone(), o.filename.clone())).collect();
        let file = std::fs::File::create(target).map_err(io)?;
        scanpro_api::download::write_zip(file, &entries).map_err(io)?;
        println!("{}", target.display());
        return Ok(());
    }
    let into_dir = names_folder || outputs.len() > 1;
    if into_dir {
        std::fs::create_dir_all(target).map_err(io)?;
    }
    for output in outputs {
        let dest = if into_dir { target.join(&output.filename) } else { target.to_path_buf() };
        std::fs::copy(&output.path, &dest).map_err(io)?;
        println!("{}", dest.display());
    }
    Ok(())
}

/// `--name value`, `--name=value`, `--flag` (booleans), `-o PATH`; anything else is an input.
/// Values are typed by the tool's schema: strings stay strings, numbers and arrays are parsed
/// (`--order 2,0,1` or `--order '[2,0,1]'`).
fn parse_invocation(args: &[String], schema: &Value) -> Result<Invocation, UsageError> {
    let mut invocation = Invocation::default();
    let mut iter = args.iter().peekable();
    // A tool with an `output` parameter (`ocr`) takes `--output` as that parameter; `-o` is
    // always the output path.
    let output_is_param = schema["properties"].get("output").is_some();
    while let Some(arg) = iter.next() {
        if arg == "-o" || (arg == "--output" && !output_is_param) {
            invocation.output = Some(iter.next().ok_or(UsageError::OutputWithoutPath)?.into());
        } else if let Some(path) =
            arg.strip_prefix("-o=").or(arg.strip_prefix("--output=").filter(|_| !output_is_param))
        {
            invocation.output = Some(path.into());
        } else if let Some(flag) = arg.strip_prefix("--") {
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name.replace('-', "_"), Some(value.to_owned())),
                None => (flag.replace('-', "_"), None),
            };
            let kinds = property_kinds(schema, &name);
            let value = match inline {
                Some(value) => value,
                None if kinds.contains(&"boolean")
                    && iter.peek().is_none_or(|next| !matches!(next.as_str(), "true" | "false")) =>
                {
                    "true".into()
                }
                None => iter.next().ok_or_else(|| UsageError::ParamWithoutValue(name.clone()))?.clone(),
            };
            invocation.params.insert(name, typed_value(&value, &kinds));
        } else {
            invocation.inputs.push(arg.into());
        }
    }
    Ok(invocation)
}

/// The JSON types a property accepts (`["string", "null"]` → `["string", "null"]`; enums → string).
fn property_kinds<'a>(schema: &'a Value, name: &str) -> Vec<&'a str> {
    let Some(property) = schema.get("properties").and_then(|p| p.get(name)) else { return vec!["string"] };
    match property.get("type") {
        Some(Value::String(kind)) => vec![kind.as_str()],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => vec!["string"],
    }
}

fn typed_value(text: &str, kinds: &[&str]) -> Value {
    let parsed = serde_json::from_str::<Value>(text).ok();
    if kinds.contains(&"array") && !text.trim_start().starts_with('[') {
        return Value::Array(
            text.split(',').map(|item| typed_value(item.trim(), &["integer", "number", "string"])).collect(),
        );
    }
    match parsed {
        Some(value @ (Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_)))
            if !kinds.contains(&"string") || kinds.len() > 2 =>
        {
            value
        }
        _ => Value::String(text.to_owned()),
    }
}

pub fn list_tools() -> anyhow::Result<()> {
    for tool in scanpro_tools::catalogue() {
        println!("{:<16} {}", tool.name, tool.summary);
        if let Some(Value::Object(properties)) = tool.params_schema.get("properties") {
            for (name, property) in properties {
                let kinds = property_kinds(&tool.params_schema, name).join("|");
                let description =
                    property.get("description").and_then(Value::as_str).unwrap_or("").lines().next().unwrap_or("");
                println!("    --{:<14} {:<16} {}", name.replace('_', "-"), kinds, description);
            }
        }
    }
    Ok(())
}

/// Reads a [`StepRequest`] on stdin, runs it, writes the reply on stdout.
pub fn step_exec() -> anyhow::Result<()> {
    // The worker started this process confined to the step's files; its children inherit that.
    scanpro_process::sandbox::mark_confined();
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body)?;
    let request: StepRequest = serde_json::from_slice(&body)?;
    serde_json::to_writer(std::io::stdout().lock(), &request.run_here())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"properties": {
            "angle": {"type": "integer"},
            "pages": {"type": ["string", "null"]},
            "order": {"type": ["array", "null"], "items": {"type": "integer"}},
            "skip_first": {"type": "boolean"},
        }})
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_params_inputs_and_output() {
        let got =
            parse_invocation(&args(&["--angle", "90", "--pages=1-3", "a.pdf", "-o", "out.pdf", "b.pdf"]), &schema())
                .unwrap();
        assert_eq!(got.params, json!({"angle": 90, "pages": "1-3"}).as_object().unwrap().clone());
        assert_eq!(got.inputs, vec![PathBuf::from("a.pdf"), PathBuf::from("b.pdf")]);
        assert_eq!(got.output, Some(PathBuf::from("out.pdf")));
    }

    #[test]
    fn output_is_a_parameter_where_the_tool_has_one() {
        let schema = json!({"properties": {"output": {"type": "string"}}});
        let invocation = parse_invocation(&args(&["--output", "text", "scan.pdf", "-o", "scan.txt"]), &schema).unwrap();
        assert_eq!(invocation.params["output"], "text");
        assert_eq!(invocation.output, Some(PathBuf::from("scan.txt")));
    }

    #[test]
    fn values_follow_the_schema() {
        let got =
            parse_invocation(&args(&["--order", "2,0,1", "--pages", "5", "--skip-first", "x.pdf"]), &schema()).unwrap();
        assert_eq!(got.params["order"], json!([2, 0, 1]));
        assert_eq!(got.params["pages"], json!("5"), "a page selection stays a string");
        assert_eq!(got.params["skip_first"], json!(true));
        assert_eq!(got.inputs, vec![PathBuf::from("x.pdf")]);
    }

    #[test]
    fn a_missing_value_is_named() {
        assert_eq!(parse_invocation(&args(&["a.pdf", "-o"]), &schema()), Err(UsageError::OutputWithoutPath));
        let err = parse_invocation(&args(&["a.pdf", "--angle"]), &schema()).unwrap_err();
        assert_eq!(err.to_string(), "--angle needs a value");
    }
}
