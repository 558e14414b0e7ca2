//! Gotenberg 8's API, as its documentation specifies it: routes, fields, defaults, statuses,
//! headers and output names, with outputs checked by qpdf and poppler; then a real Gotenberg
//! client library (Python's `gotenberg-client`) against `scanpro serve`, unchanged.

mod common;

use common::Server;
use scanpro_testkit::checkers::{page_count, pdfinfo, pdftotext, qpdf_check, rotations};
use scanpro_testkit::corpus::{corpus, text_pdf};
use std::io::Read;
use std::path::{Path, PathBuf};

fn part(path: &Path, name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(std::fs::read(path).unwrap()).file_name(name.to_owned())
}

async fn post(server: &Server, route: &str, form: reqwest::multipart::Form) -> reqwest::Response {
    post_with(server, route, form, &[]).await
}

/// [`post`] with request headers.
async fn post_with(
    server: &Server,
    route: &str,
    form: reqwest::multipart::Form,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(format!("{}{route}", server.base)).multipart(form);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// The response's body written to a file in `dir`.
async fn save(response: reqwest::Response, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, response.bytes().await.unwrap()).unwrap();
    path
}

fn disposition(response: &reqwest::Response) -> String {
    response.headers()[reqwest::header::CONTENT_DISPOSITION].to_str().unwrap().to_owned()
}

fn zip_names(path: &Path) -> Vec<String> {
    let archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut names: Vec<String> = archive.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    names
}

fn zip_entry(path: &Path, name: &str, dir: &Path) -> PathBuf {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut bytes = Vec::new();
    archive.by_name(name).unwrap().read_to_end(&mut bytes).unwrap();
    let out = dir.join(name);
    std::fs::write(&out, bytes).unwrap();
    out
}

#[tokio::test]
async fn health_and_version_answer_as_gotenberg() {
    let server = Server::start(&[]);
    let health = reqwest::get(format!("{}/health", server.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["cache-control"], "no-cache");
    assert!(health.headers().get("gotenberg-trace").is_none(), "no trace on /health");
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "up");
    assert_eq!(body["details"]["libreoffice"]["status"], "up");
    assert!(body["details"]["libreoffice"]["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["details"]["chromium"]["status"], "up", "{body}");

    let version = reqwest::get(format!("{}/version", server.base)).await.unwrap();
    assert_eq!(version.headers()["content-type"], "text/plain; charset=UTF-8");
    assert!(version.text().await.unwrap().starts_with("8."));
}

#[tokio::test]
async fn merge_takes_files_in_natural_order_and_names_the_result() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (three, one) = (text_pdf("ltnews17.pdf"), corpus("pdf-text/VisualPSTricks.pdf"));
    // page_10 sorts after page_2 naturally (before it as text).
    let form = reqwest::multipart::Form::new()
        .part("files", part(&one, "page_10.pdf"))
        .part("files", part(&three, "page_2.pdf"));
    let headers = [("Gotenberg-Trace", "trace-42"), ("Gotenberg-Output-Filename", "/tmp/../merged")];
    let response = post_with(&server, "/forms/pdfengines/merge", form, &headers).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["gotenberg-trace"], "trace-42");
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(disposition(&response).contains("merged.pdf"), "{}", disposition(&response));
    let merged = save(response, dir.path(), "merged.pdf").await;
    qpdf_check(&merged);
    assert_eq!(page_count(&merged), page_count(&three) + page_count(&one));
    let first_page = scanpro_testkit::checkers::page_text(&merged, 1);
    assert!(first_page.contains(&scanpro_testkit::checkers::page_text(&three, 1)[..20]), "page_2 first");

    // Without the header: a new UUID name, and a trace of its own.
    let form = reqwest::multipart::Form::new().part("files", part(&one, "one.pdf"));
    let response = post(&server, "/forms/pdfengines/merge", form).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["gotenberg-trace"].len(), 36);
    let name = disposition(&response);
    assert!(name.starts_with("attachment; filename=\"") && !name.contains("filename*"), "exactly as Gotenberg: {name}");
    assert!(name.contains(".pdf") && !name.contains("one.pdf"), "{name}");
}

#[tokio::test]
async fn form_errors_come_back_as_gotenberg_words_them() {
    let server = Server::start(&[]);
    let pdf = text_pdf("ltnews17.pdf");
    let cases = [
        ("/forms/pdfengines/merge", vec![], "Invalid form data: no form file found for extensions: [.pdf]"),
        (
            "/forms/pdfengines/merge",
            vec![("pdfua", "foo")],
            "Invalid form data: form field 'pdfua' is invalid (got 'foo'",
        ),
        ("/forms/pdfengines/split", vec![], "Invalid form data: form field 'splitMode' is required"),
        (
            "/forms/pdfengines/split",
            vec![("splitMode", "chunks"), ("splitSpan", "1")],
            "The requested split mode is not supported",
        ),
        ("/forms/pdfengines/encrypt", vec![], "Invalid form data: a 'userPassword' or 'ownerPassword' is required"),
        (
            "/forms/pdfengines/convert",
            vec![],
            "Invalid form data: either 'pdfa' or 'pdfua' form fields must be provided",
        ),
        ("/forms/pdfengines/rotate", vec![("rotateAngle", "45")], "form field 'rotateAngle' is invalid (got '45'"),
        ("/forms/pdfengines/metadata/write", vec![("metadata", "{nope")], "form field 'metadata' is invalid"),
        ("/forms/libreoffice/convert", vec![("landscape", "maybe")], "no form file found for extensions"),
    ];
    for (route, values, expected) in cases {
        // Merge without values gets a value and no file; LibreOffice gets a file it cannot take.
        let mut form = reqwest::multipart::Form::new().text("unrelated", "value");
        if !route.ends_with("merge") || !values.is_empty() {
            form = form.part("files", part(&pdf, if route.contains("libreoffice") { "in.exe" } else { "in.pdf" }));
        }
        for (name, value) in values {
            form = form.text(name, value);
        }
        let response = post(&server, route, form).await;
        assert_eq!(response.status(), 400, "{route}");
        assert_eq!(response.headers()["content-type"], "text/plain; charset=UTF-8");
        let body = response.text().await.unwrap();
        assert!(body.contains(expected), "{route}: {body}");
    }
    // A body that is not multipart.
    let response = reqwest::Client::new()
        .post(format!("{}/forms/pdfengines/merge", server.base))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert!(response.text().await.unwrap().contains("want 'multipart/form-data'"));
}

