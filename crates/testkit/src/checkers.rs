//! The independent checkers: qpdf and poppler (`pdfinfo`, `pdftotext`, `pdftoppm`) say what an
//! output is, so a test never trusts the code it tests to judge it. A checker that is not
//! installed panics with the Debian package to install.
//!
//! Paths and arguments go in as anything that is an `OsStr`: `&["--check", "x.pdf"]`,
//! `[OsStr::new("-f"), path.as_os_str()]`.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

/// The Debian package that installs `program`.
fn debian_package(program: &str) -> &str {
    match program {
        "qpdf" => "qpdf",
        "pdfinfo" | "pdftotext" | "pdftoppm" | "pdfimages" | "pdffonts" | "pdfseparate" | "pdfunite" => "poppler-utils",
        "gs" => "ghostscript",
        "tesseract" => "tesseract-ocr",
        "sha256sum" => "coreutils",
        "file" => "file",
        other => other,
    }
}

/// Runs `program` with `args` and returns what it did, whatever its exit status. Panics when it
/// cannot be started, naming the Debian package that installs it.
pub fn run<I, S>(program: &str, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    std::process::Command::new(program).args(args).output().unwrap_or_else(|e| {
        let package = debian_package(program);
        panic!("cannot run {program} ({e}): the tests need it, apt-get install -y {package}")
    })
}

/// Runs `program` with `args`, which must succeed (exit 0); its standard output as text.
pub fn stdout<I, S>(program: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<S> = args.into_iter().collect();
    let out = run(program, &args);
    let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    assert!(
        out.status.success(),
        "{program} {shown:?} exited {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `qpdf --check`: the exit code when the file passes (0, or 3 for warnings only), else a report
/// of what qpdf said.
pub fn qpdf_verdict(path: &Path) -> Result<i32, String> {
    let out = run("qpdf", [OsStr::new("--check"), path.as_os_str()]);
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

/// `qpdf --check` passes (exit 0, or 3 for warnings only); its exit code. Panics with qpdf's
/// report otherwise.
pub fn qpdf_check(path: &Path) -> i32 {
    qpdf_verdict(path).unwrap_or_else(|report| panic!("{report}"))
}

/// `qpdf --check` passes without even a warning (exit 0).
pub fn qpdf_check_clean(path: &Path) {
    let out = run("qpdf", [OsStr::new("--check"), path.as_os_str()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "qpdf --check {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The page count qpdf reads (`qpdf --show-npages`); `None` when it reads none, as for a damaged
/// file qpdf cannot open.
pub fn qpdf_pages(path: &Path) -> Option<u32> {
    let out = run("qpdf", [OsStr::new("--show-npages"), path.as_os_str()]);
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// `qpdf --json` limited to `keys` (`outlines`, `pages`, `qpdf`, …), parsed.
pub fn qpdf_json(path: &Path, keys: &[&str]) -> serde_json::Value {
    let mut args: Vec<String> = vec!["--json".into()];
    args.extend(keys.iter().map(|key| format!("--json-key={key}")));
    let out = run("qpdf", args.iter().map(OsStr::new).chain([path.as_os_str()]));
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "qpdf --json {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("qpdf --json {}: {e}", path.display()))
}

/// `qpdf --show-encryption`, opened with `password` when one is given (exit 0, or 3 for
/// warnings only).
pub fn qpdf_show_encryption(path: &Path, password: Option<&str>) -> String {
    let flag = password.map(|p| format!("--password={p}"));
    let args = [Some("--show-encryption".as_ref()), flag.as_deref().map(OsStr::new), Some(path.as_os_str())];
    let out = run("qpdf", args.into_iter().flatten());
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "qpdf --show-encryption {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `pdfinfo EXTRA… PATH`, which must succeed; its report.
pub fn pdfinfo(path: &Path, extra: &[&str]) -> String {
    let out = run("pdfinfo", extra.iter().map(OsStr::new).chain([path.as_os_str()]));
    assert!(out.status.success(), "pdfinfo {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One field of a `pdfinfo` report (`Title`, `Pages`, `Page size`, …), trimmed; `None` when the
/// report does not list it.
pub fn info_field<'a>(report: &'a str, field: &str) -> Option<&'a str> {
    report.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':')).map(str::trim)
}

/// One field of the document's `pdfinfo -enc UTF-8 -isodates` report (`Title`, `Encrypted`,
/// `CreationDate` as `2024-03-01T14:30:00+01`, …); `None` when pdfinfo does not list it.
pub fn pdfinfo_field(path: &Path, field: &str) -> Option<String> {
    info_field(&pdfinfo(path, &["-enc", "UTF-8", "-isodates"]), field).map(str::to_owned)
}

/// The page count poppler sees (`pdfinfo`'s `Pages:`).
pub fn page_count(path: &Path) -> u32 {
    let report = pdfinfo(path, &[]);
    info_field(&report, "Pages")
        .and_then(|pages| pages.parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo shows no page count for {}:\n{report}", path.display()))
}

/// `pdfinfo -f 1 -l LAST`, with a line per page: its size and rotation.
fn pdfinfo_per_page(path: &Path) -> String {
    let last = page_count(path).to_string();
    pdfinfo(path, &["-f", "1", "-l", &last])
}

/// Each page's rotation as poppler reports it (`Page    1 rot:  90`).
pub fn rotations(path: &Path) -> Vec<u32> {
    pdfinfo_per_page(path)
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" rot:"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect()
}

/// Each page's size as poppler reports it (`Page    1 size: 612 x 792 pts (letter)` gives
/// `612 x 792 pts (letter)`).
pub fn page_sizes(path: &Path) -> Vec<String> {
    pdfinfo_per_page(path)
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" size:"))
        .map(|l| l.split_once(" size:").unwrap().1.trim().to_owned())
        .collect()
}

/// `pdftotext -enc UTF-8` with `extra` options, which must succeed.
fn pdftotext_with(path: &Path, extra: &[&str]) -> String {
    let args = ["-enc", "UTF-8"].iter().chain(extra).map(OsStr::new).chain([path.as_os_str(), OsStr::new("-")]);
    let out = run("pdftotext", args);
    assert!(out.status.success(), "pdftotext {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("pdftotext -enc UTF-8 writes UTF-8")
}

/// The document's text as poppler extracts it, a form feed after each page.
pub fn pdftotext(path: &Path) -> String {
    pdftotext_with(path, &[])
}

/// The text of pages `first` to `last` as poppler extracts it.
pub fn pages_text(path: &Path, first: u32, last: u32) -> String {
    pdftotext_with(path, &["-f", &first.to_string(), "-l", &last.to_string()])
}

/// The text of one page as poppler extracts it.
pub fn page_text(path: &Path, page: u32) -> String {
    pages_text(path, page, page)
}

/// Page `page` rendered by poppler (`pdftoppm -png`) at `dpi`, as PNG bytes.
pub fn render_png(path: &Path, page: u32, dpi: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("page");
    let (page, dpi) = (page.to_string(), dpi.to_string());
    let options = ["-r", &dpi, "-f", &page, "-l", &page, "-png", "-singlefile"];
    let out = run("pdftoppm", options.iter().map(OsStr::new).chain([path.as_os_str(), root.as_os_str()]));
    assert!(out.status.success(), "pdftoppm {} failed: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    std::fs::read(root.with_extension("png")).unwrap()
}
