//! Gotenberg's Chromium routes: `convert/html|url|markdown` and `screenshot/html|url|markdown`,
//! as `html_to_pdf`, `url_to_pdf` and `screenshot` jobs.

use super::form::{Fields, Form, Upload};
use super::reply::{Naming, Refusal};
use super::{Body, Formats, Plan, call, parts_naming, post_processing, split_steps, step};
use crate::AppState;
use crate::auth::Auth;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Map, Value, json};

/// What the page is: its uploaded files (HTML, or a Markdown template), or an address.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Page {
    Html,
    Markdown,
    Url,
}

/// Gotenberg's CH group: how the page loads, as the Chromium tools' fields.
fn load_fields(form: &Form, fields: &mut Fields, params: &mut Map<String, Value>) {
    form.unsupported(
        &[
            ("skipNetworkIdleEvent", "true"),
            ("skipNetworkAlmostIdleEvent", "true"),
            ("ignoreResourceHttpStatusDomains", ""),
        ],
        &mut fields.errors,
    );
    let statuses = |fields: &mut Fields, name: &str| match fields.json(name) {
        Some(Value::Array(codes)) if codes.iter().all(|c| c.as_u64().is_some_and(|c| (100..=599).contains(&c))) => {
            Some(Value::Array(codes))
        }
        Some(Value::Null) | None => None,
        Some(other) => {
            fields.errors.push(format!(
                "form field '{name}' is invalid (got '{other}', resulting to expected an array of HTTP status codes)"
            ));
            None
        }
    };
    if form.value("failOnHttpStatusCodes").is_some() {
        params.insert("fail_on_http_status".into(), statuses(fields, "failOnHttpStatusCodes").unwrap_or(json!([])));
    }
    if let Some(codes) = statuses(fields, "failOnResourceHttpStatusCodes") {
        params.insert("fail_on_resource_http_status".into(), codes);
    }
    params.insert("fail_on_resource_loading_failed".into(), json!(fields.bool("failOnResourceLoadingFailed", false)));
    params.insert("fail_on_console_exceptions".into(), json!(fields.bool("failOnConsoleExceptions", false)));
    params.insert("wait_delay_ms".into(), json!(fields.duration_ms("waitDelay").min(u64::from(u32::MAX))));
    // Gotenberg's three ways of waiting are all expressions polled until true.
    let mut waits = Vec::new();
    if let Some(expression) = fields.string("waitForExpression") {
        waits.push(format!("({expression})"));
    }
    if let Some(status) = fields.string("waitWindowStatus") {
        waits.push(format!("window.status === {}", json!(status)));
    }
    if let Some(selector) = fields.string("waitForSelector") {
        waits.push(format!("!!document.querySelector({})", json!(selector)));
    }
    if !waits.is_empty() {
        params.insert("wait_for_expression".into(), json!(waits.join(" && ")));
    }
    if let Some(agent) = fields.string("userAgent") {
        params.insert("user_agent".into(), json!(agent));
    }
    match fields.json("extraHttpHeaders") {
        Some(Value::Object(headers)) if headers.values().all(Value::is_string) => {
            params.insert("extra_headers".into(), Value::Object(headers));
        }
        Some(Value::Null) | None => {}
        Some(other) => fields.errors.push(format!(
            "form field 'extraHttpHeaders' is invalid (got '{other}', resulting to expected an object of strings)"
        )),
    }
    match fields.json("cookies") {
        Some(Value::Array(cookies)) => {
            let mut kept = Vec::with_capacity(cookies.len());
            for cookie in cookies {
                let text = |key: &str| cookie.get(key).and_then(Value::as_str).filter(|v| !v.is_empty());
                match (text("name"), text("value"), text("domain")) {
                    (Some(name), Some(value), Some(domain)) => {
                        let mut kept_cookie = json!({"name": name, "value": value, "domain": domain});
                        if let Some(path) = text("path") {
                            kept_cookie["path"] = json!(path);
                        }
                        kept.push(kept_cookie);
                    }
                    _ => fields.errors.push(
                        "form field 'cookies' is invalid (resulting to a cookie needs a name, a value and a domain)"
                            .into(),
                    ),
                }
            }
            params.insert("cookies".into(), Value::Array(kept));
        }
        Some(Value::Null) | None => {}
        Some(other) => fields
            .errors
            .push(format!("form field 'cookies' is invalid (got '{other}', resulting to expected an array)")),
    }
    if let Some(media) = fields.choice("emulatedMediaType", &["screen", "print"]) {
        params.insert("media".into(), json!(media));
    }
    match fields.json("emulatedMediaFeatures") {
        Some(Value::Object(features)) if features.values().all(Value::is_string) => {
            params.insert("media_features".into(), Value::Object(features));
        }
        Some(Value::Array(features)) => {
            let mut map = Map::new();
            for feature in features {
                if let (Some(name), Some(value)) = (feature["name"].as_str(), feature["value"].as_str()) {
                    map.insert(name.into(), json!(value));
                }
            }
            params.insert("media_features".into(), Value::Object(map));
        }
        Some(Value::Null) | None => {}
        Some(other) => fields.errors.push(format!(
            "form field 'emulatedMediaFeatures' is invalid (got '{other}', resulting to expected an object)"
        )),
    }
}

