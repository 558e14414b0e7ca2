//! One rendering: a fresh browser context (no cookies, storage or cache shared with any other
//! document), one page in it, every request of the page paused and answered by ScanPro, then a
//! PDF or a screenshot, and the context disposed.
//!
//! Requests are answered from the document's own files, served under a reserved origin
//! ([`DOCUMENT_ORIGIN`]); with remote fetches allowed, `http(s)` URLs are fetched by
//! [`super::remote`], which refuses internal addresses after resolution, hop by hop. Everything
//! else (`file://`, other schemes, remote URLs otherwise) fails as blocked. The browser itself
//! resolves no name and may reach no port but its DevTools one.

use super::ChromiumError;
use super::cdp::{Cdp, CdpError, Event};
use super::options::{Capture, PageOptions, PdfOptions, ScreenshotOptions};
use super::remote::{Fetched, RemoteFetcher};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// The origin a document's files are served under; `.invalid` never resolves anywhere.
pub const DOCUMENT_ORIGIN: &str = "http://document.scanpro.invalid";
/// The largest file or remote response one request may be answered with.
const MAX_RESOURCE_BYTES: u64 = 64 << 20;
/// The largest PDF or image a rendering may produce.
const MAX_OUTPUT_BYTES: u64 = 1 << 30;
/// A full-page screenshot is cut at this height, in CSS pixels.
const MAX_SCREENSHOT_HEIGHT: f64 = 16_384.0;
/// How often `wait_for_expression` is evaluated.
const POLL: Duration = Duration::from_millis(100);

/// What a page shows: its own files, or a remote address.
#[derive(Debug, Clone)]
pub enum Source {
    /// `files` maps paths relative to the document (`index.html`, `img/logo.png`) to files here;
    /// `main` is the path of the page to open.
    Files {
        files: BTreeMap<String, PathBuf>,
        main: String,
    },
    Url(reqwest::Url),
}

/// What happened while the page loaded, for the `fail_on_*` options.
#[derive(Debug, Default)]
struct Loading {
    main_status: Option<u16>,
    /// `url status` of every resource answered with an HTTP status.
    resource_statuses: Vec<(String, u16)>,
    /// `url: reason` of every request that failed or was blocked.
    failed: Vec<String>,
    exceptions: Vec<String>,
}

/// A blank page in a fresh browser context, every request of it paused for ScanPro to answer.
/// Opened ahead of the rendering that takes it: opening waits for a new renderer to start.
pub(crate) struct BlankPage {
    context: String,
    target: String,
    session: String,
    events: mpsc::Receiver<Event>,
}

/// Opens a [`BlankPage`].
pub(crate) async fn open(cdp: Cdp) -> Result<BlankPage, ChromiumError> {
    let context = cdp.call(None, "Target.createBrowserContext", json!({"disposeOnDetach": true})).await?;
    let context = text(&context, "browserContextId")?;
    let opened = async {
        let target =
            cdp.call(None, "Target.createTarget", json!({"url": "about:blank", "browserContextId": context})).await?;
        let target = text(&target, "targetId")?;
        let session = cdp.call(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true})).await?;
        let session = text(&session, "sessionId")?;
        let events = cdp.subscribe(&session);
        for (method, params) in [
            ("Fetch.enable", json!({"patterns": [{"urlPattern": "*"}], "handleAuthRequests": true})),
            ("Page.enable", json!({})),
            ("Inspector.enable", json!({})),
        ] {
            cdp.call(Some(&session), method, params).await?;
        }
        Ok::<_, ChromiumError>(BlankPage { context: context.clone(), target, session, events })
    };
    let opened = opened.await;
    if opened.is_err() {
        dispose(&cdp, &context).await;
    }
    opened
}

/// Closes a browser context with its pages. A crashed or closed browser has nothing left to
/// dispose; the pool replaces it.
async fn dispose(cdp: &Cdp, context: &str) {
    let _ = cdp.call(None, "Target.disposeBrowserContext", json!({"browserContextId": context})).await;
}

