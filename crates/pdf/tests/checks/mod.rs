//! Independent checks for the page, security, metadata and repair tests: what qpdf and poppler
//! say about an output. A missing tool fails the test loudly.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn run(tool: &str, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} ({e}); install it: apt-get install -y qpdf poppler-utils"))
}

/// `qpdf --check` must exit 0: no warnings either.
pub fn assert_clean(path: &Path) {
    let out = run("qpdf", &["--check".as_ref(), path.as_os_str()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "qpdf --check {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `qpdf --show-encryption`, with a password when one is given.
pub fn show_encryption(path: &Path, password: Option<&str>) -> String {
    let flag = password.map(|p| format!("--password={p}"));
    let mut args: Vec<&std::ffi::OsStr> = vec!["--show-encryption".as_ref()];
    if let Some(flag) = &flag {
        args.push(flag.as_ref());
    }
    args.push(path.as_os_str());
    let out = run("qpdf", &args);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "qpdf --show-encryption failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One field of `pdfinfo` (`Title`, `Encrypted`, …), trimmed; empty when absent.
pub fn pdfinfo_field(path: &Path, field: &str) -> String {
    let out = run("pdfinfo", &["-enc".as_ref(), "UTF-8".as_ref(), path.as_os_str()]);
    assert!(out.status.success(), "pdfinfo {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    let prefix = format!("{field}:");
    String::from_utf8_lossy(&out.stdout).lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or("").trim().to_owned()
}

/// Page `page` rendered by poppler at 50 dpi, as PNG bytes.
pub fn render_png(path: &Path, page: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("page");
    let page = page.to_string();
    let args: [&std::ffi::OsStr; 10] = [
        "-r".as_ref(),
        "50".as_ref(),
        "-f".as_ref(),
        page.as_ref(),
        "-l".as_ref(),
        page.as_ref(),
        "-png".as_ref(),
        "-singlefile".as_ref(),
        path.as_os_str(),
        root.as_os_str(),
    ];
    let out = run("pdftoppm", &args);
    assert!(out.status.success(), "pdftoppm {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    std::fs::read(dir.path().join("page.png")).unwrap()
}

/// Every bookmark, depth first, with the page (1-based) its destination or GoTo action targets.
pub fn bookmarks(path: &Path) -> Vec<(String, Option<u32>)> {
    let out = run(
        "qpdf",
        &["--json".as_ref(), "--json-key=outlines".as_ref(), "--json-key=pages".as_ref(), path.as_os_str()],
    );
    assert!(matches!(out.status.code(), Some(0 | 3)), "qpdf --json failed");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pages: Vec<String> =
        json["pages"].as_array().unwrap().iter().map(|p| p["object"].as_str().unwrap().to_owned()).collect();
    let mut found = Vec::new();
    collect(&json["outlines"], &pages, &mut found);
    found
}

fn collect(items: &serde_json::Value, pages: &[String], found: &mut Vec<(String, Option<u32>)>) {
    for item in items.as_array().into_iter().flatten() {
        let dest = if item["dest"]["/D"].is_array() { &item["dest"]["/D"] } else { &item["dest"] };
        let page = dest[0]
            .as_str()
            .and_then(|object| pages.iter().position(|p| p == object))
            .map(|i| u32::try_from(i).unwrap() + 1);
        found.push((item["title"].as_str().unwrap_or("").to_owned(), page));
        collect(&item["kids"], pages, found);
    }
}