/// Gotenberg's CHPDF group, with its defaults (US Letter, 0.39 in margins).
fn print_fields(form: &Form, fields: &mut Fields, params: &mut Map<String, Value>) {
    let print_background = fields.bool("printBackground", false);
    let omit_background = fields.bool("omitBackground", false);
    if omit_background && !print_background {
        fields.errors.push("omitBackground requires printBackground set to true".into());
    }
    params.insert("landscape".into(), json!(fields.bool("landscape", false)));
    params.insert("print_background".into(), json!(print_background));
    params.insert("omit_background".into(), json!(omit_background));
    params.insert("scale".into(), json!(fields.float("scale", 1.0)));
    params.insert("single_page".into(), json!(fields.bool("singlePage", false)));
    params.insert("prefer_css_page_size".into(), json!(fields.bool("preferCssPageSize", false)));
    params.insert("outline".into(), json!(fields.bool("generateDocumentOutline", false)));
    params.insert("tagged".into(), json!(fields.bool("generateTaggedPdf", false)));
    for (field, param, default) in [
        ("paperWidth", "paper_width", "8.5"),
        ("paperHeight", "paper_height", "11"),
        ("marginTop", "margin_top", "0.39"),
        ("marginBottom", "margin_bottom", "0.39"),
        ("marginLeft", "margin_left", "0.39"),
        ("marginRight", "margin_right", "0.39"),
    ] {
        let value = fields.string(field).unwrap_or_else(|| default.to_owned());
        params.insert(param.into(), json!(value));
    }
    if let Some(pages) = fields.string("nativePageRanges") {
        params.insert("pages".into(), json!(pages));
    }
    for (file, param) in [("header.html", "header_html"), ("footer.html", "footer_html")] {
        if let Some(template) = form.template(file) {
            params.insert(param.into(), json!(template));
        }
    }
}

/// Gotenberg's CHSHOT group.
fn screenshot_fields(fields: &mut Fields, params: &mut Map<String, Value>) {
    let format = fields.choice("format", &["png", "jpeg", "webp"]).unwrap_or_else(|| "png".into());
    let quality = fields.int("quality", 100);
    if !(0..=100).contains(&quality) {
        fields
            .errors
            .push(format!("form field 'quality' is invalid (got '{quality}', resulting to expected 0 to 100)"));
    } else if format != "png" {
        params.insert("quality".into(), json!(quality));
    }
    params.insert("format".into(), json!(format));
    params.insert("width".into(), json!(fields.int("width", 800)));
    params.insert("height".into(), json!(fields.int("height", 600)));
    params.insert("clip".into(), json!(fields.bool("clip", false)));
    params.insert("omit_background".into(), json!(fields.bool("omitBackground", false)));
    params.insert("optimize_for_speed".into(), json!(fields.bool("optimizeForSpeed", false)));
    params.insert("device_scale_factor".into(), json!(fields.float("deviceScaleFactor", 1.0)));
    if let Some(selector) = fields.string("selector") {
        params.insert("selector".into(), json!(selector));
    }
}

/// The page's inputs, or its address (`file://` refused as Gotenberg does).
fn page_inputs(
    form: &Form,
    fields: &mut Fields,
    page: Page,
    params: &mut Map<String, Value>,
) -> Result<Vec<Upload>, Refusal> {
    match page {
        Page::Url => {
            if let Some(url) = fields.required("url") {
                if url.to_ascii_lowercase().starts_with("file:") {
                    return Err(Refusal::bad_request(
                        "file:// URLs are not accepted on this route; use the HTML route to convert local files",
                    ));
                }
                params.insert("url".into(), json!(url));
            }
            Ok(Vec::new())
        }
        Page::Html | Page::Markdown => {
            if !form.uploads().iter().any(|u| u.name == "index.html") {
                return Err(Refusal::form(vec!["form file 'index.html' is required".into()]));
            }
            if page == Page::Markdown {
                form.inputs(&[".md"])?;
                params.insert("expand_markdown".into(), json!(true));
            }
            Ok(form.uploads().to_vec())
        }
    }
}

fn convert(form: &Form, page: Page) -> Result<Plan, Refusal> {
    let mut fields = Fields::of(form);
    let mut params = Map::new();
    let inputs = page_inputs(form, &mut fields, page, &mut params)?;
    load_fields(form, &mut fields, &mut params);
    print_fields(form, &mut fields, &mut params);
    let tool = if page == Page::Url { "url_to_pdf" } else { "html_to_pdf" };
    let mut steps = vec![step(tool, Value::Object(params))];
    let naming = match split_steps(form)? {
        Some((split, unify)) => {
            steps.extend(split);
            parts_naming(uuid::Uuid::new_v4().to_string(), unify)
        }
        None => Naming::New,
    };
    form.unsupported(&[("flatten", "false")], &mut fields.errors);
    post_processing(form, &mut fields, &mut steps, Formats::Chromium);
    fields.finish()?;
    Ok(Plan { inputs, steps, naming })
}

fn screenshot(form: &Form, page: Page) -> Result<Plan, Refusal> {
    let mut fields = Fields::of(form);
    let mut params = Map::new();
    let inputs = page_inputs(form, &mut fields, page, &mut params)?;
    load_fields(form, &mut fields, &mut params);
    screenshot_fields(&mut fields, &mut params);
    fields.finish()?;
    Ok(Plan { inputs, steps: vec![step("screenshot", Value::Object(params))], naming: Naming::New })
}

/// What a route makes of its page.
#[derive(Clone, Copy)]
enum Output {
    Pdf,
    Screenshot,
}

/// The six routes: `convert` and `screenshot`, each of HTML, a URL and Markdown.
pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for (output, verb) in [(Output::Pdf, "convert"), (Output::Screenshot, "screenshot")] {
        for (page, noun) in [(Page::Html, "html"), (Page::Url, "url"), (Page::Markdown, "markdown")] {
            let handler = move |State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body| async move {
                let plan = |form: &Form| match output {
                    Output::Pdf => convert(form, page),
                    Output::Screenshot => screenshot(form, page),
                };
                call(&state, &caller, &headers, body, plan).await.into_response()
            };
            router = router.route(&format!("/forms/chromium/{verb}/{noun}"), post(handler));
        }
    }
    router
}