/// Renders `source` on `blank` to `output` as `capture` asks, then closes the page's context.
pub(crate) async fn render(
    cdp: &Cdp,
    blank: BlankPage,
    source: &Source,
    page: &PageOptions,
    capture: &Capture,
    remote: Option<&RemoteFetcher>,
    output: &Path,
) -> Result<(), ChromiumError> {
    let context = blank.context.clone();
    let result = render_in(cdp, blank, source, page, capture, remote, output).await;
    // Closing is the browser's work; the caller need not wait for it.
    let closing = cdp.clone();
    tokio::spawn(async move { dispose(&closing, &context).await });
    result
}

async fn render_in(
    cdp: &Cdp,
    blank: BlankPage,
    source: &Source,
    options: &PageOptions,
    capture: &Capture,
    remote: Option<&RemoteFetcher>,
    output: &Path,
) -> Result<(), ChromiumError> {
    let BlankPage { target, session, mut events, .. } = blank;
    let started = std::time::Instant::now();
    let page = Page { cdp, session: &session, main_frame: &target, options, remote, source };
    let mut loading = Loading::default();
    if options.fail_on_console_exceptions {
        page.call("Runtime.enable", json!({})).await?;
    }
    page.prepare(capture).await?;
    let url = match source {
        Source::Files { main, .. } => format!("{DOCUMENT_ORIGIN}/{}", encode_path(main)),
        Source::Url(url) => url.to_string(),
    };
    let navigate = page.call("Page.navigate", json!({"url": url}));
    let navigated = page.alongside(&mut loading, &mut events, navigate).await?;
    if let Some(error) = navigated.get("errorText").and_then(Value::as_str).filter(|e| !e.is_empty()) {
        // A main page that failed is reported by its status below when there is one.
        if loading.main_status.is_none() {
            let why = loading.failed.first().cloned().unwrap_or_else(|| format!("{}: {error}", shorten(&url)));
            return Err(ChromiumError::Load(why));
        }
    }
    page.until_loaded(&mut loading, &mut events).await?;
    let loaded = started.elapsed();
    if !options.wait_delay.is_zero() {
        page.pause(&mut loading, &mut events, options.wait_delay).await?;
    }
    if let Some(expression) = &options.wait_for_expression {
        page.wait_for(&mut loading, &mut events, expression).await?;
    }
    page.check_loading(&loading)?;
    let ready = started.elapsed();
    let captured = match capture {
        Capture::Pdf(pdf) => {
            let printing = page.print(pdf, output);
            page.alongside(&mut loading, &mut events, printing).await
        }
        Capture::Screenshot(shot) => {
            let shooting = page.screenshot(shot, output);
            page.alongside(&mut loading, &mut events, shooting).await
        }
    };
    let requests = loading.resource_statuses.len() + loading.failed.len() + 1;
    tracing::debug!(?loaded, ?ready, done = ?started.elapsed(), requests, "rendered");
    captured
}

struct Page<'a> {
    cdp: &'a Cdp,
    session: &'a str,
    /// The main frame's id, which is its target's.
    main_frame: &'a str,
    options: &'a PageOptions,
    remote: Option<&'a RemoteFetcher>,
    source: &'a Source,
}

