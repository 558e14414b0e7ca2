//! The Chromium engine through the public API: pages with their assets printed as asked (paper,
//! margins, header and footer, page ranges), screenshots, and the page that attacks: local files,
//! loopback and remote addresses (none loaded), a script that never ends (deadline, typed error),
//! a browser killed mid-rendering (replaced; the next rendering works).

mod common;

use common::Server;
use scanpro_testkit::checkers::{page_count, page_sizes, pdftotext, qpdf_check, run, stdout};
use serde_json::{Value, json};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn save(response: reqwest::Response, dir: &Path, name: &str) -> PathBuf {
    let status = response.status();
    let bytes = response.bytes().await.unwrap();
    assert_eq!(status, 200, "{name}: {}", String::from_utf8_lossy(&bytes));
    write(dir, name, bytes)
}

/// A 2×2 red PNG.
fn png() -> Vec<u8> {
    let mut bytes = Vec::new();
    let image = image::RgbImage::from_pixel(2, 2, image::Rgb([200, 0, 0]));
    image.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

/// The leftmost word box of page 1 in PDF points, from `pdftotext -bbox`.
fn leftmost_word(pdf: &Path) -> f64 {
    let html = stdout(
        "pdftotext",
        [Path::new("-bbox"), Path::new("-f"), Path::new("1"), Path::new("-l"), Path::new("1"), pdf, Path::new("-")],
    );
    let x_min = regex::Regex::new(r#"xMin="([0-9.]+)""#).unwrap();
    x_min.captures_iter(&html).map(|c| c[1].parse::<f64>().unwrap()).fold(f64::MAX, f64::min)
}

const THREE_PAGES: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Quarterly</title>
<link rel="stylesheet" href="style.css"></head><body>
<h1>First page</h1><img src="img/logo.png" width="40" height="40">
<h1 class="next">Second page</h1><h1 class="next">Third page</h1></body></html>"#;

#[tokio::test]
async fn a_page_with_its_assets_prints_as_asked() {
    let server = Server::start(&[]);
    let client = server.client();
    let (_, ready) = client.get_json("/readyz").await;
    let chromium = ready["engines"].as_array().unwrap().iter().find(|e| e["engine"] == "chromium").cloned();
    let chromium = chromium.unwrap_or_default();
    assert_eq!(chromium["available"], true, "{ready}");
    assert!(chromium["detail"].as_str().unwrap().starts_with("Chromium "), "{chromium}");
    let temp = tempfile::tempdir().unwrap();
    let page = write(temp.path(), "index.html", THREE_PAGES);
    let style = write(
        temp.path(),
        "style.css",
        ".next { break-before: page; } h1 { font-family: 'DejaVu Sans'; color: #123456 }",
    );
    std::fs::create_dir(temp.path().join("img")).unwrap();
    // The image goes in a zip with its folder, as a saved page keeps it.
    let zip_path = temp.path().join("site.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file("img/logo.png", zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(&png()).unwrap();
    zip.finish().unwrap();

    let params = json!({
        "paper_width": "148mm", "paper_height": "210mm",
        "margin_left": "30mm", "margin_top": "25mm", "margin_bottom": "25mm",
        "header_html": "<div style='font-size:9px;width:100%;text-align:center'>Header of <span class='title'></span></div>",
        "footer_html": "<div style='font-size:9px;width:100%;text-align:center'>Page <span class='pageNumber'></span> of <span class='totalPages'></span></div>",
        "pages": "1-2",
    });
    let response = client.one_shot("html_to_pdf", &[&page, &style, &zip_path], params).await;
    let pdf = save(response, temp.path(), "printed.pdf").await;
    qpdf_check(&pdf);
    assert_eq!(page_count(&pdf), 2, "pages 1-2 of three");
    let sizes = page_sizes(&pdf);
    assert!(sizes.iter().all(|s| s.ends_with("(A5)")), "A5: {sizes:?}");
    let text = pdftotext(&pdf);
    assert!(text.contains("First page") && text.contains("Second page") && !text.contains("Third page"), "{text}");
    assert!(text.contains("Header of Quarterly"), "the header template is filled in: {text}");
    // Chromium counts the whole document in `totalPages`, whatever the ranges printed.
    assert!(text.contains("Page 1 of 3") && text.contains("Page 2 of 3"), "the footer numbers pages: {text:?}");
    let left = leftmost_word(&pdf);
    assert!((left - 30.0 / 25.4 * 72.0).abs() < 6.0, "the left margin is 30 mm (85 pt): the text starts at {left} pt");
    let images = stdout("pdfimages", [Path::new("-list"), &pdf]);
    assert_eq!(images.lines().skip(2).count(), 1, "the zipped image is on the page: {images}");

    // Markdown through Chromium, and a screenshot of the same page.
    let notes = write(temp.path(), "notes.md", "# Notes\n\n| item | count |\n|---|---|\n| apples | 42 |\n");
    let pdf = save(client.one_shot("markdown_to_pdf", &[&notes], json!({})).await, temp.path(), "notes.pdf").await;
    let sizes = page_sizes(&pdf);
    assert!(sizes[0].ends_with("(A4)"), "A4 by default: {sizes:?}");
    assert!(pdftotext(&pdf).contains("apples"));
    let shot =
        client.one_shot("screenshot", &[&page, &style], json!({"width": 400, "height": 300, "clip": true})).await;
    let shot = save(shot, temp.path(), "shot.png").await;
    let image = image::open(&shot).unwrap();
    assert_eq!((image.width(), image.height()), (400, 300));
    let tall = write(
        temp.path(),
        "tall.html",
        "<!DOCTYPE html><html><body><div style='height:2000px'>Tall</div></body></html>",
    );
    let shot = client.one_shot("screenshot", &[&tall], json!({"format": "jpeg", "quality": 50})).await;
    assert_eq!(shot.headers()["content-type"], "image/jpeg");
    let full = image::load_from_memory(&shot.bytes().await.unwrap()).unwrap();
    assert!(full.height() >= 2000, "the whole page, taller than the viewport: {}", full.height());
}

/// A page that tries every way to read a file of the server, reach loopback and reach the
/// internet: the PDF holds none of it, and nothing connects.
#[tokio::test]
async fn a_page_loads_nothing_but_its_own_files() {
    let server = Server::start(&[]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let temp = tempfile::tempdir().unwrap();
    let secret = write(temp.path(), "secret.txt", "SECRET-OF-ANOTHER-JOB");
    let secret = secret.display();
    let page = format!(
        r#"<!DOCTYPE html><html><body><p>Visible text</p>
<iframe src="file:///etc/passwd"></iframe><object data="file:///etc/passwd"></object><embed src="file:///etc/passwd">
<iframe src="file://{secret}"></iframe><img src="file:///usr/share/pixmaps/debian-logo.png">
<img src="../../../../../../../../etc/passwd"><iframe src="/etc/passwd"></iframe>
<img src="http://127.0.0.1:{port}/pixel.png"><iframe src="http://localhost:{port}/"></iframe>
<img src="https://example.com/pixel.png"><link rel="stylesheet" href="http://169.254.169.254/latest/meta-data/">
<script>
fetch('file:///etc/passwd').then(r => r.text()).then(t => document.body.append(t)).catch(() => {{}});
fetch('http://127.0.0.1:{port}/x').catch(() => {{}});
try {{ const x = new XMLHttpRequest(); x.open('GET', 'file:///etc/passwd', false); x.send(); document.body.append(x.responseText); }} catch (e) {{}}
try {{ new WebSocket('ws://127.0.0.1:{port}/'); }} catch (e) {{}}
</script></body></html>"#
    );
    let page = write(temp.path(), "index.html", page);
    let response = server.client().one_shot("html_to_pdf", &[&page], json!({"wait_delay_ms": 500})).await;
    let pdf = save(response, temp.path(), "page.pdf").await;
    let text = pdftotext(&pdf);
    assert!(text.contains("Visible text"), "{text}");
    assert!(!text.contains("root:x:0:0"), "/etc/passwd reached the PDF: {text}");
    assert!(!text.contains("SECRET-OF-ANOTHER-JOB"), "another job's file reached the PDF");
    let images = common::images_sized(&pdf, 48, 48);
    assert!(images.is_empty(), "an image from elsewhere reached the PDF: {images:?}");
    assert!(listener.accept().is_err(), "the page reached a loopback port");

    // Failing on what could not load is the caller's choice, with a typed error.
    let page_text = std::fs::read_to_string(&page).unwrap();
    let strict = write(temp.path(), "strict.html", &page_text);
    let response =
        server.client().one_shot("html_to_pdf", &[&strict], json!({"fail_on_resource_loading_failed": true})).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "page_failed", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("failed to load resources"), "{problem}");

    // Remote addresses are off by default: url_to_pdf is refused outright.
    let response = server.client().one_shot("url_to_pdf", &[], json!({"url": "https://example.com/"})).await;
    assert_eq!(response.status(), 403, "{:?}", response.text().await);
}

/// With remote fetches on, a page on the network prints; internal addresses stay refused unless
/// explicitly allowed, on the page and on every resource.
#[tokio::test]
async fn remote_pages_load_only_where_allowed() {
    let (port, hits) = common::serve_page("<!DOCTYPE html><html><body><h1>Served over HTTP</h1></body></html>");
    let url = format!("http://127.0.0.1:{port}/page.html");
    let open = Server::start(&[("SCANPRO_CHROMIUM_ALLOW_REMOTE", "true")]);
    let response = open.client().one_shot("url_to_pdf", &[], json!({"url": url})).await;
    assert_eq!(response.status(), 403, "loopback is internal: {:?}", response.text().await);
    let response = open.client().one_shot("url_to_pdf", &[], json!({"url": format!("http://localhost:{port}/")})).await;
    assert_eq!(response.status(), 403, "localhost names this machine");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing reached the internal server");

    let private =
        Server::start(&[("SCANPRO_CHROMIUM_ALLOW_REMOTE", "true"), ("SCANPRO_CHROMIUM_ALLOW_PRIVATE_HOSTS", "true")]);
    let temp = tempfile::tempdir().unwrap();
    let pdf =
        save(private.client().one_shot("url_to_pdf", &[], json!({"url": url})).await, temp.path(), "url.pdf").await;
    assert!(pdftotext(&pdf).contains("Served over HTTP"));
    assert!(hits.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let response =
        private.client().one_shot("url_to_pdf", &[], json!({"url": url.replace("page.html", "missing")})).await;
    assert_eq!(response.status(), 422, "a 404 main page fails by default (fail_on_http_status [499, 599])");
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "page_failed");
}

/// The Chromium browsers of a server: processes whose command line names a profile under its
/// data directory.
fn browsers_of(server: &Server) -> Vec<i32> {
    let data = server.data_dir.display().to_string();
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.contains("--remote-debugging-port") && cmdline.contains(&data) {
            pids.push(pid);
        }
    }
    pids
}

/// A script that never ends meets the deadline with a typed error; a browser killed in the middle
/// of a rendering fails that job only; the next renderings work on a fresh browser.
#[tokio::test]
async fn a_hung_page_and_a_killed_browser_leave_the_engine_working() {
    let server = Server::start(&[
        ("SCANPRO_CHROMIUM_TIMEOUT_SECS", "5"),
        ("SCANPRO_CHROMIUM_INSTANCES", "1"),
        ("SCANPRO_MAX_ATTEMPTS", "1"),
    ]);
    let client = server.client();
    let temp = tempfile::tempdir().unwrap();
    let hung = write(
        temp.path(),
        "hung.html",
        "<!DOCTYPE html><html><body><p>Never</p><script>while (true) {}</script></body></html>",
    );
    let started = std::time::Instant::now();
    let response = client.one_shot("html_to_pdf", &[&hung], json!({})).await;
    assert_eq!(response.status(), 504, "{:?}", response.text().await);
    assert!(started.elapsed() < Duration::from_secs(60));
    let fine = write(temp.path(), "fine.html", "<!DOCTYPE html><html><body><p>Fine again</p></body></html>");
    let pdf = save(client.one_shot("html_to_pdf", &[&fine], json!({})).await, temp.path(), "after-hang.pdf").await;
    assert!(pdftotext(&pdf).contains("Fine again"));

    // Waits for an expression that never holds while the browser is killed under it.
    let waiting = write(temp.path(), "waiting.html", "<!DOCTYPE html><html><body><p>Waiting</p></body></html>");
    let pending = {
        let client = server.client();
        let waiting = waiting.clone();
        tokio::spawn(async move {
            client.one_shot("html_to_pdf", &[&waiting], json!({"wait_for_expression": "window.never === true"})).await
        })
    };
    let mut killed = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(&pid) = browsers_of(&server).first() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            run("kill", ["-9", &pid.to_string()]);
            killed = true;
            break;
        }
    }
    assert!(killed, "no browser ran for the waiting page");
    let response = pending.await.unwrap();
    assert_eq!(response.status(), 503, "{:?}", response.text().await);
    let pdf = save(client.one_shot("html_to_pdf", &[&fine], json!({})).await, temp.path(), "after-crash.pdf").await;
    qpdf_check(&pdf);
    assert!(pdftotext(&pdf).contains("Fine again"));

    // The replacements show in the metrics.
    let metrics = reqwest::get(format!("{}/metrics", server.metrics_base)).await.unwrap().text().await.unwrap();
    let restarted = metrics
        .lines()
        .find(|l| l.starts_with("scanpro_chromium_replaced_total{reason=\"restarted\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok());
    assert!(restarted.is_some_and(|n| n >= 2.0), "the hung and the killed browser: {restarted:?}");
    assert!(metrics.contains("scanpro_chromium_browsers{state=\"configured\"} 1"), "{metrics}");

    let (_, health) = client.get_json("/api/v1/tools").await;
    let tool =
        health["tools"].as_array().unwrap().iter().find(|t| t["name"] == "url_to_pdf").cloned().unwrap_or_default();
    assert_eq!(tool["engine"], "chromium", "{tool}");
}

/// The corpus's hostile web pages: each ends in a PDF or a typed error, never a crash or a hang,
/// and none leaks a file of the server.
#[tokio::test]
async fn the_corpus_edge_pages_end_cleanly() {
    use scanpro_testkit::corpus::corpus;
    let server = Server::start(&[]);
    let client = server.client();
    let temp = tempfile::tempdir().unwrap();
    let hostile = save(
        client.one_shot("html_to_pdf", &[&corpus("html/edge/hostile-refs.html")], json!({})).await,
        temp.path(),
        "hostile.pdf",
    )
    .await;
    qpdf_check(&hostile);
    let text = pdftotext(&hostile);
    assert!(!text.contains("root:x:0:0") && !text.contains("/bin/bash"), "/etc/passwd reached the PDF: {text}");
    let malformed = save(
        client.one_shot("html_to_pdf", &[&corpus("html/edge/malformed.html")], json!({})).await,
        temp.path(),
        "malformed.pdf",
    )
    .await;
    qpdf_check(&malformed);
    let long = save(
        client.one_shot("html_to_pdf", &[&corpus("html/edge/300-pages.html")], json!({})).await,
        temp.path(),
        "long.pdf",
    )
    .await;
    qpdf_check(&long);
    assert!(page_count(&long) >= 300, "{} pages", page_count(&long));

    let strict = Server::start(&[("SCANPRO_CHROMIUM_TIMEOUT_SECS", "15"), ("SCANPRO_MAX_ATTEMPTS", "1")]);
    for (page, why) in [
        ("html/edge/infinite-script.html", "a script that never ends"),
        ("html/edge/big-table-5mb.html", "a table Chromium lays out for minutes"),
    ] {
        let response = strict.client().one_shot("html_to_pdf", &[&corpus(page)], json!({})).await;
        assert_eq!(response.status(), 504, "{why}: {:?}", response.text().await);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "step_timeout", "{why}: {problem}");
    }
    let after = save(
        strict.client().one_shot("html_to_pdf", &[&corpus("html/edge/malformed.html")], json!({})).await,
        temp.path(),
        "after.pdf",
    )
    .await;
    qpdf_check(&after);
}