#[tokio::test]
async fn split_rotate_encrypt_and_convert_work_on_pdfs() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let pdf = text_pdf("ltnews17.pdf");
    let pages = page_count(&pdf);

    let form = reqwest::multipart::Form::new()
        .part("files", part(&pdf, "news.pdf"))
        .text("splitMode", "intervals")
        .text("splitSpan", "1");
    let response = post(&server, "/forms/pdfengines/split", form).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let zip = save(response, dir.path(), "parts.zip").await;
    assert!(pages >= 2, "a document of several pages");
    let expected: Vec<String> = (0..pages).map(|i| format!("news_{i}.pdf")).collect();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(zip_names(&zip), expected_sorted);
    assert_eq!(page_count(&zip_entry(&zip, "news_0.pdf", dir.path())), 1);

    let form = reqwest::multipart::Form::new()
        .part("files", part(&pdf, "news.pdf"))
        .text("splitMode", "pages")
        .text("splitSpan", "2-")
        .text("splitUnify", "true");
    let response = post(&server, "/forms/pdfengines/split", form).await;
    assert_eq!(response.status(), 200);
    assert!(disposition(&response).contains("news.pdf"));
    assert_eq!(page_count(&save(response, dir.path(), "unified.pdf").await), pages - 1);

    let form = reqwest::multipart::Form::new()
        .part("files", part(&pdf, "news.pdf"))
        .text("rotateAngle", "90")
        .text("rotatePages", "1");
    let response = post(&server, "/forms/pdfengines/rotate", form).await;
    assert_eq!(response.status(), 200);
    assert!(disposition(&response).contains("news.pdf"), "changed in place, its name kept");
    let rotated = save(response, dir.path(), "rotated.pdf").await;
    assert_eq!(rotations(&rotated)[0], 90);
    assert_eq!(rotations(&rotated)[1], 0);

    let form = reqwest::multipart::Form::new()
        .part("files", part(&pdf, "news.pdf"))
        .text("userPassword", "open sesame")
        .text("allowPrinting", "false");
    let response = post(&server, "/forms/pdfengines/encrypt", form).await;
    assert_eq!(response.status(), 200);
    let locked = save(response, dir.path(), "locked.pdf").await;
    let info = std::process::Command::new("qpdf").arg("--show-encryption").arg(&locked).output().unwrap();
    assert!(!info.status.success() || String::from_utf8_lossy(&info.stdout).contains("password"), "needs a password");
    let opened = std::process::Command::new("qpdf")
        .args(["--password=open sesame", "--show-encryption"])
        .arg(&locked)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&opened.stdout);
    assert!(shown.contains("print low resolution: not allowed") || shown.contains("print: not allowed"), "{shown}");

    let form = reqwest::multipart::Form::new().part("files", part(&pdf, "news.pdf")).text("pdfa", "PDF/A-2b");
    let response = post(&server, "/forms/pdfengines/convert", form).await;
    assert_eq!(response.status(), 200);
    let archived = save(response, dir.path(), "archived.pdf").await;
    let meta = std::process::Command::new("pdfinfo").arg("-meta").arg(&archived).output().unwrap();
    assert!(String::from_utf8_lossy(&meta.stdout).contains("pdfaid:part"), "a PDF/A identification");

    let form = reqwest::multipart::Form::new()
        .part("files", part(&pdf, "news.pdf"))
        .text("metadata", r#"{"Title":"Quarterly","Author":"Ada","Keywords":["a","b"]}"#);
    let response = post(&server, "/forms/pdfengines/metadata/write", form).await;
    assert_eq!(response.status(), 200);
    let described = pdfinfo(&save(response, dir.path(), "described.pdf").await, &[]);
    assert!(described.contains("Quarterly") && described.contains("Ada"), "{described}");

    // Read back as Gotenberg answers: ExifTool's tag names, per uploaded file name.
    let described = dir.path().join("described.pdf");
    let form = reqwest::multipart::Form::new()
        .part("files", part(&described, "described.pdf"))
        .part("files", part(&pdf, "plain.pdf"));
    let response = post(&server, "/forms/pdfengines/metadata/read", form).await;
    assert_eq!(response.status(), 200);
    let read: serde_json::Value = response.json().await.unwrap();
    assert_eq!(read["described.pdf"]["Title"], "Quarterly");
    assert_eq!(read["described.pdf"]["Author"], "Ada");
    assert_eq!(read["plain.pdf"]["PageCount"], pages);
    assert!(read["plain.pdf"]["PDFVersion"].is_number(), "{read}");
}

#[tokio::test]
async fn fields_read_as_gotenberg_parses_them() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let pdf = text_pdf("ltnews17.pdf");
    let docx = corpus("docx/heading123.docx");
    // `1` is Go's `true`: a field at its default, however written, is no request.
    let form = reqwest::multipart::Form::new()
        .part("files", part(&docx, "a.docx"))
        .text("exportFormFields", "1")
        .text("quality", "90");
    assert_eq!(post(&server, "/forms/libreoffice/convert", form).await.status(), 200);
    let form = reqwest::multipart::Form::new().part("files", part(&docx, "a.docx")).text("quality", "0");
    let refused = post(&server, "/forms/libreoffice/convert", form).await;
    assert_eq!(refused.status(), 400, "a quality Gotenberg refuses");

    // Split takes the post-processing fields: its parts come back encrypted.
    let form = reqwest::multipart::Form::new()
        .part("files", part(&pdf, "news.pdf"))
        .text("splitMode", "pages")
        .text("splitSpan", "1")
        .text("splitUnify", "true")
        .text("userPassword", "secret");
    let response = post(&server, "/forms/pdfengines/split", form).await;
    assert_eq!(response.status(), 200);
    let part_pdf = save(response, dir.path(), "part.pdf").await;
    let opened = std::process::Command::new("pdfinfo").arg(&part_pdf).output().unwrap();
    assert!(!opened.status.success(), "the part needs its password");
    let unlocked = std::process::Command::new("pdfinfo").args(["-upw", "secret"]).arg(&part_pdf).output().unwrap();
    assert!(
        String::from_utf8_lossy(&unlocked.stdout).lines().any(|l| l.starts_with("Encrypted:") && l.contains("yes"))
    );

    // `pdfua=false` alone asks for nothing.
    let form = reqwest::multipart::Form::new().part("files", part(&pdf, "a.pdf")).text("pdfua", "false");
    let response = post(&server, "/forms/pdfengines/convert", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("either 'pdfa' or 'pdfua' form fields must be provided"));

    // PDF/A cannot be encrypted.
    let form = reqwest::multipart::Form::new()
        .part("files", part(&pdf, "a.pdf"))
        .text("pdfa", "PDF/A-2b")
        .text("userPassword", "secret");
    let response = post(&server, "/forms/pdfengines/merge", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("PDF/A format is incompatible with encryption"));
}