impl Page<'_> {
    async fn call(&self, method: &str, params: Value) -> Result<Value, ChromiumError> {
        Ok(self.cdp.call(Some(self.session), method, params).await?)
    }

    /// Media, user agent, cookies and, for screenshots, the viewport: set before the page opens.
    async fn prepare(&self, capture: &Capture) -> Result<(), ChromiumError> {
        let options = self.options;
        if options.media.is_some() || !options.media_features.is_empty() {
            let features: Vec<Value> =
                options.media_features.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
            let media = options.media.map_or("", |m| m.as_str());
            self.call("Emulation.setEmulatedMedia", json!({"media": media, "features": features})).await?;
        }
        if let Some(agent) = &options.user_agent {
            self.call("Emulation.setUserAgentOverride", json!({"userAgent": agent})).await?;
        }
        if let Capture::Screenshot(shot) = capture {
            self.call(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": shot.width, "height": shot.height, "deviceScaleFactor": shot.device_scale_factor, "mobile": false}),
            )
            .await?;
        }
        if capture.omit_background() {
            self.call(
                "Emulation.setDefaultBackgroundColorOverride",
                json!({"color": {"r": 0, "g": 0, "b": 0, "a": 0}}),
            )
            .await?;
        }
        Ok(())
    }

    /// Runs `work` while answering the page's requests and watching for its crash.
    async fn alongside<T>(
        &self,
        loading: &mut Loading,
        events: &mut mpsc::Receiver<Event>,
        work: impl Future<Output = Result<T, ChromiumError>>,
    ) -> Result<T, ChromiumError> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                event = events.recv() => self.handle(loading, event).await?,
                done = &mut work => return done,
            }
        }
    }

    /// Waits `duration`, answering the page's requests meanwhile.
    async fn pause(
        &self,
        loading: &mut Loading,
        events: &mut mpsc::Receiver<Event>,
        duration: Duration,
    ) -> Result<(), ChromiumError> {
        let sleep = async {
            tokio::time::sleep(duration).await;
            Ok(())
        };
        self.alongside(loading, events, sleep).await
    }

    /// Waits for the page's `load` event, answering its requests meanwhile.
    async fn until_loaded(
        &self,
        loading: &mut Loading,
        events: &mut mpsc::Receiver<Event>,
    ) -> Result<(), ChromiumError> {
        loop {
            let event = events.recv().await;
            if event.as_ref().is_some_and(|e| e.method == "Page.loadEventFired") {
                return Ok(());
            }
            self.handle(loading, event).await?;
        }
    }

    async fn wait_for(
        &self,
        loading: &mut Loading,
        events: &mut mpsc::Receiver<Event>,
        expression: &str,
    ) -> Result<(), ChromiumError> {
        loop {
            let evaluate = self.call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            );
            let answer = self.alongside(loading, events, evaluate).await?;
            if let Some(exception) = answer.get("exceptionDetails") {
                return Err(ChromiumError::Page(format!("the wait expression failed: {}", exception_text(exception))));
            }
            if answer["result"]["value"] == json!(true) {
                return Ok(());
            }
            self.pause(loading, events, POLL).await?;
        }
    }

    async fn handle(&self, loading: &mut Loading, event: Option<Event>) -> Result<(), ChromiumError> {
        let Some(event) = event else {
            return Err(if self.cdp.is_open() {
                ChromiumError::Page("the page sent more events than it may (a flood of requests or messages)".into())
            } else {
                ChromiumError::Crashed("the browser exited".into())
            });
        };
        match event.method.as_str() {
            "Fetch.requestPaused" => self.answer_request(loading, &event.params).await,
            "Fetch.authRequired" => {
                let id = event.params["requestId"].clone();
                self.call(
                    "Fetch.continueWithAuth",
                    json!({"requestId": id, "authChallengeResponse": {"response": "CancelAuth"}}),
                )
                .await
                .map(drop)
            }
            "Inspector.targetCrashed" => Err(ChromiumError::Crashed("the page's renderer crashed".into())),
            "Target.detachedFromTarget" => Err(ChromiumError::Crashed("the page went away".into())),
            "Runtime.exceptionThrown" => {
                loading.exceptions.push(exception_text(&event.params["exceptionDetails"]));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Answers one paused request from the document's files or a checked remote fetch, or fails it.
    async fn answer_request(&self, loading: &mut Loading, paused: &Value) -> Result<(), ChromiumError> {
        let id = paused["requestId"].clone();
        let url = paused["request"]["url"].as_str().unwrap_or_default().to_owned();
        let is_main = paused["resourceType"] == "Document" && paused["frameId"].as_str() == Some(self.main_frame);
        let answer = self.resolve(&url, paused).await;
        match answer {
            Ok(fetched) => {
                let status = fetched.status;
                // The last hop of the main page's redirects is its status.
                if is_main {
                    loading.main_status = Some(status);
                } else {
                    loading.resource_statuses.push((url.clone(), status));
                }
                let headers: Vec<Value> =
                    fetched.headers.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
                let fulfilled = self
                    .call(
                        "Fetch.fulfillRequest",
                        json!({"requestId": id, "responseCode": status, "responseHeaders": headers, "body": STANDARD.encode(&fetched.body)}),
                    )
                    .await;
                // The page may have moved on (a navigation cancels its requests): not an error.
                ignore_gone(fulfilled)
            }
            Err(reason) => {
                tracing::debug!(url = shorten(&url), reason, "request refused");
                loading.failed.push(format!("{}: {reason}", shorten(&url)));
                ignore_gone(
                    self.call("Fetch.failRequest", json!({"requestId": id, "errorReason": "BlockedByClient"})).await,
                )
            }
        }
    }

    async fn resolve(&self, url: &str, paused: &Value) -> Result<Fetched, String> {
        if let Some(path) = url.strip_prefix(DOCUMENT_ORIGIN) {
            return match self.source {
                Source::Files { files, .. } => serve_file(files, path).await,
                Source::Url(_) => Err("not part of the document".into()),
            };
        }
        let parsed = reqwest::Url::parse(url).map_err(|_| "not a URL".to_owned())?;
        match (parsed.scheme(), self.remote) {
            ("http" | "https", Some(remote)) => {
                let method = paused["request"]["method"].as_str().unwrap_or("GET");
                if method != "GET" && method != "HEAD" {
                    return Err(format!("{method} requests are not sent"));
                }
                remote.fetch(&parsed, &self.options.extra_headers, &self.options.cookies).await
            }
            ("http" | "https", None) => Err("remote resources are not fetched".into()),
            (scheme, _) => Err(format!("{scheme}: URLs are not loaded")),
        }
    }

    /// The `fail_on_*` options, against what loading saw.
    fn check_loading(&self, loading: &Loading) -> Result<(), ChromiumError> {
        let options = self.options;
        if let Some(status) = loading.main_status
            && options.fail_on_http_status.iter().any(|range| range.contains(status))
        {
            return Err(ChromiumError::Status(format!("Invalid HTTP status code from the main page: {status}")));
        }
        let bad: Vec<String> = loading
            .resource_statuses
            .iter()
            .filter(|(_, status)| options.fail_on_resource_http_status.iter().any(|range| range.contains(*status)))
            .map(|(url, status)| format!("{} - {status}", shorten(url)))
            .collect();
        if !bad.is_empty() {
            return Err(ChromiumError::Status(format!("Invalid HTTP status code from resources:\n{}", bad.join("\n"))));
        }
        if options.fail_on_resource_loading_failed && !loading.failed.is_empty() {
            return Err(ChromiumError::Status(format!(
                "Chromium failed to load resources: {}",
                loading.failed.join("; ")
            )));
        }
        if options.fail_on_console_exceptions && !loading.exceptions.is_empty() {
            return Err(ChromiumError::Status(format!(
                "Chromium console exceptions:\n{}",
                loading.exceptions.join("\n")
            )));
        }
        Ok(())
    }

    async fn print(&self, pdf: &PdfOptions, output: &Path) -> Result<(), ChromiumError> {
        let mut paper_height = pdf.paper_height;
        let mut page_ranges = pdf.page_ranges.clone().unwrap_or_default();
        if pdf.single_page {
            let height = self
                .call(
                    "Runtime.evaluate",
                    json!({"expression": "Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)", "returnByValue": true}),
                )
                .await?;
            let css_pixels = height["result"]["value"].as_f64().unwrap_or(0.0);
            paper_height = (css_pixels * pdf.scale / 96.0 + pdf.margins[0] + pdf.margins[1] + 0.01).max(paper_height);
            page_ranges = "1".into();
        }
        let empty = "<html><head></head><body></body></html>";
        let with_header_footer = pdf.header_html.is_some() || pdf.footer_html.is_some();
        let printed = self
            .call(
                "Page.printToPDF",
                json!({
                    "landscape": pdf.landscape,
                    "printBackground": pdf.print_background,
                    "scale": pdf.scale,
                    "paperWidth": pdf.paper_width,
                    "paperHeight": paper_height,
                    "marginTop": pdf.margins[0],
                    "marginBottom": pdf.margins[1],
                    "marginLeft": pdf.margins[2],
                    "marginRight": pdf.margins[3],
                    "pageRanges": page_ranges,
                    "displayHeaderFooter": with_header_footer,
                    "headerTemplate": pdf.header_html.as_deref().unwrap_or(empty),
                    "footerTemplate": pdf.footer_html.as_deref().unwrap_or(empty),
                    "preferCSSPageSize": pdf.prefer_css_page_size,
                    "generateTaggedPDF": pdf.tagged,
                    "generateDocumentOutline": pdf.outline,
                    "transferMode": "ReturnAsStream",
                }),
            )
            .await
            .map_err(|e| match e {
                ChromiumError::Protocol(message) if message.contains("ange") => ChromiumError::PageRange(message),
                other => other,
            })?;
        let stream = text(&printed, "stream")?;
        self.read_stream(&stream, output).await
    }

    /// Copies a DevTools stream to `output`, refusing one larger than [`MAX_OUTPUT_BYTES`].
    async fn read_stream(&self, stream: &str, output: &Path) -> Result<(), ChromiumError> {
        let mut file = tokio::fs::File::create(output).await.map_err(|e| ChromiumError::Io(e.to_string()))?;
        let mut written = 0u64;
        loop {
            let chunk = self.call("IO.read", json!({"handle": stream, "size": 1 << 20})).await?;
            let data = chunk["data"].as_str().unwrap_or_default();
            let bytes = if chunk["base64Encoded"] == json!(true) {
                STANDARD.decode(data).map_err(|e| ChromiumError::Protocol(format!("IO.read: {e}")))?
            } else {
                data.as_bytes().to_vec()
            };
            written += bytes.len() as u64;
            if written > MAX_OUTPUT_BYTES {
                return Err(ChromiumError::TooLarge(MAX_OUTPUT_BYTES));
            }
            file.write_all(&bytes).await.map_err(|e| ChromiumError::Io(e.to_string()))?;
            if chunk["eof"] == json!(true) {
                break;
            }
        }
        let _ = self.call("IO.close", json!({"handle": stream})).await;
        file.flush().await.map_err(|e| ChromiumError::Io(e.to_string()))
    }

    async fn screenshot(&self, shot: &ScreenshotOptions, output: &Path) -> Result<(), ChromiumError> {
        let mut params = json!({
            "format": shot.format.as_str(),
            "optimizeForSpeed": shot.optimize_for_speed,
            "fromSurface": true,
        });
        if let Some(quality) = shot.quality {
            params["quality"] = json!(quality);
        }
        let clip = match &shot.selector {
            Some(selector) => Some(self.element_box(selector).await?),
            None if !shot.clip => {
                let metrics = self.call("Page.getLayoutMetrics", json!({})).await?;
                let size = &metrics["cssContentSize"];
                let width = size["width"].as_f64().unwrap_or(f64::from(shot.width)).max(1.0);
                let height =
                    size["height"].as_f64().unwrap_or(f64::from(shot.height)).clamp(1.0, MAX_SCREENSHOT_HEIGHT);
                Some(json!({"x": 0, "y": 0, "width": width, "height": height, "scale": 1}))
            }
            None => None,
        };
        if let Some(clip) = clip {
            params["clip"] = clip;
            params["captureBeyondViewport"] = json!(true);
        }
        let shot = self.call("Page.captureScreenshot", params).await?;
        let data = STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| ChromiumError::Protocol(format!("Page.captureScreenshot: {e}")))?;
        tokio::fs::write(output, data).await.map_err(|e| ChromiumError::Io(e.to_string()))
    }

    /// The box of the first element `selector` matches, as a screenshot clip.
    async fn element_box(&self, selector: &str) -> Result<Value, ChromiumError> {
        let expression = format!(
            "(() => {{ const e = document.querySelector({}); if (!e) return null; const r = e.getBoundingClientRect(); \
             return {{x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height}}; }})()",
            json!(selector)
        );
        let answer = self.call("Runtime.evaluate", json!({"expression": expression, "returnByValue": true})).await?;
        if answer.get("exceptionDetails").is_some() {
            return Err(ChromiumError::Page(format!("the selector '{selector}' is not valid")));
        }
        let found = &answer["result"]["value"];
        if !found.is_object() {
            return Err(ChromiumError::Page(format!("no element matches the selector '{selector}'")));
        }
        let mut clip = found.clone();
        clip["scale"] = json!(1);
        Ok(clip)
    }
}

/// A file of the document, by its path under [`DOCUMENT_ORIGIN`] (`/img/logo.png?v=2`).
async fn serve_file(files: &BTreeMap<String, PathBuf>, path: &str) -> Result<Fetched, String> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path.trim_start_matches('/'));
    let Some(file) = files.get(&decoded) else {
        return Ok(Fetched::not_found());
    };
    let size = tokio::fs::metadata(file).await.map_err(|e| e.to_string())?.len();
    if size > MAX_RESOURCE_BYTES {
        return Err(format!("larger than {} MB", MAX_RESOURCE_BYTES >> 20));
    }
    let body = tokio::fs::read(file).await.map_err(|e| e.to_string())?;
    let mime = mime_guess::from_path(&decoded).first_or_octet_stream();
    let content_type = if mime.type_() == "text" || mime.essence_str() == "application/javascript" {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_owned()
    };
    Ok(Fetched { status: 200, headers: vec![("Content-Type".into(), content_type)], body })
}

