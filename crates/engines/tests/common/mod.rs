//! What the engine tests share: the corpus, and the independent checkers (poppler, qpdf). A
//! missing corpus or checker fails the test with what to install.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("SCANPRO_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(dir.is_dir(), "test corpus not found at {} (set SCANPRO_CORPUS)", dir.display());
    dir
}

pub fn corpus_file(name: &str) -> PathBuf {
    let path = corpus().join(name);
    assert!(path.is_file(), "corpus file missing: {}", path.display());
    path
}

pub fn run(tool: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool} ({e}); install it: apt-get install -y qpdf poppler-utils"))
}

pub fn pdfinfo(path: &Path, extra: &[&str]) -> String {
    let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(|a| a.as_ref()).collect();
    args.push(path.as_os_str());
    let out = run("pdfinfo", &args);
    assert!(out.status.success(), "pdfinfo {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn page_count(path: &Path) -> u32 {
    pdfinfo(path, &[])
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo shows no page count for {}", path.display()))
}

/// `qpdf --check` passes (exit 3 is success with warnings).
pub fn qpdf_check(path: &Path) {
    let out = run("qpdf", &["--check".as_ref(), path.as_os_str()]);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "qpdf --check {} exited {:?}: {}",
        path.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    );
}
