//! Protect and unlock on corpus files, checked with qpdf (`--show-encryption`, `--check`) and
//! poppler (`pdfinfo`, `pdftotext`).

mod common;

use common::bookmarks;
use scanpro_core::ErrorCode;
use scanpro_pdf::Permissions;
use scanpro_testkit::checkers::{page_count, page_text, pdfinfo_field, qpdf_check_clean, qpdf_show_encryption, run};
use scanpro_testkit::corpus::{corpus, text_pdf};

const ALL: Permissions = Permissions { print: true, copy: true, modify: true, annotate: true, fill_forms: true };

/// qpdf's verdict on each permission line, e.g. `("print high resolution", true)`.
fn permission_lines(shown: &str) -> Vec<(String, bool)> {
    shown
        .lines()
        .filter_map(|l| l.rsplit_once(": "))
        .filter(|(_, v)| *v == "allowed" || *v == "not allowed")
        .map(|(k, v)| (k.to_owned(), v == "allowed"))
        .collect()
}

fn allowed(shown: &str, line: &str) -> bool {
    permission_lines(shown).iter().find(|(k, _)| k == line).unwrap_or_else(|| panic!("no \"{line}\" in:\n{shown}")).1
}

#[test]
fn protect_uses_aes256_r6_with_both_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("ltnews17.pdf");
    let out = dir.path().join("protected.pdf");
    let report = scanpro_pdf::protect(&input, "user-pw", "owner-pw", ALL, &out).unwrap();
    assert!(report.user_password);
    assert_eq!(report.pages, 2);
    assert!(report.encryption.contains("AES-256"));

    let shown = qpdf_show_encryption(&out, Some("user-pw"));
    for line in
        ["R = 6", "stream encryption method: AESv3", "string encryption method: AESv3", "file encryption method: AESv3"]
    {
        assert!(shown.lines().any(|l| l == line), "no \"{line}\" in:\n{shown}");
    }
    assert!(shown.contains("Supplied password is user password"), "{shown}");
    assert!(qpdf_show_encryption(&out, Some("owner-pw")).contains("Supplied password is owner password"));
    assert!(permission_lines(&shown).iter().all(|(_, allowed)| *allowed), "{shown}");

    let check = run("qpdf", ["--check".as_ref(), "--password=user-pw".as_ref(), out.as_os_str()]);
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stdout));
    let denied = run("qpdf", ["--check".as_ref(), out.as_os_str()]);
    assert_eq!(denied.status.code(), Some(2), "opening without the password must fail");
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("invalid password"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );

    let text = run("pdftotext", ["-upw".as_ref(), "user-pw".as_ref(), out.as_os_str(), "-".as_ref()]);
    assert_eq!(
        String::from_utf8_lossy(&text.stdout),
        String::from_utf8_lossy(&run("pdftotext", [input.as_os_str(), "-".as_ref()]).stdout)
    );
}

#[test]
fn each_permission_shows_in_qpdf() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lscape.pdf");
    // (permission denied, qpdf lines that turn "not allowed")
    let cases: [(Permissions, &[&str]); 5] = [
        (Permissions { print: false, ..ALL }, &["print low resolution", "print high resolution"]),
        (Permissions { copy: false, ..ALL }, &["extract for any purpose"]),
        (Permissions { modify: false, ..ALL }, &["modify other", "modify document assembly"]),
        (Permissions { annotate: false, ..ALL }, &["modify annotations"]),
        (Permissions { fill_forms: false, ..ALL }, &["modify forms"]),
    ];
    for (index, (permissions, denied)) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("p{index}.pdf"));
        let report = scanpro_pdf::protect(&input, "", "owner", permissions, &out).unwrap();
        assert!(!report.user_password);
        qpdf_check_clean(&out);
        let shown = qpdf_show_encryption(&out, None);
        assert!(shown.contains("Supplied password is user password"), "the empty user password opens it: {shown}");
        for (line, allowed) in permission_lines(&shown) {
            let expect = match line.as_str() {
                // qpdf's summary of every modify permission.
                "modify anything" => !denied.iter().any(|d| d.starts_with("modify")),
                line => !denied.contains(&line),
            };
            assert_eq!(allowed, expect, "{line} with {permissions:?}:\n{shown}");
        }
        assert!(allowed(&shown, "extract for accessibility"));
        // Poppler opens it without a password and still reads the text.
        assert_eq!(pdfinfo_field(&out, "Encrypted").as_deref().and_then(|v| v.split_whitespace().next()), Some("yes"));
        assert!(!page_text(&out, 1).trim().is_empty());
    }
}

