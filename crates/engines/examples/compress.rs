//! Runs the Ghostscript engine's tools on files and prints one JSON line per file: the report
//! or the error, and the wall time. `bench/compress.py` drives it.
//!
//! ```sh
//! compress [--tool compress|pdfa|grayscale] [--level LEVEL] [--target SIZE] [--pdfa-level 2b]
//!          [--timeout SECS] --out DIR FILE…
//! ```
//!
//! Outputs are written to `DIR/NNNN.pdf`, in the order of the files given.

use scanpro_core::params::{ByteSize, CompressParams, GrayscaleParams, PdfaParams};
use scanpro_engines::ghostscript::{GhostscriptConfig, compress, grayscale, pdfa};
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Args {
    tool: String,
    compress: CompressParams,
    pdfa: PdfaParams,
    config: GhostscriptConfig,
    out: PathBuf,
    files: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        tool: "compress".into(),
        compress: CompressParams::default(),
        pdfa: PdfaParams::default(),
        config: GhostscriptConfig::default(),
        out: PathBuf::new(),
        files: Vec::new(),
    };
    let mut out = None;
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        let mut value = || argv.next().ok_or(format!("{arg} needs a value"));
        let json = |text: String| serde_json::Value::String(text);
        match arg.as_str() {
            "--tool" => args.tool = value()?,
            "--level" => {
                args.compress.level = serde_json::from_value(json(value()?)).map_err(|e| format!("--level: {e}"))?
            }
            "--target" => args.compress.target_size = Some(ByteSize::Text(value()?)),
            "--pdfa-level" => {
                args.pdfa.level = serde_json::from_value(json(value()?)).map_err(|e| format!("--pdfa-level: {e}"))?
            }
            "--timeout" => {
                args.config.timeout = Duration::from_secs(value()?.parse().map_err(|e| format!("--timeout: {e}"))?)
            }
            "--out" => out = Some(PathBuf::from(value()?)),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => args.files.push(PathBuf::from(arg)),
        }
    }
    args.out = out.ok_or("--out DIR is required")?;
    Ok(args)
}

#[tokio::main]
async fn main() {
    let args = parse_args().unwrap_or_else(|problem| {
        eprintln!("compress: {problem}");
        std::process::exit(2);
    });
    std::fs::create_dir_all(&args.out).expect("create --out");
    for (index, file) in args.files.iter().enumerate() {
        let output = args.out.join(format!("{index:04}.pdf"));
        let began = Instant::now();
        let report = match args.tool.as_str() {
            "compress" => compress(&args.config, file, &output, &args.compress).await.map(|r| serde_json::json!(r)),
            "pdfa" => pdfa(&args.config, file, &output, &args.pdfa).await.map(|r| serde_json::json!(r)),
            "grayscale" => {
                grayscale(&args.config, file, &output, &GrayscaleParams {}).await.map(|r| serde_json::json!(r))
            }
            other => {
                eprintln!("compress: unknown tool {other}");
                std::process::exit(2);
            }
        };
        let mut line = serde_json::json!({
            "file": file.display().to_string(),
            "output": output.display().to_string(),
            "seconds": began.elapsed().as_secs_f64(),
            "ok": report.is_ok(),
        });
        match report {
            Ok(report) => line["report"] = report,
            Err(error) => {
                line["code"] = serde_json::json!(error.code);
                line["message"] = serde_json::json!(error.message);
            }
        }
        println!("{line}");
    }
}
