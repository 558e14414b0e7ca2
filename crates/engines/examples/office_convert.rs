//! Converts files with an [`OfficePool`] and prints one JSON line per file, then a summary line.
//! `bench/office.py` drives it.
//!
//! ```sh
//! office_convert [--instances K] [--clients C] [--to pdf] [--recycle-after N] [--timeout SECS] --out DIR FILE…
//! ```
//!
//! The pool starts all K instances first (not timed); then C clients (default K) take files from
//! one queue, each converting one at a time, so a file's latency is its own conversion.

use scanpro_engines::office::{ConvertRequest, OfficeConfig, OfficePool, TargetFormat};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    config: OfficeConfig,
    clients: usize,
    to: TargetFormat,
    out: PathBuf,
    files: Vec<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut config = OfficeConfig { start_at_boot: true, ..OfficeConfig::default() };
    let (mut clients, mut to, mut out, mut files) = (None, TargetFormat::Pdf, None, Vec::new());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--instances" => config.instances = value()?.parse().map_err(|e| format!("--instances: {e}"))?,
            "--clients" => clients = Some(value()?.parse().map_err(|e| format!("--clients: {e}"))?),
            "--recycle-after" => {
                config.recycle_after = value()?.parse().map_err(|e| format!("--recycle-after: {e}"))?
            }
            "--timeout" => {
                config.conversion_timeout =
                    Duration::from_secs(value()?.parse().map_err(|e| format!("--timeout: {e}"))?)
            }
            "--to" => to = value()?.parse().map_err(|e| format!("{e}"))?,
            "--out" => out = Some(PathBuf::from(value()?)),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    let out = out.ok_or("--out DIR is required")?;
    Ok(Args { clients: clients.unwrap_or(config.instances), config, to, out, files })
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("office_convert: {problem}");
            std::process::exit(2);
        }
    };
    std::fs::create_dir_all(&args.out).expect("create --out");
    let started = Instant::now();
    let pool = OfficePool::start(args.config.clone()).await.unwrap_or_else(|e| {
        eprintln!("office_convert: {e}");
        std::process::exit(1);
    });
    let startup = started.elapsed();
    let queue = Arc::new(Mutex::new(args.files.iter().cloned().enumerate().collect::<Vec<_>>()));
    let converting = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..args.clients.max(1) {
        let (pool, queue, out, to) = (pool.clone(), queue.clone(), args.out.clone(), args.to);
        clients.spawn(async move {
            loop {
                let Some((index, file)) = queue.lock().unwrap().pop() else { break };
                let output = out.join(format!("{index:04}.{}", to.extension()));
                let began = Instant::now();
                let result = pool.convert(&file, &output, &ConvertRequest::new(to)).await;
                let mut line = serde_json::json!({
                    "file": file.display().to_string(),
                    "seconds": began.elapsed().as_secs_f64(),
                    "ok": result.is_ok(),
                });
                match result {
                    Ok(converted) => {
                        line["route"] = serde_json::json!(converted.route);
                        line["output"] = serde_json::json!(output.display().to_string());
                    }
                    Err(error) => {
                        line["code"] = serde_json::json!(error.code().as_str());
                        line["message"] = serde_json::json!(error.to_string());
                    }
                }
                println!("{line}");
            }
        });
    }
    while clients.join_next().await.is_some() {}
    let wall = converting.elapsed();
    let status = pool.status();
    pool.shutdown().await;
    println!(
        "{}",
        serde_json::json!({ "summary": {
            "files": args.files.len(),
            "instances": args.config.instances,
            "startup_seconds": startup.as_secs_f64(),
            "wall_seconds": wall.as_secs_f64(),
            "status": status,
        }})
    );
}