#[test]
fn unlock_removes_the_encryption() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("lroundrect.pdf");
    let protected = dir.path().join("protected.pdf");
    let restricted = Permissions { print: false, copy: false, ..ALL };
    scanpro_pdf::protect(&input, "open sesame", "master", restricted, &protected).unwrap();

    for password in ["open sesame", "master"] {
        let out = dir.path().join("unlocked.pdf");
        let report = scanpro_pdf::unlock(&protected, password, &out).unwrap();
        assert!(report.was_encrypted);
        assert_eq!(report.pages, 10);
        qpdf_check_clean(&out);
        assert_eq!(pdfinfo_field(&out, "Encrypted").as_deref(), Some("no"));
        assert_eq!(page_count(&out), 10);
        assert_eq!(page_text(&out, 7), page_text(&input, 7));
    }

    let out = dir.path().join("nope.pdf");
    for wrong in ["open", ""] {
        let err = scanpro_pdf::unlock(&protected, wrong, &out).unwrap_err();
        assert_eq!(err.code, ErrorCode::WrongPassword, "{wrong:?}: {err}");
        assert!(!err.message.contains("open sesame") && !err.message.contains("master"));
    }
    assert!(!out.exists());
    let err = scanpro_pdf::open(&protected).unwrap_err();
    assert_eq!(err.code, ErrorCode::EncryptedInput);
    assert!(err.message.contains("unlock"), "{err}");
}

#[test]
fn unlock_of_corpus_files_and_of_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    // qpdf's own R6 test file, with a non-ASCII password that needs SASLprep.
    let r6 = corpus("pdf-broken/pdfjs_saslprep-r6.pdf");
    let out = dir.path().join("r6.pdf");
    let err = scanpro_pdf::unlock(&r6, "wrong", &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::WrongPassword);

    // LibreOffice's RC4 (revision 3) file with its user password from pypdf's test suite.
    let writer = corpus("pdf-broken/pypdf_libreoffice-writer-password.pdf");
    let report = scanpro_pdf::unlock(&writer, "openpassword", &out).unwrap();
    assert!(report.was_encrypted);
    qpdf_check_clean(&out);
    assert_eq!(pdfinfo_field(&out, "Encrypted").as_deref(), Some("no"));
    assert!(page_text(&out, 1).len() > 10);
    assert_eq!(scanpro_pdf::unlock(&writer, "openpasswort", &out).unwrap_err().code, ErrorCode::WrongPassword);

    // A permissions-only file opens with the empty password; a wrong one is still wrong.
    let permissions_only = text_pdf("pdfjs_issue17069.pdf");
    let err = scanpro_pdf::unlock(&permissions_only, "not-the-owner", &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::WrongPassword);
    let report = scanpro_pdf::unlock(&permissions_only, "", &out).unwrap();
    assert!(report.was_encrypted);
    qpdf_check_clean(&out);
    assert_eq!(pdfinfo_field(&out, "Encrypted").as_deref(), Some("no"));

    let plain = text_pdf("lscape.pdf");
    let copy = dir.path().join("copy.pdf");
    let report = scanpro_pdf::unlock(&plain, "whatever", &copy).unwrap();
    assert!(!report.was_encrypted);
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&plain).unwrap(), "a plain input is copied as it is");
}

#[test]
fn protect_refuses_locked_inputs_and_keeps_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pdf");
    let locked = corpus("pdf-broken/pypdf_libreoffice-writer-password.pdf");
    let err = scanpro_pdf::protect(&locked, "u", "o", ALL, &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::EncryptedInput);
    let err = scanpro_pdf::protect(&text_pdf("lscape.pdf"), "u", "", ALL, &out).unwrap_err();
    assert!(err.message.starts_with("owner_password"), "{err}");
    // SASLprep refuses control characters; the message must not quote the password.
    let err = scanpro_pdf::protect(&text_pdf("lscape.pdf"), "u", "bell\u{7}owner", ALL, &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParams);
    assert!(!err.message.contains('\u{7}') && !err.message.contains("bell"), "{err}");

    // Bookmarks, metadata and pages survive protection.
    let input = text_pdf("ghsystem-manual.pdf");
    scanpro_pdf::protect(&input, "", "o", Permissions { modify: false, ..ALL }, &out).unwrap();
    qpdf_check_clean(&out);
    assert_eq!(bookmarks(&out), bookmarks(&input));
    assert_eq!(pdfinfo_field(&out, "Title"), pdfinfo_field(&input, "Title"));
    assert_eq!(page_count(&out), 20);
}

#[test]
fn protect_and_unlock_a_1321_page_manual() {
    let dir = tempfile::tempdir().unwrap();
    let input = text_pdf("pgfmanual.pdf");
    let protected = dir.path().join("protected.pdf");
    let started = std::time::Instant::now();
    scanpro_pdf::protect(&input, "u", "o", ALL, &protected).unwrap();
    let protect_time = started.elapsed();
    let unlocked = dir.path().join("unlocked.pdf");
    let started = std::time::Instant::now();
    scanpro_pdf::unlock(&protected, "u", &unlocked).unwrap();
    eprintln!("pgfmanual (1321 pages, 10 MB): protect {protect_time:.2?}, unlock {:.2?}", started.elapsed());
    qpdf_check_clean(&unlocked);
    assert_eq!(page_count(&unlocked), 1321);
    assert_eq!(page_text(&unlocked, 1000), page_text(&input, 1000));
    let check = run("qpdf", ["--check".as_ref(), "--password=u".as_ref(), protected.as_os_str()]);
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stdout));
}