#[tokio::test]
async fn flatten_draws_the_form_into_its_page() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let form_pdf = corpus("pdf-text/pdfjs_issue15096.pdf");
    assert!(pdfinfo(&form_pdf, &[]).contains("AcroForm"), "the corpus document has a form");
    let form = reqwest::multipart::Form::new().part("files", part(&form_pdf, "form.pdf"));
    let response = post(&server, "/forms/pdfengines/flatten", form).await;
    assert_eq!(response.status(), 200);
    assert!(disposition(&response).contains("form.pdf"), "flattened in place, its name kept");
    let flat = save(response, dir.path(), "flat.pdf").await;
    qpdf_check(&flat);
    let info = pdfinfo(&flat, &[]);
    assert!(info.lines().any(|l| l.starts_with("Form:") && l.ends_with("none")), "{info}");
    assert_eq!(page_count(&flat), page_count(&form_pdf));

    // As a post-processing field of merge, too.
    let form = reqwest::multipart::Form::new().part("files", part(&form_pdf, "form.pdf")).text("flatten", "true");
    let response = post(&server, "/forms/pdfengines/merge", form).await;
    assert_eq!(response.status(), 200);
    let info = pdfinfo(&save(response, dir.path(), "merged.pdf").await, &[]);
    assert!(info.lines().any(|l| l.starts_with("Form:") && l.ends_with("none")), "{info}");
}

#[tokio::test]
async fn libreoffice_converts_one_several_or_merged() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let docx = corpus("docx/heading123.docx");

    let form = reqwest::multipart::Form::new().part("files", part(&docx, "report.docx"));
    let response = post(&server, "/forms/libreoffice/convert", form).await;
    assert_eq!(response.status(), 200);
    let pdf = save(response, dir.path(), "report.pdf").await;
    qpdf_check(&pdf);
    assert!(pdftotext(&pdf).contains("First paragraph"));

    // PDF/UA, from LibreOffice's own export: tagged, and identified as PDF/UA-1.
    let form = reqwest::multipart::Form::new().part("files", part(&docx, "report.docx")).text("pdfua", "true");
    let response = post(&server, "/forms/libreoffice/convert", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let accessible = save(response, dir.path(), "accessible.pdf").await;
    qpdf_check(&accessible);
    assert!(pdfinfo(&accessible, &[]).contains("Tagged:          yes"));
    assert!(pdfinfo(&accessible, &["-meta"]).contains("<pdfuaid:part>1</pdfuaid:part>"));

    let form = reqwest::multipart::Form::new()
        .part("files", part(&docx, "page_2.docx"))
        .part("files", part(&docx, "page_1.docx"));
    let response = post(&server, "/forms/libreoffice/convert", form).await;
    assert_eq!(response.status(), 200);
    let zip = save(response, dir.path(), "both.zip").await;
    assert_eq!(zip_names(&zip), ["page_1.docx.pdf", "page_2.docx.pdf"]);

    let form = reqwest::multipart::Form::new()
        .part("files", part(&docx, "a.docx"))
        .part("files", part(&docx, "b.docx"))
        .text("merge", "true")
        .text("landscape", "true");
    let response = post(&server, "/forms/libreoffice/convert", form).await;
    assert_eq!(response.status(), 200);
    let merged = save(response, dir.path(), "merged.pdf").await;
    assert_eq!(page_count(&merged), 2);
}

