//! Digital signatures, checked by tools that share nothing with ScanPro: poppler's `pdfsig`
//! (NSS) and pyHanko validate what ScanPro signs, and ScanPro's verification is checked on
//! signatures pyHanko made and on documents changed after signing.

use chrono::Utc;
use scanpro_core::ErrorCode;
use scanpro_pdf::signatures::{Credentials, Signing, Visible, certificates_from_pem, sign, verify};
use scanpro_testkit::checkers::{page_count, pdftotext, qpdf_check_clean, render_png};
use scanpro_testkit::corpus::text_pdf;
use scanpro_testkit::signing::{P12_PASSWORD, TestPki, pdfsig, pyhanko_python, pyhanko_validate};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One PKI for the whole file: making keys takes a moment.
fn pki() -> &'static TestPki {
    static PKI: OnceLock<(tempfile::TempDir, TestPki)> = OnceLock::new();
    &PKI.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let pki = TestPki::create(dir.path());
        (dir, pki)
    })
    .1
}

fn credentials(p12: &Path) -> Credentials {
    Credentials::from_pkcs12(&std::fs::read(p12).unwrap(), P12_PASSWORD).unwrap()
}

fn signing(credentials: &Credentials) -> Signing<'_> {
    Signing {
        credentials,
        field: None,
        reason: Some("Approved".into()),
        location: Some("Berlin".into()),
        contact: Some("alice@example.com".into()),
        visible: None,
        at: Utc::now(),
        timestamp: None,
    }
}

fn trust_store() -> Vec<x509_cert::Certificate> {
    certificates_from_pem(&std::fs::read_to_string(&pki().root_pem).unwrap()).unwrap()
}

fn signed(source: &Path, dir: &Path, name: &str, signing: &Signing<'_>) -> PathBuf {
    let out = dir.join(name);
    sign(source, &out, signing).unwrap();
    out
}

#[test]
fn an_invisible_rsa_signature_is_valid_for_pdfsig_and_pyhanko() {
    let dir = tempfile::tempdir().unwrap();
    let alice = credentials(&pki().rsa_p12);
    let source = text_pdf("ghsystem-manual.pdf");
    let out = signed(&source, dir.path(), "signed.pdf", &signing(&alice));

    // The original bytes are kept: the signature is an incremental update.
    let original = std::fs::read(&source).unwrap();
    assert!(std::fs::read(&out).unwrap().starts_with(&original));
    qpdf_check_clean(&out);
    assert_eq!(page_count(&out), 20);

    let poppler = pdfsig(&out);
    assert!(poppler.contains("Signature is Valid"), "{poppler}");
    assert!(poppler.contains("Total document signed"), "{poppler}");
    assert!(poppler.contains("Alice Example"), "{poppler}");
    assert!(poppler.contains("ETSI.CAdES.detached") || poppler.contains("PAdES"), "{poppler}");

    let hanko = pyhanko_validate(&out, &[&pki().root_pem]);
    let only = &hanko[0];
    assert_eq!(only["intact"], true, "{hanko}");
    assert_eq!(only["valid"], true, "{hanko}");
    assert_eq!(only["trusted"], true, "{hanko}");
    assert_eq!(only["coverage"], "ENTIRE_FILE", "{hanko}");
    assert_eq!(only["signer"], "Alice Example", "{hanko}");

    let report = verify(&out, &trust_store()).unwrap();
    let ours = &report.signatures[0];
    assert!(ours.intact && ours.trusted && ours.covers_whole_document && ours.certificate_valid, "{ours:?}");
    assert_eq!(ours.signer.as_deref(), Some("Alice Example"));
    assert_eq!(ours.reason.as_deref(), Some("Approved"));
    assert_eq!(ours.location.as_deref(), Some("Berlin"));
    assert_eq!(ours.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
    assert_eq!(report.valid, 1);
}

#[test]
fn a_visible_ecdsa_signature_shows_on_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let bob = credentials(&pki().ec_p12);
    let mut request = signing(&bob);
    request.visible = Some(Visible { page: 2, area: Some([300.0, 650.0, 250.0, 70.0]), text: None, image: None });
    let source = text_pdf("ghsystem-manual.pdf");
    let out = signed(&source, dir.path(), "visible.pdf", &request);
    qpdf_check_clean(&out);
    let poppler = pdfsig(&out);
    assert!(poppler.contains("Signature is Valid"), "{poppler}");
    assert!(poppler.contains("Bob Example"), "{poppler}");
    let hanko = pyhanko_validate(&out, &[&pki().root_pem]);
    assert_eq!(hanko[0]["valid"], true, "{hanko}");
    assert_eq!(hanko[0]["trusted"], true, "{hanko}");
    // Poppler draws the widget's appearance: its text is read on page 2, and only there.
    let page_two = scanpro_testkit::checkers::page_text(&out, 2);
    assert!(page_two.contains("Digitally signed by Bob Example"), "{page_two}");
    assert!(page_two.contains("Reason: Approved"), "{page_two}");
    assert!(!scanpro_testkit::checkers::page_text(&out, 1).contains("Digitally signed"));
    let before = render_png(&source, 2, 50);
    let after = render_png(&out, 2, 50);
    assert_ne!(before, after, "the signature box is drawn on page 2");
    assert_eq!(render_png(&source, 1, 50), render_png(&out, 1, 50), "page 1 is untouched");
}

