//! `scanpro run`, `scanpro tools` and `scanpro config`, as a user types them.

mod common;

use common::*;
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
    assert_qpdf_ok(&merged);
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