/// The catalog of `pdf` as qpdf writes it uncompressed, for its viewer settings.
fn catalog_text(pdf: &Path) -> String {
    let output = std::process::Command::new("qpdf").arg("--show-object=trailer").arg(pdf).output().unwrap();
    let trailer = String::from_utf8_lossy(&output.stdout).into_owned();
    let root = trailer.split("/Root ").nth(1).and_then(|rest| rest.split(" 0 R").next()).unwrap().trim().to_owned();
    let output = std::process::Command::new("qpdf").arg(format!("--show-object={root}")).arg(pdf).output().unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn libreoffice_export_options_reach_the_pdf() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let docx = corpus("docx/heading123.docx");
    let convert = |fields: &[(&'static str, &'static str)], input: &Path, name: &str| {
        let mut form = reqwest::multipart::Form::new().part("files", part(input, name));
        for (field, value) in fields {
            form = form.text(*field, *value);
        }
        post(&server, "/forms/libreoffice/convert", form)
    };

    // LibreOffice's own watermark and viewer settings.
    let response = convert(
        &[
            ("nativeWatermarkText", "SCANPRO-DRAFT"),
            ("nativeWatermarkColor", "16711680"),
            ("initialView", "2"),
            ("pageLayout", "2"),
            ("hideViewerToolbar", "true"),
            ("openInFullScreenMode", "true"),
        ],
        &docx,
        "report.docx",
    )
    .await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let pdf = save(response, dir.path(), "marked.pdf").await;
    qpdf_check(&pdf);
    assert!(pdftotext(&pdf).contains("SCANPRO-DRAFT"), "the watermark is text on the page");
    let catalog = catalog_text(&pdf);
    assert!(catalog.contains("/PageMode /FullScreen"), "{catalog}");
    assert!(catalog.contains("/PageLayout /OneColumn"), "{catalog}");
    assert!(catalog.contains("/HideToolbar true"), "{catalog}");

    // PDF/A natively by LibreOffice, or afterwards by Ghostscript when nativePdfFormats is false.
    for native in ["true", "false"] {
        let response = convert(&[("pdfa", "PDF/A-2b"), ("nativePdfFormats", native)], &docx, "report.docx").await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let pdf = save(response, dir.path(), &format!("pdfa-{native}.pdf")).await;
        let meta = pdfinfo(&pdf, &["-meta"]);
        assert!(meta.contains("pdfaid:part") && meta.contains('2'), "{meta}");
        let producer = pdfinfo(&pdf, &[]);
        assert_eq!(producer.contains("GPL Ghostscript"), native == "false", "{producer}");
    }

    // A document that needs a password opens with it, and a wrong one is named. The document is
    // encrypted here by msoffcrypto-tool (`scripts/install-deps --test`), as Office encrypts it.
    let locked = dir.path().join("locked.docx");
    let status = std::process::Command::new(installed("msoffcrypto/bin/msoffcrypto-tool"))
        .args(["-e", "-p", "s3cret"])
        .arg(&docx)
        .arg(&locked)
        .status()
        .unwrap();
    assert!(status.success());
    let response = convert(&[], &locked, "locked.docx").await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("password-protected"));
    let response = convert(&[("password", "s3cret")], &locked, "locked.docx").await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let opened = save(response, dir.path(), "opened.pdf").await;
    qpdf_check(&opened);
    assert!(pdftotext(&opened).contains("First paragraph"));
    let response = convert(&[("password", "wrong")], &locked, "locked.docx").await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("password does not open the document"));

    // Values Gotenberg refuses are refused with its words.
    for (field, value, why) in [
        ("quality", "0", "value is inferior to 1"),
        ("maxImageResolution", "100", "value is not 75, 150, 300, 600 or 1200"),
        ("initialView", "7", "value is not 0, 1 or 2"),
        ("openBookmarkLevels", "11", "value is not -1 or between 1 and 10"),
        ("zoom", "many", "strconv.Atoi: parsing \"many\": invalid syntax"),
    ] {
        let response = convert(&[(field, value)], &docx, "report.docx").await;
        assert_eq!(response.status(), 400, "{field}={value}");
        let text = response.text().await.unwrap();
        assert!(
            text.contains(&format!("form field '{field}' is invalid (got '{value}', resulting to {why})")),
            "{text}"
        );
    }

    // PDF/UA needs the tags LibreOffice writes while converting; afterwards they are gone.
    let response = convert(&[("pdfua", "true"), ("nativePdfFormats", "false")], &docx, "report.docx").await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("form field 'pdfua' is invalid"));
}