/// `%20` and friends decoded (lossily where the bytes are not UTF-8).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// A relative path as a URL path: each segment percent-encoded where it must be.
fn encode_path(path: &str) -> String {
    let mut url = reqwest::Url::parse(DOCUMENT_ORIGIN).expect("a valid origin");
    url.path_segments_mut().expect("an http URL has segments").extend(path.split('/'));
    url.path().trim_start_matches('/').to_owned()
}

fn text(value: &Value, key: &str) -> Result<String, ChromiumError> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ChromiumError::Protocol(format!("no {key} in {value}")))
}

fn exception_text(details: &Value) -> String {
    details["exception"]["description"]
        .as_str()
        .or_else(|| details["text"].as_str())
        .unwrap_or("an exception")
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A request the page no longer waits for (it navigated away) is not an error.
fn ignore_gone(result: Result<Value, ChromiumError>) -> Result<(), ChromiumError> {
    match result {
        Ok(_) => Ok(()),
        Err(ChromiumError::Protocol(message)) if message.contains("Invalid") || message.contains("not found") => Ok(()),
        Err(other) => Err(other),
    }
}

/// A URL short enough for a message (`data:` URLs can be megabytes).
fn shorten(url: &str) -> String {
    if url.len() > 120 { format!("{}…", &url[..url.floor_char_boundary(120)]) } else { url.to_owned() }
}

impl From<CdpError> for ChromiumError {
    fn from(error: CdpError) -> Self {
        match error {
            CdpError::Closed => ChromiumError::Crashed("the browser closed its connection".into()),
            CdpError::Protocol { .. } => ChromiumError::Protocol(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_decode_and_encode() {
        assert_eq!(percent_decode("my%20page/a%2Fb.png"), "my page/a/b.png");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(encode_path("my page/index.html"), "my%20page/index.html");
    }
}