#[test]
fn a_second_signature_keeps_the_first_valid() {
    let dir = tempfile::tempdir().unwrap();
    let alice = credentials(&pki().rsa_p12);
    let bob = credentials(&pki().ec_p12);
    // pyHanko's change analysis cannot read hyperref.pdf's first revision, even signed twice by
    // pyHanko itself: another document.
    let first = signed(&text_pdf("ghsystem-manual.pdf"), dir.path(), "first.pdf", &signing(&alice));
    let second = signed(&first, dir.path(), "second.pdf", &signing(&bob));
    qpdf_check_clean(&second);
    let hanko = pyhanko_validate(&second, &[&pki().root_pem]);
    assert_eq!(hanko.as_array().unwrap().len(), 2, "{hanko}");
    for signature in hanko.as_array().unwrap() {
        assert_eq!(signature["intact"], true, "{hanko}");
        assert_eq!(signature["valid"], true, "{hanko}");
    }
    assert_eq!(hanko[0]["coverage"], "ENTIRE_REVISION", "{hanko}");
    assert_eq!(hanko[1]["coverage"], "ENTIRE_FILE", "{hanko}");
    let poppler = pdfsig(&second);
    assert_eq!(poppler.matches("Signature is Valid").count(), 2, "{poppler}");

    let report = verify(&second, &trust_store()).unwrap();
    let [older, newer] = &report.signatures[..] else { panic!("{report:?}") };
    assert_eq!((older.field.as_str(), newer.field.as_str()), ("Signature1", "Signature2"));
    assert!(older.intact && older.modified_after_signing && older.later_signatures == 1, "{older:?}");
    assert_eq!(older.changes_after_signing, "signed", "only a later signature came after it");
    assert_eq!(report.valid, 2);
    assert!(newer.intact && newer.covers_whole_document, "{newer:?}");
}

#[test]
fn changes_after_signing_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let alice = credentials(&pki().rsa_p12);
    let out = signed(&text_pdf("hyperref.pdf"), dir.path(), "signed.pdf", &signing(&alice));
    let mut bytes = std::fs::read(&out).unwrap();

    // A byte inside the signed range changed: the signature no longer holds.
    let mut tampered = bytes.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x01;
    let tampered_path = dir.path().join("tampered.pdf");
    std::fs::write(&tampered_path, &tampered).unwrap();
    let report = verify(&tampered_path, &trust_store()).unwrap();
    assert!(!report.signatures[0].intact, "{report:?}");
    assert!(report.signatures[0].problems.iter().any(|p| p.contains("changed")), "{report:?}");
    assert_eq!(report.valid, 0);
    let poppler = pdfsig(&tampered_path);
    assert!(!poppler.contains("Signature is Valid"), "poppler agrees: {poppler}");

    // An incremental update appended after the signature: still intact, but not the whole file.
    bytes.extend_from_slice(b"\n% appended later\n");
    let appended = dir.path().join("appended.pdf");
    std::fs::write(&appended, &bytes).unwrap();
    let report = verify(&appended, &trust_store()).unwrap();
    let signature = &report.signatures[0];
    assert!(signature.intact && signature.modified_after_signing && !signature.covers_whole_document, "{signature:?}");
    let poppler = pdfsig(&appended);
    assert!(poppler.contains("Not total document signed"), "poppler agrees: {poppler}");
}