#[tokio::test]
async fn pdfua_comes_from_chromium_and_from_tagged_pdfs() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let page = |head: &str| {
        format!(
            "<!doctype html><html lang=\"en\"><head>{head}</head><body><h1>Invoice</h1><p>Total due</p><table><tr><th>Item</th></tr><tr><td>Paper</td></tr></table></body></html>"
        )
    };
    let titled = "<title>Invoice 42</title>";
    let html = |text: String| reqwest::multipart::Part::text(text).file_name("index.html");

    let form = reqwest::multipart::Form::new().part("files", html(page(titled))).text("pdfua", "true");
    let response = post(&server, "/forms/chromium/convert/html", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let accessible = save(response, dir.path(), "accessible.pdf").await;
    qpdf_check(&accessible);
    let info = pdfinfo(&accessible, &[]);
    assert!(info.contains("Tagged:          yes") && info.contains("Invoice 42"), "{info}");
    assert!(pdfinfo(&accessible, &["-meta"]).contains("<pdfuaid:part>1</pdfuaid:part>"));
    assert!(catalog_text(&accessible).contains("/DisplayDocTitle true"));
    let structure = pdfinfo(&accessible, &["-struct"]);
    assert!(structure.contains("Table") && structure.contains("H1"), "{structure}");

    // No title, no PDF/UA: the page is named as the reason.
    let form = reqwest::multipart::Form::new().part("files", html(page(""))).text("pdfua", "true");
    let response = post(&server, "/forms/chromium/convert/html", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("has no title"));

    // PDF/A after Chromium drops the tags, so both together are refused.
    let form = reqwest::multipart::Form::new()
        .part("files", html(page(titled)))
        .text("pdfua", "true")
        .text("pdfa", "PDF/A-2b");
    let response = post(&server, "/forms/chromium/convert/html", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("form field 'pdfua' is invalid"));

    // A PDF tagged by LibreOffice is identified; an untagged one is refused, never marked.
    let tagged = corpus("pdf-text/ocrmypdf_tagged.pdf");
    let form = reqwest::multipart::Form::new().part("files", part(&tagged, "tagged.pdf")).text("pdfua", "true");
    let response = post(&server, "/forms/pdfengines/convert", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let identified = save(response, dir.path(), "identified.pdf").await;
    qpdf_check(&identified);
    assert!(pdfinfo(&identified, &["-meta"]).contains("pdfuaid"));
    assert_eq!(page_count(&identified), page_count(&tagged));
    let form = reqwest::multipart::Form::new()
        .part("files", part(&text_pdf("ltnews17.pdf"), "plain.pdf"))
        .text("pdfua", "true");
    let response = post(&server, "/forms/pdfengines/convert", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("not tagged"));
}

/// `scripts/install-deps --test` makes this venv.
fn client_python() -> PathBuf {
    installed("gotenberg-client/bin/python")
}

/// A program `scripts/install-deps --test` installs under `~/.cache/scanpro`.
fn installed(path: &str) -> PathBuf {
    let cache = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache"));
    let program = cache.join("scanpro").join(path);
    assert!(program.exists(), "{} is missing: run scripts/install-deps --test", program.display());
    program
}

#[tokio::test]
async fn a_real_gotenberg_client_works_unchanged() {
    let server =
        Server::start(&[("SCANPRO_CHROMIUM_ALLOW_REMOTE", "true"), ("SCANPRO_CHROMIUM_ALLOW_PRIVATE_HOSTS", "true")]);
    let (port, _) = common::serve_page("<!DOCTYPE html><html><body><h1>Remote page for the client</h1></body></html>");
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gotenberg_client_run.py");
    let out = tokio::process::Command::new(client_python())
        .arg(script)
        .arg(&server.base)
        .arg(dir.path())
        .arg(text_pdf("ltnews17.pdf"))
        .arg(corpus("pdf-text/VisualPSTricks.pdf"))
        .arg(corpus("docx/heading123.docx"))
        .arg(format!("http://127.0.0.1:{port}/page.html"))
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "the client failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = dir.path().join("merged.pdf");
    qpdf_check(&merged);
    assert_eq!(
        page_count(&merged),
        page_count(&text_pdf("ltnews17.pdf")) + page_count(&corpus("pdf-text/VisualPSTricks.pdf"))
    );
    let converted = dir.path().join("converted.pdf");
    assert!(pdftotext(&converted).contains("First paragraph"));
    let parts = dir.path().join("split.zip");
    assert!(zip_names(&parts).len() >= 2);
    let encrypted = dir.path().join("encrypted.pdf");
    assert!(scanpro_testkit::checkers::qpdf_show_encryption(&encrypted, Some("open-sesame")).contains("R = "));
    for (name, expected) in [
        ("html.pdf", "Invoice from HTML"),
        ("markdown.pdf", "Minutes from Markdown"),
        ("url.pdf", "Remote page for the client"),
    ] {
        let pdf = dir.path().join(name);
        qpdf_check(&pdf);
        assert!(pdftotext(&pdf).contains(expected), "{name}: {}", pdftotext(&pdf));
    }
    let html = dir.path().join("html.pdf");
    assert!(pdftotext(&html).contains("Footer text"));
    assert!(scanpro_testkit::checkers::page_sizes(&html)[0].ends_with("(A4)"));
    let shot = image::open(dir.path().join("shot.png")).unwrap();
    assert_eq!((shot.width(), shot.height()), (640, 480));
}

#[tokio::test]
async fn without_guest_access_a_call_needs_credentials() {
    let server = Server::start(&[("SCANPRO_GUEST_ACCESS", "false")]);
    let form = reqwest::multipart::Form::new().part("files", part(&text_pdf("ltnews17.pdf"), "a.pdf"));
    let response = post(&server, "/forms/pdfengines/merge", form).await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "basic realm=Restricted");
    assert_eq!(response.text().await.unwrap(), "Unauthorized");
    // Health stays open, as Gotenberg's does.
    assert_eq!(reqwest::get(format!("{}/health", server.base)).await.unwrap().status(), 200);

    // An account's API key as the Basic password, as a Gotenberg client configured for basic
    // authentication sends it.
    let http = reqwest::Client::new();
    let credentials = serde_json::json!({"email": "ada@example.com", "password": "correct horse battery staple"});
    let registered =
        http.post(format!("{}/api/v1/auth/register", server.base)).json(&credentials).send().await.unwrap();
    assert_eq!(registered.status(), 201);
    let tokens: serde_json::Value = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&credentials)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key: serde_json::Value = http
        .post(format!("{}/api/v1/api-keys", server.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .json(&serde_json::json!({"name": "gotenberg"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["key"].as_str().unwrap();
    let call = |password: &str| {
        let form = reqwest::multipart::Form::new().part("files", part(&text_pdf("ltnews17.pdf"), "a.pdf"));
        http.post(format!("{}/forms/pdfengines/merge", server.base))
            .basic_auth("gotenberg", Some(password))
            .multipart(form)
            .send()
    };
    assert_eq!(call(key).await.unwrap().status(), 200);
    assert_eq!(call("sk_not-a-key").await.unwrap().status(), 401);
}

#[tokio::test]
async fn what_scanpro_cannot_honour_is_refused() {
    let server = Server::start(&[]);
    let pdf = text_pdf("ltnews17.pdf");
    let form = reqwest::multipart::Form::new()
        .part("files", part(&pdf, "a.pdf"))
        .text("downloadFrom", r#"[{"url":"http://127.0.0.1:1/x.pdf"}]"#);
    let response = post(&server, "/forms/pdfengines/merge", form).await;
    assert_eq!(response.status(), 403, "downloads from internal addresses are refused");
    assert_eq!(response.text().await.unwrap(), "Forbidden");

    let form = reqwest::multipart::Form::new().part("files", part(&pdf, "a.pdf")).text("pdfa", "PDF/A-1a");
    let response = post(&server, "/forms/pdfengines/convert", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("form field 'pdfa' is invalid (got 'PDF/A-1a'"));
}

#[tokio::test]
async fn hostile_forms_and_documents_are_refused_cleanly() {
    let server = Server::start(&[("SCANPRO_MAX_JSON_KB", "16")]);
    // Values past the bound, however they are split into parts.
    let mut form = reqwest::multipart::Form::new().part("files", part(&text_pdf("ltnews17.pdf"), "a.pdf"));
    for index in 0..40 {
        form = form.text(format!("field{index}"), "x".repeat(1024));
    }
    let response = post(&server, "/forms/pdfengines/merge", form).await;
    assert_eq!(response.status(), 413);
    assert!(response.text().await.unwrap().starts_with("The request body exceeds"));

    // A file that only claims to be a PDF: the form's fault, named, never a 500.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake.pdf");
    std::fs::write(&fake, b"%PDF-1.7 this is not a PDF at all").unwrap();
    for route in ["/forms/pdfengines/merge", "/forms/pdfengines/flatten", "/forms/pdfengines/metadata/read"] {
        let form = reqwest::multipart::Form::new().part("files", part(&fake, "fake.pdf"));
        let response = post(&server, route, form).await;
        assert_eq!(response.status(), 400, "{route}");
        assert_eq!(response.headers()["content-type"], "text/plain; charset=UTF-8", "{route}");
        assert!(!response.text().await.unwrap().is_empty(), "{route}");
    }
}

fn text_part(text: &str, name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(text.as_bytes().to_vec()).file_name(name.to_owned())
}

const PAGE: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Invoice</title><link rel="stylesheet" href="style.css"></head>
<body><h1>Invoice 42</h1><h1 class="next">Terms</h1></body></html>"#;

#[tokio::test]
async fn chromium_routes_convert_and_screenshot_as_gotenberg() {
    let server = Server::start(&[]);
    let temp = tempfile::tempdir().unwrap();
    let form = reqwest::multipart::Form::new()
        .part("files", text_part(PAGE, "index.html"))
        .part("files", text_part(".next { break-before: page }", "style.css"))
        .part("files", text_part("<html><body><p style='font-size:10px'>Acme header</p></body></html>", "header.html"))
        .part(
            "files",
            text_part(
                "<html><body><p style='font-size:10px'>Folio <span class='pageNumber'></span></p></body></html>",
                "footer.html",
            ),
        )
        .text("paperWidth", "8.27")
        .text("paperHeight", "11.7")
        .text("marginLeft", "1in")
        .text("marginTop", "1in")
        .text("marginBottom", "1in")
        .text("nativePageRanges", "1");
    let response = post(&server, "/forms/chromium/convert/html", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(disposition(&response).ends_with(".pdf\""));
    assert!(response.headers().contains_key("gotenberg-trace"));
    let pdf = save(response, temp.path(), "html.pdf").await;
    qpdf_check(&pdf);
    assert_eq!(page_count(&pdf), 1, "nativePageRanges 1");
    let sizes = scanpro_testkit::checkers::page_sizes(&pdf);
    assert!(sizes[0].ends_with("(A4)"), "A4: {sizes:?}");
    let text = pdftotext(&pdf);
    assert!(text.contains("Invoice 42") && !text.contains("Terms"), "{text}");
    assert!(text.contains("Acme header") && text.contains("Folio 1"), "header.html and footer.html: {text}");

    let missing = post(
        &server,
        "/forms/chromium/convert/html",
        reqwest::multipart::Form::new().part("files", text_part(PAGE, "page.html")),
    )
    .await;
    assert_eq!(missing.status(), 400);
    assert_eq!(missing.text().await.unwrap(), "Invalid form data: form file 'index.html' is required");

    // Markdown: a Go template calling toHTML.
    let template = "<!DOCTYPE html><html><body>{{ toHTML \"notes.md\" }}</body></html>";
    let form = reqwest::multipart::Form::new()
        .part("files", text_part(template, "index.html"))
        .part("files", text_part("# Minutes\n\n* **bold** point\n", "notes.md"));
    let pdf = save(post(&server, "/forms/chromium/convert/markdown", form).await, temp.path(), "md.pdf").await;
    let text = pdftotext(&pdf);
    assert!(text.contains("Minutes") && text.contains("bold point") && !text.contains("**"), "{text}");
    let form = reqwest::multipart::Form::new()
        .part("files", text_part("<html><body>{{ toHTML \"gone.md\" }}</body></html>", "index.html"))
        .part("files", text_part("# other", "other.md"));
    let refused = post(&server, "/forms/chromium/convert/markdown", form).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("Markdown file(s) not found: 'gone.md'"));

    // Screenshots.
    let form = reqwest::multipart::Form::new()
        .part("files", text_part(PAGE, "index.html"))
        .text("format", "jpeg")
        .text("width", "500")
        .text("height", "400")
        .text("clip", "true");
    let response = post(&server, "/forms/chromium/screenshot/html", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert!(disposition(&response).ends_with(".jpeg\""), "{}", disposition(&response));
    let image = image::load_from_memory(&response.bytes().await.unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (500, 400));

    // Failures as Gotenberg words them.
    let form = reqwest::multipart::Form::new()
        .part(
            "files",
            text_part("<html><body><p>x</p><script>throw new Error('boom')</script></body></html>", "index.html"),
        )
        .text("failOnConsoleExceptions", "true");
    let response = post(&server, "/forms/chromium/convert/html", form).await;
    assert_eq!(response.status(), 409);
    assert!(response.text().await.unwrap().contains("Chromium console exceptions"));
    let form = reqwest::multipart::Form::new().part("files", text_part(PAGE, "index.html")).text("waitDelay", "soon");
    let response = post(&server, "/forms/chromium/convert/html", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("form field 'waitDelay' is invalid"));
    let url = reqwest::multipart::Form::new().text("url", "file:///etc/passwd");
    assert_eq!(post(&server, "/forms/chromium/convert/url", url).await.status(), 400);
    let url = reqwest::multipart::Form::new().text("url", "https://example.com");
    let response = post(&server, "/forms/chromium/convert/url", url).await;
    assert_eq!(response.status(), 403, "remote fetches are off by default");
    assert_eq!(response.text().await.unwrap(), "Forbidden");

    // PDF/A after rendering, through Ghostscript.
    let form = reqwest::multipart::Form::new().part("files", text_part(PAGE, "index.html")).text("pdfa", "PDF/A-2b");
    let pdf = save(post(&server, "/forms/chromium/convert/html", form).await, temp.path(), "pdfa.pdf").await;
    qpdf_check(&pdf);
    let meta = pdfinfo(&pdf, &["-meta"]);
    assert!(meta.contains("pdfaid:part") && meta.contains('2'), "{meta}");
}

#[tokio::test]
async fn embed_attaches_files_to_every_pdf() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let invoice = "<?xml version=\"1.0\"?><invoice><total>42.00</total></invoice>";
    let form = reqwest::multipart::Form::new()
        .part("files", part(&text_pdf("ltnews17.pdf"), "news.pdf"))
        .part("embeds", reqwest::multipart::Part::bytes(invoice.as_bytes().to_vec()).file_name("invoice.xml"))
        .part("embeds", reqwest::multipart::Part::bytes(b"plain notes".to_vec()).file_name("notes.txt"))
        .text("embedsMetadata", r#"{"invoice.xml":{"mimeType":"text/xml","relationship":"Data"}}"#);
    let response = post(&server, "/forms/pdfengines/embed", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    assert!(disposition(&response).contains("news.pdf"), "changed in place, its name kept");
    let pdf = save(response, dir.path(), "news.pdf").await;
    qpdf_check(&pdf);
    assert_eq!(page_count(&pdf), page_count(&text_pdf("ltnews17.pdf")));
    let listed = scanpro_testkit::checkers::stdout("pdfdetach", [Path::new("-list"), &pdf]);
    assert!(
        listed.contains("2 embedded files") && listed.contains("invoice.xml") && listed.contains("notes.txt"),
        "{listed}"
    );
    let saved = dir.path().join("saved.xml");
    scanpro_testkit::checkers::run(
        "pdfdetach",
        [Path::new("-savefile"), Path::new("invoice.xml"), Path::new("-o"), &saved, &pdf],
    );
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), invoice);
    let described =
        scanpro_testkit::checkers::stdout("qpdf", [Path::new("--list-attachments"), Path::new("--verbose"), &pdf]);
    assert!(described.contains("text/xml"), "{described}");

    let form = reqwest::multipart::Form::new().part("files", part(&text_pdf("ltnews17.pdf"), "news.pdf"));
    let refused = post(&server, "/forms/pdfengines/embed", form).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("form file field 'embeds' is required"));
}

#[tokio::test]
async fn webhook_calls_answer_204_and_deliver_the_result_later() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = Server::start(&[("SCANPRO_WEBHOOK_ALLOW_PRIVATE_HOSTS", "true")]);
    let dir = tempfile::tempdir().unwrap();
    let success = format!("{base}/success");
    let error = format!("{base}/error");
    let events = format!("{base}/events");
    let hook_headers = [
        ("Gotenberg-Webhook-Url", success.as_str()),
        ("Gotenberg-Webhook-Error-Url", error.as_str()),
        ("Gotenberg-Webhook-Events-Url", events.as_str()),
        ("Gotenberg-Webhook-Method", "put"),
        ("Gotenberg-Webhook-Extra-Http-Headers", r#"{"X-Custom":"yes"}"#),
        ("Gotenberg-Trace", "trace-42"),
    ];
    let one = text_pdf("ltnews17.pdf");
    let form = reqwest::multipart::Form::new().part("files", part(&one, "a.pdf")).part("files", part(&one, "b.pdf"));
    let response = post_with(&server, "/forms/pdfengines/merge", form, &hook_headers).await;
    assert_eq!(response.status(), 204, "{:?}", response.text().await);
    let (line, headers, body) = common::receive_one(&listener).await;
    assert!(line.starts_with("PUT /success "), "{line}");
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-custom"], "yes");
    assert_eq!(headers["user-agent"], "Gotenberg");
    assert_eq!(headers["gotenberg-trace"], "trace-42");
    assert!(headers["content-disposition"].starts_with("attachment; filename=\""), "{headers:?}");
    let merged = dir.path().join("merged.pdf");
    std::fs::write(&merged, body).unwrap();
    qpdf_check(&merged);
    assert_eq!(page_count(&merged), 2 * page_count(&one));
    let (line, _, body) = common::receive_one(&listener).await;
    assert!(line.starts_with("POST /events "), "{line}");
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((event["event"].as_str(), event["correlationId"].as_str()), (Some("webhook.success"), Some("trace-42")));

    // A failure goes to the error URL, as the synchronous call would have answered it.
    let fake = dir.path().join("fake.pdf");
    std::fs::write(&fake, b"not a pdf at all").unwrap();
    let form = reqwest::multipart::Form::new().part("files", part(&fake, "fake.pdf"));
    let response = post_with(&server, "/forms/pdfengines/flatten", form, &hook_headers).await;
    assert_eq!(response.status(), 204);
    let (line, headers, body) = common::receive_one(&listener).await;
    assert!(line.starts_with("POST /error "), "{line}");
    assert_eq!(headers["content-type"], "application/json");
    let failure: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(failure["status"], 400, "{failure}");
    assert!(failure["message"].as_str().unwrap().contains("fake.pdf"), "{failure}");
    let (line, _, body) = common::receive_one(&listener).await;
    assert!(line.starts_with("POST /events "), "{line}");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["event"], "webhook.error");

    // Headers Gotenberg refuses.
    let form = || reqwest::multipart::Form::new().part("files", part(&one, "a.pdf"));
    let alone =
        post_with(&server, "/forms/pdfengines/merge", form(), &[("Gotenberg-Webhook-Url", success.as_str())]).await;
    assert_eq!(alone.status(), 400);
    assert!(alone.text().await.unwrap().starts_with("At least one of 'Gotenberg-Webhook-Error-Url'"));
    let bad_method = [
        ("Gotenberg-Webhook-Url", success.as_str()),
        ("Gotenberg-Webhook-Error-Url", error.as_str()),
        ("Gotenberg-Webhook-Method", "GET"),
    ];
    let refused = post_with(&server, "/forms/pdfengines/merge", form(), &bad_method).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.text().await.unwrap(),
        "Invalid 'Gotenberg-Webhook-Method' header value: expected 'POST', 'PATCH' or 'PUT', but got 'GET'"
    );
    // Internal callback addresses are refused where private hosts are not allowed.
    let strict = Server::start(&[]);
    let internal = [("Gotenberg-Webhook-Url", success.as_str()), ("Gotenberg-Webhook-Error-Url", error.as_str())];
    let refused = post_with(&strict, "/forms/pdfengines/merge", form(), &internal).await;
    assert_eq!(refused.status(), 403);
}

/// Serves `pdf` at `/named.pdf` with a `Content-Disposition`, the same bytes at `/anonymous.pdf`
/// without one, and `404` elsewhere.
async fn serve_downloads(pdf: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let pdf = pdf.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 8192];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..n]).into_owned();
                assert!(request.to_ascii_lowercase().contains("user-agent: gotenberg"), "{request}");
                let (status, disposition, body) = if request.starts_with("GET /named.pdf ") {
                    ("200 OK", "content-disposition: attachment; filename=\"0-downloaded.pdf\"\r\n", pdf)
                } else if request.starts_with("GET /anonymous.pdf ") {
                    ("200 OK", "", pdf)
                } else {
                    ("404 Not Found", "", b"missing".to_vec())
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/pdf\r\n{disposition}content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    base
}

