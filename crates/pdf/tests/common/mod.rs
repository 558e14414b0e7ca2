//! Shared test helpers: the corpus, and independent checks of outputs with qpdf and poppler.
//! A missing corpus or tool fails the test loudly: a skipped check is a silent pass.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared corpus: `$SCANPRO_CORPUS`, else `/work/shared/corpus` relative to this crate.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("SCANPRO_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(dir.is_dir(), "test corpus not found at {} (set SCANPRO_CORPUS)", dir.display());
    dir
}

pub fn text_pdf(name: &str) -> PathBuf {
    let path = corpus().join("pdf-text").join(name);
    assert!(path.is_file(), "corpus file missing: {}", path.display());
    path
}

fn run(tool: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} ({e}); install it: apt-get install -y qpdf poppler-utils"))
}

/// `qpdf --check`; panics unless it exits 0 (clean) or 3 (warnings only). Returns the exit code.
pub fn qpdf_check(path: &Path) -> i32 {
    qpdf_verdict(path).unwrap_or_else(|report| panic!("{report}"))
}

/// `qpdf --check`: the exit code when 0 or 3, else a report of what qpdf said.
pub fn qpdf_verdict(path: &Path) -> Result<i32, String> {
    let out = run("qpdf", &["--check".as_ref(), path.as_os_str()]);
    match out.status.code().unwrap_or(-1) {
        code @ (0 | 3) => Ok(code),
        code => Err(format!(
            "qpdf --check {} exited {code}:\n{}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

fn pdfinfo(path: &Path, extra: &[&str]) -> String {
    let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(|a| a.as_ref()).collect();
    args.push(path.as_os_str());
    let out = run("pdfinfo", &args);
    assert!(out.status.success(), "pdfinfo {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The page count poppler sees.
pub fn page_count(path: &Path) -> u32 {
    pdfinfo(path, &[])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo shows no page count for {}", path.display()))
}

/// Each page's rotation, as poppler reports it (`Page    1 rot:  90`).
pub fn rotations(path: &Path) -> Vec<u32> {
    let last = page_count(path).to_string();
    pdfinfo(path, &["-f", "1", "-l", &last])
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" rot:"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect()
}

/// Each page's size line (`Page    1 size: 612 x 792 pts (letter)`), as poppler reports it.
pub fn page_sizes(path: &Path) -> Vec<String> {
    let last = page_count(path).to_string();
    pdfinfo(path, &["-f", "1", "-l", &last])
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" size:"))
        .map(|l| l.split_once(" size:").unwrap().1.trim().to_owned())
        .collect()
}

/// The document title poppler reads.
pub fn title(path: &Path) -> String {
    pdfinfo(path, &[]).lines().find_map(|l| l.strip_prefix("Title:")).unwrap_or("").trim().to_owned()
}

/// The text of one page, extracted by poppler.
pub fn page_text(path: &Path, page: u32) -> String {
    let page = page.to_string();
    let out =
        run("pdftotext", &["-f".as_ref(), page.as_ref(), "-l".as_ref(), page.as_ref(), path.as_os_str(), "-".as_ref()]);
    assert!(out.status.success(), "pdftotext {} failed", path.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The outline as qpdf reads it: (title, 1-based target page) of each top-level item.
pub fn outline(path: &Path) -> Vec<(String, Option<u64>, usize)> {
    let out = run("qpdf", &["--json".as_ref(), "--json-key=outlines".as_ref(), path.as_os_str()]);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(3), "qpdf --json failed");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("qpdf json");
    json["outlines"]
        .as_array()
        .expect("outlines array")
        .iter()
        .map(|item| {
            (
                item["title"].as_str().unwrap_or("").to_owned(),
                item["destpageposfrom1"].as_u64(),
                item["kids"].as_array().map_or(0, Vec::len),
            )
        })
        .collect()
}