#[test]
fn trust_follows_the_trust_store() {
    let dir = tempfile::tempdir().unwrap();
    let mallory = credentials(&pki().self_signed_p12);
    let out = signed(&text_pdf("hyperref.pdf"), dir.path(), "mallory.pdf", &signing(&mallory));
    let report = verify(&out, &trust_store()).unwrap();
    let signature = &report.signatures[0];
    assert!(signature.intact && !signature.trusted, "{signature:?}");
    assert!(signature.trust.contains("not in the trust store"), "{signature:?}");
    assert_eq!(report.valid, 0);
    let hanko = pyhanko_validate(&out, &[&pki().root_pem]);
    assert_eq!((hanko[0]["intact"].clone(), hanko[0]["trusted"].clone()), (true.into(), false.into()), "{hanko}");

    let alice = credentials(&pki().rsa_p12);
    let out = signed(&text_pdf("hyperref.pdf"), dir.path(), "alice.pdf", &signing(&alice));
    let without_store = verify(&out, &[]).unwrap();
    assert!(!without_store.trust_store && !without_store.signatures[0].trusted);
    assert_eq!(without_store.signatures[0].trust, "no trust store is configured");
}

#[test]
fn a_time_stamp_from_the_authority_is_embedded_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = pki().start_tsa();
    let alice = credentials(&pki().rsa_p12);
    let url = tsa.url.clone();
    let send = move |request: &[u8]| -> Result<Vec<u8>, scanpro_core::ToolError> {
        let out = std::process::Command::new("curl")
            .args(["-sf", "--data-binary", "@-", "-H", "Content-Type: application/timestamp-query", &url])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(request)?;
                child.wait_with_output()
            })
            .unwrap();
        Ok(out.stdout)
    };
    let mut request = signing(&alice);
    request.timestamp = Some(&send);
    let out = signed(&text_pdf("hyperref.pdf"), dir.path(), "stamped.pdf", &request);
    assert_eq!(tsa.requests(), 1);
    let hanko = pyhanko_validate(&out, &[&pki().root_pem]);
    assert_eq!(hanko[0]["valid"], true, "{hanko}");
    assert_eq!(hanko[0]["timestamp_valid"], true, "{hanko}");
    let report = verify(&out, &trust_store()).unwrap();
    let timestamp = report.signatures[0].timestamp.as_ref().expect("a time stamp");
    assert!(timestamp.intact && timestamp.trusted, "{timestamp:?}");
    assert_eq!(timestamp.authority.as_deref(), Some("ScanPro Test TSA"));
}

#[test]
fn signatures_made_by_pyhanko_are_verified() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pyhanko.pdf");
    let script = "import sys\nfrom pyhanko.sign import signers\nfrom pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter\n\
                  signer = signers.SimpleSigner.load(sys.argv[1], sys.argv[2])\n\
                  with open(sys.argv[3], 'rb') as f, open(sys.argv[4], 'wb') as out:\n\
                  \x20   w = IncrementalPdfFileWriter(f)\n\
                  \x20   signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name='Approval', reason='Checked'), signer=signer, output=out)\n";
    let status = std::process::Command::new(pyhanko_python())
        .args(["-c", script])
        .args([&pki().rsa_key_pem, &pki().rsa_cert_pem, &text_pdf("hyperref.pdf"), &out])
        .status()
        .expect("pyHanko's Python: run scripts/install-deps --test");
    assert!(status.success());
    let report = verify(&out, &trust_store()).unwrap();
    let signature = &report.signatures[0];
    // A document certified with no changes allowed is not signed again.
    let certified = dir.path().join("certified.pdf");
    let certify = script.replace(
        "PdfSignatureMetadata(field_name='Approval', reason='Checked')",
        "PdfSignatureMetadata(field_name='Approval', certify=True, \
         docmdp_permissions=__import__('pyhanko.sign.fields', fromlist=['MDPPerm']).MDPPerm.NO_CHANGES)",
    );
    let status = std::process::Command::new(pyhanko_python())
        .args(["-c", &certify])
        .args([&pki().rsa_key_pem, &pki().rsa_cert_pem, &text_pdf("hyperref.pdf"), &certified])
        .status()
        .unwrap();
    assert!(status.success());
    let alice = credentials(&pki().rsa_p12);
    let refused = sign(&certified, &dir.path().join("again.pdf"), &signing(&alice)).err().unwrap();
    assert_eq!(refused.code, ErrorCode::Conflict, "{refused:?}");
    assert_eq!(signature.field, "Approval");
    assert_eq!(signature.reason.as_deref(), Some("Checked"));
    assert!(signature.intact && signature.trusted && signature.covers_whole_document, "{signature:?}");
    assert!(signature.signing_time.is_some(), "{signature:?}");
}