#[tokio::test]
async fn download_from_fetches_files_as_uploads() {
    let one = text_pdf("ltnews17.pdf");
    let base = serve_downloads(std::fs::read(&one).unwrap()).await;
    let server = Server::start(&[("SCANPRO_WEBHOOK_ALLOW_PRIVATE_HOSTS", "true")]);
    let dir = tempfile::tempdir().unwrap();
    let entries = format!(r#"[{{"url":"{base}/named.pdf","extraHttpHeaders":{{"X-Token":"t"}}}}]"#);
    let form =
        reqwest::multipart::Form::new().part("files", part(&one, "1-uploaded.pdf")).text("downloadFrom", entries);
    let response = post(&server, "/forms/pdfengines/merge", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let merged = save(response, dir.path(), "merged.pdf").await;
    qpdf_check(&merged);
    assert_eq!(page_count(&merged), 2 * page_count(&one), "the download joins the upload");

    for (path, expected) in [
        ("anonymous.pdf", format!("No 'Content-Disposition' header from '{base}/anonymous.pdf'")),
        ("gone.pdf", format!("Unable to download file from '{base}/gone.pdf': got status: '404 Not Found'")),
    ] {
        let entries = format!(r#"[{{"url":"{base}/{path}"}}]"#);
        let form = reqwest::multipart::Form::new().part("files", part(&one, "a.pdf")).text("downloadFrom", entries);
        let response = post(&server, "/forms/pdfengines/merge", form).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.text().await.unwrap(), expected);
    }
    let form =
        reqwest::multipart::Form::new().part("files", part(&one, "a.pdf")).text("downloadFrom", r#"[{"url":""}]"#);
    let response = post(&server, "/forms/pdfengines/merge", form).await;
    assert_eq!(response.text().await.unwrap(), "Invalid 'downloadFrom' form field entry 0: URL must be set");
}

/// What the new doors take, pushed past their bounds: each is refused with a clear answer.
#[tokio::test]
async fn oversized_and_hostile_inputs_to_the_new_routes_are_refused() {
    let server = Server::start(&[("SCANPRO_WEBHOOK_ALLOW_PRIVATE_HOSTS", "true"), ("SCANPRO_MAX_UPLOAD_MB", "1")]);
    let huge_header = format!("<html><body>{}</body></html>", "x".repeat(70 * 1024));
    let form = reqwest::multipart::Form::new()
        .part("files", text_part(PAGE, "index.html"))
        .part("files", text_part(&huge_header, "header.html"));
    assert_eq!(post(&server, "/forms/chromium/convert/html", form).await.status(), 413, "a header template past 64 KB");

    // A download larger than the caller's upload limit stops at the limit.
    let base = serve_downloads(vec![b'%'; 2 * 1024 * 1024]).await;
    let entries = format!(r#"[{{"url":"{base}/named.pdf"}}]"#);
    let form = reqwest::multipart::Form::new().text("downloadFrom", entries);
    assert_eq!(post(&server, "/forms/pdfengines/merge", form).await.status(), 413);
    let many: Vec<String> = (0..33).map(|i| format!(r#"{{"url":"{base}/named.pdf?{i}"}}"#)).collect();
    let form = reqwest::multipart::Form::new().text("downloadFrom", format!("[{}]", many.join(",")));
    let response = post(&server, "/forms/pdfengines/merge", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("at most 32 entries"));

    // Embedding into something that is not a PDF.
    let form = reqwest::multipart::Form::new()
        .part("files", text_part("plain text, not a PDF", "fake.pdf"))
        .part("embeds", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"));
    let response = post(&server, "/forms/pdfengines/embed", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("fake.pdf"));

    // Too many cookies and headers for one page.
    let cookies: Vec<serde_json::Value> =
        (0..65).map(|i| serde_json::json!({"name": format!("c{i}"), "value": "v", "domain": "example.com"})).collect();
    let form = reqwest::multipart::Form::new()
        .part("files", text_part(PAGE, "index.html"))
        .text("cookies", serde_json::Value::Array(cookies).to_string());
    let response = post(&server, "/forms/chromium/convert/html", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("at most 64"));
}

#[tokio::test]
async fn conversions_split_their_output_as_gotenberg_names_it() {
    let server = Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let docx = corpus("docx/heading123.docx");

    // Two documents merged, then cut into one-page parts: `<uuid>_0.pdf`, `<uuid>_1.pdf` in a zip.
    let form = reqwest::multipart::Form::new()
        .part("files", part(&docx, "a.docx"))
        .part("files", part(&docx, "b.docx"))
        .text("merge", "true")
        .text("splitMode", "intervals")
        .text("splitSpan", "1");
    let response = post(&server, "/forms/libreoffice/convert", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let zip = save(response, dir.path(), "parts.zip").await;
    let names = zip_names(&zip);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with("_0.pdf") && names[1].ends_with("_1.pdf"), "{names:?}");
    for name in &names {
        assert_eq!(page_count(&zip_entry(&zip, name, dir.path())), 1);
    }

    // One document, its selected pages unified: a PDF named after the upload.
    let form = reqwest::multipart::Form::new()
        .part("files", part(&docx, "report.docx"))
        .text("splitMode", "pages")
        .text("splitSpan", "1")
        .text("splitUnify", "true");
    let response = post(&server, "/forms/libreoffice/convert", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    assert!(disposition(&response).contains("report.docx.pdf"), "{}", disposition(&response));

    // Several documents not merged are not split one by one: refused, not ignored.
    let form = reqwest::multipart::Form::new()
        .part("files", part(&docx, "a.docx"))
        .part("files", part(&docx, "b.docx"))
        .text("splitMode", "intervals")
        .text("splitSpan", "1");
    let response = post(&server, "/forms/libreoffice/convert", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("form field 'splitMode' is invalid"));

    // A Chromium page of three pages, each its own PDF; a bad mode is Gotenberg's 400.
    let html = "<!doctype html><html><body><p>one</p><p style=\"break-before:page\">two</p><p style=\"break-before:page\">three</p></body></html>";
    let page = || reqwest::multipart::Part::text(html).file_name("index.html");
    let form = reqwest::multipart::Form::new().part("files", page()).text("splitMode", "pages").text("splitSpan", "2-");
    let response = post(&server, "/forms/chromium/convert/html", form).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let zip = save(response, dir.path(), "chromium.zip").await;
    let names = zip_names(&zip);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(pdftotext(&zip_entry(&zip, &names[0], dir.path())).contains("two"));
    let form = reqwest::multipart::Form::new().part("files", page()).text("splitMode", "halves").text("splitSpan", "1");
    let response = post(&server, "/forms/chromium/convert/html", form).await;
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("Valid modes: 'intervals', 'pages'"));
}
