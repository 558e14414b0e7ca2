//! `scanpro run`, `scanpro tools` and `scanpro config`, as a user types them.

use scanpro_testkit::checkers::{page_count, page_text, pdfinfo, qpdf_check, rotations, run};
use scanpro_testkit::corpus::corpus;
use std::process::Command;

fn scanpro(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scanpro")).args(args).env_remove("DATABASE_URL").output().unwrap()
}

fn s(path: &std::path::Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn run_merge_split_rotate_info() {
    let dir = tempfile::tempdir().unwrap();
    let merged = dir.path().join("merged.pdf");
    let a = corpus("pdf-text/ltnews17.pdf");
    let b = corpus("pdf-text/lscape.pdf");
    let out = scanpro(&["run", "merge", "--order", "1,0", s(&a), s(&b), "-o", s(&merged)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    qpdf_check(&merged);
    assert_eq!(page_count(&merged), 5);
    assert_eq!(page_text(&merged, 1), page_text(&b, 1));

    let parts = dir.path().join("parts");
    let out = scanpro(&["run", "split", "--mode", "every", "--every", "2", s(&merged), "-o", s(&parts)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut pieces: Vec<_> = std::fs::read_dir(&parts).unwrap().map(|e| e.unwrap().path()).collect();
    pieces.sort();
    assert_eq!(pieces.iter().map(|p| page_count(p)).collect::<Vec<_>>(), vec![2, 2, 1]);

    let rotated = dir.path().join("rotated.pdf");
    let out = scanpro(&["run", "rotate", "--angle", "-90", "--pages", "-1", s(&a), "-o", s(&rotated)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(rotations(&rotated), vec![0, 270]);

    let out = scanpro(&["run", "info", s(&a)]);
    assert!(out.status.success());
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["pages"], 2, "{info}");
}

#[test]
fn run_reports_errors_with_codes_and_exit_status() {
    let png = corpus("images/ocrmypdf_baiona.png");
    let out = scanpro(&["run", "rotate", "--angle", "90", s(&png), "-o", "/tmp/never.pdf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unsupported_format"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let pdf = corpus("pdf-text/ltnews17.pdf");
    let out = scanpro(&["run", "split", "--ranges", "1-3,x", s(&pdf), "-o", "/tmp/never"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid_params") && err.contains("\"x\""), "{err}");

    let out = scanpro(&["run", "nope", s(&pdf)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn run_fills_a_form_from_a_json_option() {
    let dir = tempfile::tempdir().unwrap();
    let form = corpus("pdf-text/pdfjs_issue15096.pdf");
    let out = scanpro(&["run", "form_fields", s(&form)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(listed["fields"].as_array().unwrap().iter().any(|f| f["name"] == "Group1" && f["type"] == "radio"));

    let filled = dir.path().join("filled.pdf");
    let values = r#"{"name": "Katherine Johnson", "Group1": "Choice1"}"#;
    let out = scanpro(&["run", "fill_form", "--values", values, "--flatten", s(&form), "-o", s(&filled)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    qpdf_check(&filled);
    assert!(page_text(&filled, 1).contains("Katherine Johnson"));

    let out = scanpro(&["run", "fill_form", "--values", r#"{"nobody": "x"}"#, s(&form), "-o", s(&filled)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid_params") && err.contains("no field named \"nobody\""), "{err}");
}

/// `scanpro run` with its working directory at `cwd`.
#[test]
fn run_signs_and_checks_against_the_configured_trust_store() {
    use scanpro_testkit::signing::{P12_PASSWORD, TestPki, pdfsig};
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::create(&dir.path().join("pki"));
    let signed = dir.path().join("signed.pdf");
    let document = corpus("pdf-text/lscape.pdf");
    let out = scanpro(&[
        "run",
        "digital_sign",
        "--password",
        P12_PASSWORD,
        "--visible",
        "--reason",
        "Agreed",
        s(&document),
        s(&pki.ec_p12),
        "-o",
        s(&signed),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(pdfsig(&signed).contains("Signature is Valid"));
    let check = |trust_store: Option<&std::path::Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_scanpro"));
        command.args(["run", "verify_signatures", s(&signed)]).env_remove("DATABASE_URL");
        if let Some(path) = trust_store {
            command.env("SCANPRO_SIGNATURE_TRUST_STORE", path);
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let trusted = check(Some(&pki.root_pem));
    assert_eq!(
        (trusted["valid"].as_u64(), trusted["signatures"][0]["signer"].as_str()),
        (Some(1), Some("Bob Example"))
    );
    let untrusted = check(None);
    assert_eq!(untrusted["signatures"][0]["trust"], "no trust store is configured", "{untrusted}");
    assert_eq!(untrusted["signatures"][0]["intact"], true);
}

fn scanpro_in(cwd: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scanpro")).args(args).current_dir(cwd).env_remove("DATABASE_URL").output().unwrap()
}

fn assert_ran(out: &std::process::Output) {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The files in `dir`, sorted.
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn run_writes_a_zip_or_a_folder_as_named_and_leaves_nothing_else() {
    let cwd = tempfile::tempdir().unwrap();
    let book = corpus("pdf-text/ltnews17.pdf");

    // Several outputs and `-o NAME.zip`: one zip holding every output.
    assert_ran(&scanpro_in(cwd.path(), &["run", "split", "--mode", "each", s(&book), "-o", "parts.zip"]));
    let zip_path = cwd.path().join("parts.zip");
    assert!(zip_path.is_file(), "parts.zip must be a file, not a directory");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).expect("a real zip");
    assert_eq!(archive.len(), 2, "one entry per page");
    let unpacked = tempfile::tempdir().unwrap();
    archive.extract(unpacked.path()).unwrap();
    for name in listing(unpacked.path()) {
        let part = unpacked.path().join(&name);
        qpdf_check(&part);
        assert_eq!(page_count(&part), 1, "{name}");
    }
    let unzip = run("unzip", ["-l", s(&zip_path)]);
    assert!(unzip.status.success(), "unzip -l: {}", String::from_utf8_lossy(&unzip.stderr));

    // One output and `-o DIR/`: a folder holding it.
    assert_ran(&scanpro_in(cwd.path(), &["run", "pdf_to_image", "--pages", "1", s(&book), "-o", "pages/"]));
    let images = listing(&cwd.path().join("pages"));
    assert_eq!(images.len(), 1, "{images:?}");
    let png = std::fs::read(cwd.path().join("pages").join(&images[0])).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is a PNG", images[0]);

    // An engine tool (LibreOffice) leaves no scratch or profile behind either.
    let docx = corpus("docx/FieldCodes.docx");
    assert_ran(&scanpro_in(cwd.path(), &["run", "office_to_pdf", s(&docx), "-o", "doc.pdf"]));
    qpdf_check(&cwd.path().join("doc.pdf"));

    assert_eq!(listing(cwd.path()), ["doc.pdf", "pages", "parts.zip"], "only the outputs are left");
}

#[test]
fn run_convert_picks_the_conversion_from_the_input() {
    let cwd = tempfile::tempdir().unwrap();
    let book = corpus("pdf-text/ltnews17.pdf");
    let png = corpus("images/ocrmypdf_baiona.png");

    assert_ran(&scanpro_in(
        cwd.path(),
        &["run", "convert", "--to", "pdf", "--page-size", "a4", s(&png), "-o", "scan.pdf"],
    ));
    let scan = cwd.path().join("scan.pdf");
    qpdf_check(&scan);
    assert_eq!(page_count(&scan), 1);
    let info = pdfinfo(&scan, &[]);
    assert!(info.contains("pts (A4)"), "an A4 page: {info}");

    assert_ran(&scanpro_in(cwd.path(), &["run", "convert", "--to", "jpg", "--dpi", "50", s(&book), "-o", "pages/"]));
    let pages = listing(&cwd.path().join("pages"));
    assert_eq!(pages.len(), 2, "{pages:?}");
    for page in &pages {
        assert!(
            std::fs::read(cwd.path().join("pages").join(page)).unwrap().starts_with(b"\xff\xd8\xff"),
            "{page} is a JPEG"
        );
    }

    let docx = corpus("docx/FieldCodes.docx");
    assert_ran(&scanpro_in(cwd.path(), &["run", "convert", "--to", "pdf", s(&docx), "-o", "doc.pdf"]));
    qpdf_check(&cwd.path().join("doc.pdf"));
    assert!(page_count(&cwd.path().join("doc.pdf")) >= 1);

    // Pairs it cannot make, and options that do not apply, are refused by name.
    let out = scanpro_in(cwd.path(), &["run", "convert", "--to", "xlsx", s(&book), "-o", "book.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported_format") && err.contains("a PDF into XLSX"), "{err}");
    let out = scanpro_in(cwd.path(), &["run", "convert", "--to", "pdf", s(&book), "-o", "again.pdf"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("a PDF into PDF"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = scanpro_in(cwd.path(), &["run", "convert", "--to", "pdf", "--pdfa", "2b", s(&png), "-o", "x.pdf"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid_params") && err.contains("pdfa"), "{err}");
    let out = scanpro_in(cwd.path(), &["run", "convert", "--to", "pdf", s(&png), s(&docx), "-o", "x.pdf"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid_params") && err.contains("separate steps"), "{err}");

    assert_eq!(listing(cwd.path()), ["doc.pdf", "pages", "scan.pdf"]);
}

#[test]
fn tools_and_config() {
    let out = scanpro(&["tools"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in ["merge", "split", "rotate", "info", "--angle", "--pages"] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_scanpro"))
        .args(["config", "--listen", "0.0.0.0:9999"])
        .env("SCANPRO_MAX_UPLOAD_MB", "77")
        .env("DATABASE_URL", "postgres://scanpro:topsecret@db/scanpro")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("listen = \"0.0.0.0:9999\""), "{text}");
    assert!(text.contains("max_upload_mb = 77"), "{text}");
    assert!(text.contains("postgres://scanpro:***@db/scanpro") && !text.contains("topsecret"), "{text}");
}
