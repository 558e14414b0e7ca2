//! OCRs files one after another with the OCR engine and prints one JSON line per file, then a
//! summary line. `bench/ocr.py` drives it.
//!
//! ```sh
//! ocr [--jobs N] [--output pdf|pdfa|text] [--mode skip_text|force|redo] [--languages eng,deu] --out DIR FILE…
//! ```
//!
//! Each file's pages are OCRed in parallel (`--jobs`, default the number of cores); its output is
//! `DIR/NNNN.pdf` (or `.txt`), numbered in the order given.

use scanpro_core::params::OcrParams;
use scanpro_engines::ocr::{OcrConfig, ocr};
use scanpro_process::progress::ignore_progress;
use std::path::PathBuf;
use std::time::Instant;

struct Args {
    config: OcrConfig,
    params: OcrParams,
    out: PathBuf,
    files: Vec<PathBuf>,
}

/// A parameter word (`text`, `force`) as its enum, read as the API reads it.
fn word<T: serde::de::DeserializeOwned>(option: &str, value: String) -> Result<T, String> {
    serde_json::from_value(value.into()).map_err(|e| format!("{option}: {e}"))
}

fn parse_args() -> Result<Args, String> {
    let mut config = OcrConfig::default();
    let mut params = OcrParams::default();
    let (mut out, mut files) = (None, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--jobs" => config.jobs = value()?.parse().map_err(|e| format!("--jobs: {e}"))?,
            "--output" => params.output = word("--output", value()?)?,
            "--mode" => params.mode = word("--mode", value()?)?,
            "--languages" => params.languages = value()?.split(',').map(str::to_owned).collect(),
            "--out" => out = Some(PathBuf::from(value()?)),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    let out = out.ok_or("--out DIR is required")?;
    Ok(Args { config, params, out, files })
}

#[tokio::main]
async fn main() {
    let args = parse_args().unwrap_or_else(|problem| {
        eprintln!("ocr: {problem}");
        std::process::exit(2);
    });
    std::fs::create_dir_all(&args.out).expect("create --out");
    let started = Instant::now();
    let mut pages = 0;
    for (index, file) in args.files.iter().enumerate() {
        let output = args.out.join(format!("{index:04}.{}", args.params.output.extension()));
        let began = Instant::now();
        let result = ocr(&args.config, file, &output, &args.params, ignore_progress()).await;
        let mut line = serde_json::json!({
            "file": file.display().to_string(),
            "output": output.display().to_string(),
            "seconds": began.elapsed().as_secs_f64(),
            "ok": result.is_ok(),
        });
        match result {
            Ok(report) => {
                pages += report.pages;
                line["report"] = serde_json::to_value(&report).expect("a report serialises");
            }
            Err(error) => {
                line["code"] = error.code.as_str().into();
                line["message"] = error.message.into();
            }
        }
        println!("{line}");
    }
    let summary = serde_json::json!({"summary": {"wall_seconds": started.elapsed().as_secs_f64(), "pages": pages}});
    println!("{summary}");
}