#[test]
fn bad_certificates_and_documents_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let p12 = std::fs::read(&pki().rsa_p12).unwrap();
    let wrong = Credentials::from_pkcs12(&p12, "wrong").err().unwrap();
    assert_eq!(wrong.code, ErrorCode::WrongPassword, "{wrong:?}");
    let not_p12 = Credentials::from_pkcs12(b"%PDF-1.7 not a key", P12_PASSWORD).err().unwrap();
    assert_eq!(not_p12.code, ErrorCode::InvalidParams, "{not_p12:?}");
    // Legacy PKCS#12 encryption (RC2, 3DES) opens too.
    let legacy = credentials(&pki().legacy_p12);
    assert_eq!(legacy.signer_name(), "Alice Example");

    let alice = credentials(&pki().rsa_p12);
    let mut request = signing(&alice);
    request.visible = Some(Visible { page: 999, area: Some([10.0, 10.0, 100.0, 40.0]), text: None, image: None });
    let error = sign(&text_pdf("hyperref.pdf"), &dir.path().join("x.pdf"), &request).err().unwrap();
    assert!(error.message.contains("page 999"), "{error:?}");
    request.visible = Some(Visible { page: 1, area: Some([10.0, 10.0, 5000.0, 40.0]), text: None, image: None });
    let error = sign(&text_pdf("hyperref.pdf"), &dir.path().join("x.pdf"), &request).err().unwrap();
    assert_eq!(error.code, ErrorCode::InvalidParams, "{error:?}");
    request.visible = None;
    request.at = Utc::now() + chrono::Duration::days(3650);
    let error = sign(&text_pdf("hyperref.pdf"), &dir.path().join("x.pdf"), &request).err().unwrap();
    assert!(error.message.contains("expired"), "{error:?}");

    // A certificate chain that is a cycle is read once round, not followed for ever.
    let cyclic = credentials(&pki().cyclic_p12());
    assert_eq!(cyclic.signer_name(), "Cycle A");
    let out = signed(&text_pdf("hyperref.pdf"), dir.path(), "cycle.pdf", &signing(&cyclic));
    let report = verify(&out, &trust_store()).unwrap();
    assert!(report.signatures[0].intact && !report.signatures[0].trusted, "{report:?}");

    let plain = verify(&text_pdf("hyperref.pdf"), &trust_store()).unwrap();
    assert!(plain.signatures.is_empty());
    assert!(pdftotext(&text_pdf("hyperref.pdf")).len() > 100);
}

#[test]
fn a_certificate_issued_by_one_that_is_not_a_ca_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let rogue = credentials(&pki().rogue_p12());
    assert_eq!(rogue.signer_name(), "Chief Executive");
    let out = signed(&text_pdf("ghsystem-manual.pdf"), dir.path(), "rogue.pdf", &signing(&rogue));
    let report = verify(&out, &trust_store()).unwrap();
    let signature = &report.signatures[0];
    assert!(signature.intact && !signature.trusted, "{signature:?}");
    assert_eq!(report.valid, 0);
    let hanko = pyhanko_validate(&out, &[&pki().root_pem]);
    assert_eq!(hanko[0]["trusted"], false, "pyHanko agrees: {hanko}");
}

#[test]
fn fields_sharing_one_signature_count_it_once() {
    use lopdf::{IncrementalDocument, Object, dictionary};
    let dir = tempfile::tempdir().unwrap();
    let alice = credentials(&pki().rsa_p12);
    let out = signed(&text_pdf("ghsystem-manual.pdf"), dir.path(), "signed.pdf", &signing(&alice));
    let bytes = std::fs::read(&out).unwrap();
    let report = verify(&out, &trust_store()).unwrap();
    assert_eq!(report.valid, 1);

    // A later revision adds 50 fields whose value is that same signature.
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let form_id = doc.catalog().unwrap().get(b"AcroForm").unwrap().as_reference().unwrap();
    let fields = doc.get_dictionary(form_id).unwrap().get(b"Fields").unwrap().as_array().unwrap().clone();
    let first = doc.get_dictionary(fields[0].as_reference().unwrap()).unwrap();
    let value = first.get(b"V").unwrap().clone();
    let mut update = IncrementalDocument::create_from(bytes, doc);
    update.opt_clone_object_to_new_document(form_id).unwrap();
    let mut all = fields.clone();
    for n in 0..50 {
        let copy =
            dictionary! { "FT" => "Sig", "T" => Object::string_literal(format!("copy{n}")), "V" => value.clone() };
        all.push(Object::Reference(update.new_document.add_object(copy)));
    }
    update.new_document.get_dictionary_mut(form_id).unwrap().set("Fields", all);
    let copied = dir.path().join("copied.pdf");
    let mut written = Vec::new();
    update.save_to(&mut written).unwrap();
    std::fs::write(&copied, written).unwrap();
    let report = verify(&copied, &trust_store()).unwrap();
    assert_eq!(report.signatures.len(), 1, "{report:?}");
    assert_eq!(report.signatures[0].changes_after_signing, "unsigned");
    assert_eq!(report.valid, 0, "changes no signature covers: not valid");
}
