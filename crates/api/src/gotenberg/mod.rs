//! Gotenberg 8's HTTP API, so Gotenberg's clients work against ScanPro with only the base URL
//! changed: `/health`, `/version` and the `/forms/…` routes, with Gotenberg's field names,
//! defaults, statuses, headers (`Gotenberg-Trace`, `Gotenberg-Output-Filename`) and output names.
//! Each call runs as one job of its caller through the pipeline (so accounts, quotas, limits,
//! metrics and the engine services apply) and is answered when the job ends.
//!
//! - [`form`]: the body read as Gotenberg reads it, and its typed fields.
//! - [`reply`]: Gotenberg's errors and results.
//! - [`chromium`]: the Chromium routes.
//! - [`webhook`]: asynchronous calls, answered `204` and delivered to the caller's URLs.
//! - [`download`]: `downloadFrom`, files fetched from URLs as if uploaded.
//! - here: each route turns its form into the job's steps ([`Plan`]).
//!
//! A field ScanPro cannot honour is refused as an invalid form field, never ignored.

mod chromium;
mod download;
mod form;
mod reply;
mod webhook;

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use form::{Fields, Form, Upload};
use reply::{Naming, Refusal};
use scanpro_core::job::{JobSpec, JobStatus, StepSpec};
use scanpro_pipeline::Caller;
use serde_json::{Value, json};

/// The Gotenberg release whose API this is.
const GOTENBERG_VERSION: &str = "8.36.0";
const TRACE: &str = "gotenberg-trace";

/// The extensions `/forms/libreoffice/convert` takes (Gotenberg's list).
const OFFICE_EXTENSIONS: &[&str] = &[
    ".123", ".602", ".abw", ".bib", ".bmp", ".cdr", ".cgm", ".cmx", ".csv", ".cwk", ".dbf", ".dif", ".doc", ".docm",
    ".docx", ".dot", ".dotm", ".dotx", ".dxf", ".emf", ".eps", ".epub", ".fodg", ".fodp", ".fods", ".fodt", ".fopd",
    ".gif", ".htm", ".html", ".hwp", ".jpeg", ".jpg", ".key", ".ltx", ".lwp", ".mcw", ".met", ".mml", ".mw",
    ".numbers", ".odd", ".odg", ".odm", ".odp", ".ods", ".odt", ".otg", ".oth", ".otp", ".ots", ".ott", ".pages",
    ".pbm", ".pcd", ".pct", ".pcx", ".pdb", ".pdf", ".pgm", ".png", ".pot", ".potm", ".potx", ".ppm", ".pps", ".ppsm",
    ".ppsx", ".ppt", ".pptm", ".pptx", ".psd", ".psw", ".pub", ".pwp", ".pxl", ".ras", ".rtf", ".sda", ".sdc", ".sdd",
    ".sdp", ".sdw", ".sgl", ".slk", ".smf", ".stc", ".std", ".sti", ".stw", ".svg", ".svm", ".swf", ".sxc", ".sxd",
    ".sxg", ".sxi", ".sxm", ".sxw", ".tga", ".tif", ".tiff", ".txt", ".uof", ".uop", ".uos", ".uot", ".vdx", ".vor",
    ".vsd", ".vsdm", ".vsdx", ".wb2", ".wk1", ".wks", ".wmf", ".wpd", ".wpg", ".wps", ".xbm", ".xhtml", ".xls",
    ".xlsb", ".xlsm", ".xlsx", ".xlt", ".xltm", ".xltx", ".xlw", ".xml", ".xpm", ".zabw",
];

/// Gotenberg's routes, behind `identify` and the rate limits like the rest of the API.
pub fn router(state: AppState) -> Router<AppState> {
    let forms = Router::new()
        .route("/forms/pdfengines/merge", post(merge))
        .route("/forms/pdfengines/split", post(split))
        .route("/forms/pdfengines/rotate", post(rotate))
        .route("/forms/pdfengines/encrypt", post(encrypt))
        .route("/forms/pdfengines/convert", post(convert))
        .route("/forms/pdfengines/metadata/write", post(write_metadata))
        .route("/forms/pdfengines/flatten", post(flatten))
        .route("/forms/pdfengines/embed", post(embed))
        .route("/forms/pdfengines/metadata/read", post(read_metadata))
        .route("/forms/libreoffice/convert", post(libreoffice))
        .merge(chromium::routes())
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(trace));
    Router::new()
        .route("/health", get(health))
        .route("/version", get(|| async { ([(header::CONTENT_TYPE, "text/plain; charset=UTF-8")], GOTENBERG_VERSION) }))
        .merge(forms)
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::rate_limit::enforce))
        .layer(axum::middleware::from_fn_with_state(state, crate::auth::identify))
        .layer(axum::middleware::from_fn(refusals_as_gotenberg))
}

/// The refusals of the layers in front (credentials, rate limits) in Gotenberg's words.
async fn refusals_as_gotenberg(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    match response.status() {
        StatusCode::UNAUTHORIZED if is_problem => {
            let mut refused = (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
            let headers = refused.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=UTF-8"));
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("basic realm=Restricted"));
            refused
        }
        StatusCode::TOO_MANY_REQUESTS if is_problem => {
            let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
            let mut refused = Refusal::from(ApiError::new(scanpro_core::ErrorCode::RateLimited, "")).into_response();
            if let Some(retry_after) = retry_after {
                refused.headers_mut().insert(header::RETRY_AFTER, retry_after);
            }
            refused
        }
        _ => response,
    }
}

/// Echoes the caller's `Gotenberg-Trace`, or answers with a new one.
async fn trace(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut request = request;
    let id =
        request.headers().get(TRACE).cloned().unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("a UUID is a header value")
        });
    // The handler sees the trace too: asynchronous calls send it with their callbacks.
    request.headers_mut().insert(TRACE, id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(TRACE, id);
    response
}

/// Gotenberg's health document: `up` when the Chromium and LibreOffice engines can both work.
async fn health(State(state): State<AppState>) -> Response {
    use scanpro_tools::Engine;
    let engines = state.pipeline.engine_status().await;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let mut details = serde_json::Map::new();
    let mut up = true;
    for engine in [Engine::Chromium, Engine::Libreoffice] {
        let status = engines.iter().find(|e| e.engine == engine);
        let available = status.is_some_and(|e| e.available);
        up &= available;
        let mut check = json!({"status": if available { "up" } else { "down" }, "timestamp": now});
        if let Some(status) = status.filter(|e| !e.available) {
            check["error"] = json!(status.detail);
        }
        details.insert(engine.as_str().into(), check);
    }
    let body = json!({"status": if up { "up" } else { "down" }, "details": details});
    let status = if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::EXPIRES, HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"));
    response
}

/// What a call runs: its inputs, its steps, and how its outputs are named.
pub(super) struct Plan {
    pub(super) inputs: Vec<Upload>,
    pub(super) steps: Vec<StepSpec>,
    pub(super) naming: Naming,
}

pub(super) fn step(tool: &str, params: Value) -> StepSpec {
    StepSpec { tool: tool.into(), params }
}

pub(super) type Body = Result<Multipart, MultipartRejection>;

/// How long an asynchronous call's job may take before it is cancelled and reported as timed out.
const WEBHOOK_WAIT: std::time::Duration = std::time::Duration::from_secs(3600);

/// Reads the form, plans the job, runs it and answers with its outputs; with
/// `Gotenberg-Webhook-Url`, answers `204` once the job is accepted and delivers the outcome later.
pub(super) async fn call(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: Body,
    plan: impl FnOnce(&Form) -> Result<Plan, Refusal>,
) -> Result<Response, Refusal> {
    let hook = webhook::Hook::from_headers(headers, state.pipeline.settings.webhook_allow_private_hosts)?;
    let form = open_form(state, caller, headers, body).await?;
    let Plan { inputs, steps, naming } = plan(&form)?;
    let job = submit_job(state, caller, &inputs, steps).await?;
    let Some(hook) = hook else {
        return finish(state, caller, job, naming, headers, state.settings.oneshot_wait).await;
    };
    let trace = headers.get(TRACE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (state, caller, headers) = (state.clone(), caller.clone(), headers.clone());
    tokio::spawn(async move {
        let result = finish(&state, &caller, job, naming, &headers, WEBHOOK_WAIT).await;
        hook.deliver(result, trace).await;
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Waits for `job` and answers with its outputs as Gotenberg names them.
async fn finish(
    state: &AppState,
    caller: &Caller,
    job: scanpro_store::JobRecord,
    naming: Naming,
    headers: &HeaderMap,
    wait: std::time::Duration,
) -> Result<Response, Refusal> {
    let job = wait_for_success(state, caller, job, wait).await?;
    let files = state.pipeline.outputs(&job).await.map_err(|e| Refusal::from(ApiError::from(e)))?;
    reply::outputs(&state.pipeline, files, naming, headers).await
}

/// The checks every `/forms` route makes first, then its form (with the files of `downloadFrom`):
/// a multipart body, and no file field whose feature ScanPro lacks.
async fn open_form(state: &AppState, caller: &Caller, headers: &HeaderMap, body: Body) -> Result<Form, Refusal> {
    let multipart = body.map_err(|_| {
        let mut refusal = Refusal::bad_request("Invalid 'Content-Type' header value: want 'multipart/form-data'");
        refusal.set_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        refusal
    })?;
    let mut form = Form::read(state, caller, multipart).await?;
    if let Some(value) = form.value("downloadFrom").map(str::to_owned) {
        let trace = headers.get(TRACE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let downloaded = download::download_all(state, caller, &value, trace).await?;
        form.add_downloaded(downloaded);
    }
    let mut fields = Fields::of(&form);
    form.unsupported(&[], &mut fields.errors);
    fields.finish()?;
    Ok(form)
}

/// Runs `steps` on `inputs` as one job of `caller` and waits for it to succeed.
async fn run_job(
    state: &AppState,
    caller: &Caller,
    inputs: &[Upload],
    steps: Vec<StepSpec>,
) -> Result<scanpro_store::JobRecord, Refusal> {
    let job = submit_job(state, caller, inputs, steps).await?;
    wait_for_success(state, caller, job, state.settings.oneshot_wait).await
}

/// Queues `steps` on `inputs` as one job of `caller`.
async fn submit_job(
    state: &AppState,
    caller: &Caller,
    inputs: &[Upload],
    steps: Vec<StepSpec>,
) -> Result<scanpro_store::JobRecord, Refusal> {
    let spec = JobSpec { inputs: inputs.iter().map(|u| u.file).collect(), steps, webhook_url: None, tag: None };
    let (job, _) = state.pipeline.submit(caller, spec, None).await.map_err(|e| Refusal::from(ApiError::from(e)))?;
    Ok(job)
}

/// Waits up to `wait` for `job` to succeed; a failure is its error, a job still running past
/// `wait` is cancelled.
async fn wait_for_success(
    state: &AppState,
    caller: &Caller,
    job: scanpro_store::JobRecord,
    wait: std::time::Duration,
) -> Result<scanpro_store::JobRecord, Refusal> {
    let job = state.pipeline.wait_for_end(job, wait).await.map_err(|e| Refusal::from(ApiError::from(e)))?;
    match job.status {
        JobStatus::Succeeded => Ok(job),
        JobStatus::Failed | JobStatus::Cancelled => {
            let error = job.error.unwrap_or_else(|| scanpro_core::ToolError::internal("the job failed"));
            Err(Refusal::from(ApiError { code: error.code, message: error.message, job_id: Some(job.id.to_string()) }))
        }
        JobStatus::Queued | JobStatus::Running => {
            // Gotenberg abandons a call past its time limit; so does ScanPro, not leaving it to run.
            let _ = state.pipeline.cancel(&caller.owner, job.id).await;
            Err(Refusal::timeout())
        }
    }
}

/// Who writes PDF/A and PDF/UA on a route.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Formats {
    /// LibreOffice, while it converts a single document: both are its own export.
    Native,
    /// Chromium renders tagged and the result is identified as PDF/UA; PDF/A is Ghostscript's
    /// afterwards, which drops the tags, so not both.
    Chromium,
    /// PDF/A by Ghostscript afterwards; PDF/UA refused, since merging and splitting drop the tags.
    Afterwards,
}

/// Post-processing fields shared by the conversion and merge routes, as steps after `steps`:
/// PDF/A and PDF/UA (as `formats` says), metadata, rotation, flattening, then encryption. The
/// rest of Gotenberg's groups are refused.
pub(super) fn post_processing(form: &Form, fields: &mut Fields, steps: &mut Vec<StepSpec>, formats: Formats) {
    if !form.embeds().is_empty() {
        fields.errors.push(
            "form file field 'embeds' is invalid (resulting to not supported by ScanPro on this route; use /forms/pdfengines/embed)".into(),
        );
    }
    form.unsupported(
        &[
            ("watermarkSource", ""),
            ("stampSource", ""),
            ("embedsMetadata", ""),
            ("optimizeImages", "false"),
            ("facturxConformanceLevel", ""),
            ("autoIndexBookmarks", "false"),
            ("titleBookmarks", "false"),
            ("bookmarks", ""),
        ],
        &mut fields.errors,
    );
    // Gotenberg's order: rotation, flattening, PDF/A, metadata, and encryption last.
    if let Some(angle) = fields.choice("rotateAngle", &["90", "180", "270"]) {
        steps.push(step(
            "rotate",
            json!({"angle": angle.parse::<i32>().unwrap_or(90), "pages": fields.string("rotatePages")}),
        ));
    }
    if fields.bool("flatten", false) {
        steps.push(step("flatten", json!({})));
    }
    let level = pdfa_level(form, fields);
    let pdfua = fields.bool("pdfua", false);
    let native = formats == Formats::Native && steps.len() == 1;
    if pdfua {
        match formats {
            Formats::Native if native => steps[0].params["pdfua"] = json!(true),
            Formats::Chromium if level.is_none() && steps.len() == 1 => steps[0].params["pdfua"] = json!(true),
            Formats::Chromium if level.is_some() => fields.errors.push(
                "form field 'pdfua' is invalid (got 'true', resulting to PDF/A conversion after Chromium drops the tags PDF/UA needs; ask for one of pdfa and pdfua)".into(),
            ),
            _ => fields.errors.push(
                "form field 'pdfua' is invalid (got 'true', resulting to ScanPro writes PDF/UA only while converting a document: the tags it needs do not survive merging, splitting or a later conversion)".into(),
            ),
        }
    }
    match level {
        Some(level) if native => steps[0].params["pdfa"] = json!(level),
        Some(level) => steps.push(step("pdfa", json!({"level": level}))),
        None => {}
    }
    if let Some(metadata) = fields.json("metadata") {
        match metadata_params(&metadata) {
            Ok(params) => steps.push(step("metadata", params)),
            Err(why) => fields.errors.push(why),
        }
    }
    if let Some(params) = encryption(form, fields, false) {
        if level.is_some() {
            fields.errors.push("PDF/A format is incompatible with encryption".into());
        }
        steps.push(step("protect", params));
    }
}

/// `pdfa` as ScanPro's level (`PDF/A-2b` → `2b`); the accessible variants are refused.
fn pdfa_level(form: &Form, fields: &mut Fields) -> Option<&'static str> {
    match form.value("pdfa")? {
        "PDF/A-1b" => Some("1b"),
        "PDF/A-2b" => Some("2b"),
        "PDF/A-3b" => Some("3b"),
        other => {
            fields.errors.push(format!(
                "form field 'pdfa' is invalid (got '{other}', resulting to the requested PDF format is not supported; valid formats are PDF/A-1b, PDF/A-2b and PDF/A-3b)"
            ));
            None
        }
    }
}

/// Gotenberg's ExifTool metadata as the `metadata` tool's parameters.
fn metadata_params(metadata: &Value) -> Result<Value, String> {
    let Some(entries) = metadata.as_object() else {
        return Err("form field 'metadata' is invalid (resulting to expected a JSON object)".into());
    };
    let mut params = serde_json::Map::new();
    for (key, value) in entries {
        let param = match key.as_str() {
            "Title" => "title",
            "Author" => "author",
            "Subject" => "subject",
            "Keywords" => "keywords",
            "Creator" => "creator",
            "CreationDate" | "CreateDate" => "creation_date",
            "ModDate" => "mod_date",
            other => {
                return Err(format!(
                    "form field 'metadata' is invalid (resulting to tag '{other}' cannot be written by ScanPro)"
                ));
            }
        };
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        };
        params.insert(param.into(), Value::String(text));
    }
    Ok(Value::Object(params))
}

/// The ENC group as the `protect` tool's parameters; `required`: one password must be given.
fn encryption(form: &Form, fields: &mut Fields, required: bool) -> Option<Value> {
    let user = fields.string("userPassword").unwrap_or_default();
    let owner = fields.string("ownerPassword").unwrap_or_default();
    let allowed = [
        ("allowPrinting", "print"),
        ("allowCopying", "copy"),
        ("allowModifying", "modify"),
        ("allowAnnotating", "annotate"),
        ("allowFillingForms", "fill_forms"),
    ];
    let mut permissions = serde_json::Map::new();
    for (field, flag) in allowed {
        if !fields.bool(field, true) {
            permissions.insert(flag.into(), json!(false));
        }
    }
    form.unsupported(&[("allowAssembling", "true")], &mut fields.errors);
    if user.is_empty() && owner.is_empty() {
        if required {
            fields.errors.push("a 'userPassword' or 'ownerPassword' is required".into());
        } else if !permissions.is_empty() {
            fields.errors.push("restrictions need a 'userPassword' or an 'ownerPassword'".into());
        }
        return None;
    }
    // Without an owner password the tool picks one that keeps the restrictions.
    let mut params = json!({"user_password": user});
    if !owner.is_empty() {
        params["owner_password"] = json!(owner);
    }
    if !permissions.is_empty() {
        params["permissions"] = Value::Object(permissions);
    }
    Some(params)
}

fn names(inputs: &[Upload]) -> Vec<String> {
    inputs.iter().map(|u| u.name.clone()).collect()
}

async fn merge(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let planned = call(&state, &caller, &headers, body, |form| {
        let inputs = form.inputs(&[".pdf"])?;
        let mut fields = Fields::of(form);
        let mut steps = vec![step("merge", json!({}))];
        post_processing(form, &mut fields, &mut steps, Formats::Afterwards);
        fields.finish()?;
        Ok(Plan { inputs, steps, naming: Naming::New })
    });
    planned.await.into_response()
}

async fn split(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let planned = call(&state, &caller, &headers, body, |form| {
        let inputs = form.inputs(&[".pdf"])?;
        let mut fields = Fields::of(form);
        fields.required("splitMode");
        fields.required("splitSpan");
        fields.finish()?;
        let (mut steps, unify) = split_steps(form)?.unwrap_or_default();
        let mut fields = Fields::of(form);
        post_processing(form, &mut fields, &mut steps, Formats::Afterwards);
        fields.finish()?;
        let naming = split_naming(&inputs, unify);
        Ok(Plan { inputs, steps, naming })
    });
    planned.await.into_response()
}

/// Gotenberg's SPLIT group as the steps that split a PDF, and whether the parts are unified into
/// one; `None` without a `splitMode`.
pub(super) fn split_steps(form: &Form) -> Result<Option<(Vec<StepSpec>, bool)>, Refusal> {
    let Some(mode) = form.value("splitMode") else { return Ok(None) };
    let mut fields = Fields::of(form);
    let span = fields.required("splitSpan").map(|s| s.replace(' ', "")).unwrap_or_default();
    let unify = fields.bool("splitUnify", false);
    fields.finish()?;
    let unsupported = || {
        Refusal::bad_request(
            "The requested split mode is not supported, or no PDF engine could process it. Valid modes: 'intervals', 'pages'.",
        )
    };
    let steps = match (mode, unify) {
        ("intervals", false) => match span.parse::<u32>() {
            Ok(every) if every >= 1 => vec![step("split", json!({"mode": "every", "every": every}))],
            _ => return Err(unsupported()),
        },
        ("pages", false) => vec![step("extract_pages", json!({"pages": span})), step("split", json!({"mode": "each"}))],
        ("pages", true) => vec![step("extract_pages", json!({"pages": span}))],
        _ => return Err(unsupported()),
    };
    Ok(Some((steps, unify)))
}

/// The names of one converted document's parts: `<stem>_0.pdf`…, or `<stem>.pdf` when unified.
pub(super) fn parts_naming(stem: String, unify: bool) -> Naming {
    if unify { Naming::InPlace(vec![format!("{stem}.pdf")]) } else { Naming::Numbered(stem) }
}

/// Gotenberg's split names for one input: `<stem>_0.pdf`, `<stem>_1.pdf`…, or `<stem>.pdf` when
/// unified.
fn split_naming(inputs: &[Upload], unify: bool) -> Naming {
    match inputs {
        [single] => {
            let stem = single.name.rsplit_once('.').map_or(single.name.as_str(), |(stem, _)| stem).to_owned();
            parts_naming(stem, unify)
        }
        _ => Naming::New,
    }
}

async fn rotate(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let planned = call(&state, &caller, &headers, body, |form| {
        let inputs = form.inputs(&[".pdf"])?;
        let mut fields = Fields::of(form);
        let angle = fields.required("rotateAngle");
        let angle = angle.and_then(|a| {
            let parsed = a.parse::<i32>().ok().filter(|a| [90, 180, 270].contains(a));
            if parsed.is_none() {
                fields.errors.push(format!(
                    "form field 'rotateAngle' is invalid (got '{a}', resulting to expected 90, 180 or 270)"
                ));
            }
            parsed
        });
        let pages = fields.string("rotatePages");
        fields.finish()?;
        let steps = vec![step("rotate", json!({"angle": angle, "pages": pages}))];
        Ok(Plan { naming: Naming::InPlace(names(&inputs)), inputs, steps })
    });
    planned.await.into_response()
}

async fn encrypt(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let planned = call(&state, &caller, &headers, body, |form| {
        let inputs = form.inputs(&[".pdf"])?;
        let mut fields = Fields::of(form);
        let params = encryption(form, &mut fields, true);
        fields.finish()?;
        let steps = vec![step("protect", params.unwrap_or_default())];
        Ok(Plan { naming: Naming::InPlace(names(&inputs)), inputs, steps })
    });
    planned.await.into_response()
}

async fn convert(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let planned = call(&state, &caller, &headers, body, |form| {
        let inputs = form.inputs(&[".pdf"])?;
        let mut fields = Fields::of(form);
        let level = pdfa_level(form, &mut fields);
        let universal = fields.bool("pdfua", false);
        if level.is_some() && universal {
            fields.errors.push(
                "form field 'pdfua' is invalid (got 'true', resulting to the PDF/A conversion drops the tags PDF/UA needs; ask for one of pdfa and pdfua)".into(),
            );
        }
        fields.finish()?;
        if level.is_none() && !universal {
            return Err(Refusal::form(vec!["either 'pdfa' or 'pdfua' form fields must be provided".into()]));
        }
        let steps = match level {
            Some(level) => vec![step("pdfa", json!({"level": level}))],
            None => vec![step("pdfua", json!({}))],
        };
        let naming = if inputs.len() == 1 { Naming::New } else { Naming::InPlace(names(&inputs)) };
        Ok(Plan { inputs, steps, naming })
    });
    planned.await.into_response()
}

async fn flatten(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let planned = call(&state, &caller, &headers, body, |form| {
        let inputs = form.inputs(&[".pdf"])?;
        let steps = vec![step("flatten", json!({}))];
        Ok(Plan { naming: Naming::InPlace(names(&inputs)), inputs, steps })
    });
    planned.await.into_response()
}

/// The files of `embeds` attached to every PDF, with `embedsMetadata`'s MIME types and
/// relationships; the PDFs keep their names.
async fn embed(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let planned = call(&state, &caller, &headers, body, |form| {
        let pdfs = form.inputs(&[".pdf"])?;
        let mut fields = Fields::of(form);
        let embeds = form.embeds().to_vec();
        if embeds.is_empty() {
            fields.errors.push("form file field 'embeds' is required".into());
        }
        let mut metadata = serde_json::Map::new();
        match fields.json("embedsMetadata") {
            Some(Value::Object(entries)) => {
                for (name, entry) in entries {
                    let mut meta = serde_json::Map::new();
                    if let Some(mime) = entry.get("mimeType").and_then(Value::as_str) {
                        meta.insert("mime_type".into(), json!(mime));
                    }
                    match entry.get("relationship").and_then(Value::as_str) {
                        Some(r @ ("Source" | "Data" | "Alternative" | "Supplement" | "Unspecified")) => {
                            meta.insert("relationship".into(), json!(r));
                        }
                        Some(other) => fields.errors.push(format!(
                            "form field 'embedsMetadata' is invalid (got '{other}', resulting to expected Source, Data, Alternative, Supplement or Unspecified)"
                        )),
                        None => {}
                    }
                    metadata.insert(name, Value::Object(meta));
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => fields.errors.push(format!(
                "form field 'embedsMetadata' is invalid (got '{other}', resulting to expected an object)"
            )),
        }
        form.unsupported(&[("facturxConformanceLevel", ""), ("pdfa", ""), ("pdfua", "false")], &mut fields.errors);
        fields.finish()?;
        let steps = vec![step("attach", json!({"files": embeds.len(), "metadata": metadata}))];
        let naming = Naming::InPlace(names(&pdfs));
        let inputs = pdfs.into_iter().chain(embeds).collect();
        Ok(Plan { inputs, steps, naming })
    });
    planned.await.into_response()
}

/// `{"<file>.pdf": {ExifTool tags}}`: one `info` job per file (the tool reads one document).
async fn read_metadata(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let read = async {
        if headers.contains_key("gotenberg-webhook-url") {
            return Err(Refusal::bad_request("This route answers JSON and cannot be used with a webhook"));
        }
        let form = open_form(&state, &caller, &headers, body).await?;
        let mut answer = serde_json::Map::new();
        for upload in form.inputs(&[".pdf"])? {
            let job = run_job(&state, &caller, std::slice::from_ref(&upload), vec![step("info", json!({}))]).await?;
            let report = job.steps.first().and_then(|s| s.report.clone()).unwrap_or_default();
            answer.insert(upload.name.clone(), exiftool_tags(&report));
        }
        Ok::<_, Refusal>(axum::Json(Value::Object(answer)))
    };
    read.await.into_response()
}

/// `info`'s report under ExifTool's tag names, as Gotenberg answers: dates as ExifTool writes
/// them (`2006:09:18 16:27:50-04:00`), `PageCount` a number.
fn exiftool_tags(report: &Value) -> Value {
    let metadata = &report["metadata"];
    let mut tags = serde_json::Map::new();
    for (field, tag) in [
        ("title", "Title"),
        ("author", "Author"),
        ("subject", "Subject"),
        ("keywords", "Keywords"),
        ("creator", "Creator"),
        ("producer", "Producer"),
        ("creation_date", "CreateDate"),
        ("mod_date", "ModDate"),
    ] {
        if let Some(text) = metadata[field].as_str() {
            let value = if field.ends_with("_date") { exiftool_date(text) } else { text.to_owned() };
            tags.insert(tag.into(), Value::String(value));
        }
    }
    tags.insert("PageCount".into(), report["pages"].clone());
    if let Some(version) = report["pdf_version"].as_str().and_then(|v| v.parse::<f64>().ok()) {
        tags.insert("PDFVersion".into(), json!(version));
    }
    Value::Object(tags)
}

/// `D:20230122120000+01'00'` as `2023:01:22 12:00:00+01:00`; anything else as written.
fn exiftool_date(pdf: &str) -> String {
    let digits = pdf.trim_start_matches("D:");
    if digits.len() < 14 || !digits[..14].bytes().all(|b| b.is_ascii_digit()) {
        return pdf.to_owned();
    }
    let d = &digits[..14];
    let zone = digits[14..].replace('\'', "");
    let zone = match zone.as_str() {
        "" | "Z" => zone.clone(),
        z if z.len() == 5 => format!("{}:{}", &z[..3], &z[3..]),
        z => z.to_owned(),
    };
    format!("{}:{}:{} {}:{}:{}{zone}", &d[..4], &d[4..6], &d[6..8], &d[8..10], &d[10..12], &d[12..14])
}

async fn write_metadata(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let planned = call(&state, &caller, &headers, body, |form| {
        let inputs = form.inputs(&[".pdf"])?;
        let mut fields = Fields::of(form);
        fields.required("metadata");
        let params = fields.json("metadata").map(|m| metadata_params(&m));
        let params = match params {
            Some(Ok(params)) => Some(params),
            Some(Err(why)) => {
                fields.errors.push(why);
                None
            }
            None => None,
        };
        fields.finish()?;
        let steps = vec![step("metadata", params.unwrap_or_default())];
        Ok(Plan { naming: Naming::InPlace(names(&inputs)), inputs, steps })
    });
    planned.await.into_response()
}

async fn libreoffice(State(state): State<AppState>, Auth(caller): Auth, headers: HeaderMap, body: Body) -> Response {
    let planned = call(&state, &caller, &headers, body, |form| {
        let inputs = form.inputs(OFFICE_EXTENSIONS)?;
        let mut fields = Fields::of(form);
        let native_formats = fields.bool("nativePdfFormats", true);
        let params = libreoffice_params(&mut fields);
        let merged = fields.bool("merge", false);
        let split = split_steps(form)?;
        let mut steps = vec![step("office_to_pdf", params)];
        if merged {
            steps.push(step("merge", json!({})));
        }
        if split.is_some() && inputs.len() > 1 && !merged {
            fields.errors.push(
                "form field 'splitMode' is invalid (resulting to ScanPro splits one converted document: merge them, or send them one by one)".into(),
            );
        }
        let naming = match split {
            Some((split, unify)) => {
                steps.extend(split);
                let stem = if merged { uuid::Uuid::new_v4().to_string() } else { inputs[0].name.clone() };
                parts_naming(stem, unify)
            }
            None if merged || inputs.len() == 1 => Naming::New,
            None => Naming::Appended(names(&inputs)),
        };
        let formats = if native_formats { Formats::Native } else { Formats::Afterwards };
        post_processing(form, &mut fields, &mut steps, formats);
        fields.finish()?;
        Ok(Plan { inputs, steps, naming })
    });
    planned.await.into_response()
}

/// The LibreOffice route's fields as `office_to_pdf`'s parameters, with Gotenberg's defaults
/// (which keep empty pages, unlike LibreOffice's own). PDF/A and PDF/UA are left to
/// [`post_processing`].
fn libreoffice_params(fields: &mut Fields) -> Value {
    let one_of =
        |allowed: &'static [i64], why: &'static str| move |v: i64| if allowed.contains(&v) { Ok(()) } else { Err(why) };
    let at_least_one = |v: i64| if v < 1 { Err("value is inferior to 1") } else { Ok(()) };
    // Each value is checked to be one of the indexes.
    let index = |value: i64| usize::try_from(value).unwrap_or_default();
    let initial_view = ["default", "bookmarks", "thumbnails"]
        [index(fields.int_where("initialView", 0, one_of(&[0, 1, 2], "value is not 0, 1 or 2")))];
    let magnification = ["default", "whole_page", "page_width", "visible_width", "zoom"]
        [index(fields.int_where("magnification", 0, one_of(&[0, 1, 2, 3, 4], "value is not 0, 1, 2, 3 or 4")))];
    let page_layout = ["default", "single_page", "one_column", "two_columns"]
        [index(fields.int_where("pageLayout", 0, one_of(&[0, 1, 2, 3], "value is not 0, 1, 2 or 3")))];
    let mut params = json!({
        "landscape": fields.bool("landscape", false),
        "update_indexes": fields.bool("updateIndexes", true),
        "export_form_fields": fields.bool("exportFormFields", true),
        "allow_duplicate_field_names": fields.bool("allowDuplicateFieldNames", false),
        "export_bookmarks": fields.bool("exportBookmarks", true),
        "bookmarks_as_destinations": fields.bool("exportBookmarksToPdfDestination", false),
        "export_placeholders": fields.bool("exportPlaceholders", false),
        "export_notes": fields.bool("exportNotes", false),
        "export_notes_pages": fields.bool("exportNotesPages", false),
        "export_only_notes_pages": fields.bool("exportOnlyNotesPages", false),
        "notes_in_margin": fields.bool("exportNotesInMargin", false),
        "links_to_pdf": fields.bool("convertOooTargetToPdfTarget", false),
        "relative_file_links": fields.bool("exportLinksRelativeFsys", false),
        "export_hidden_slides": fields.bool("exportHiddenSlides", false),
        "skip_empty_pages": fields.bool("skipEmptyPages", false),
        "embed_original_document": fields.bool("addOriginalDocumentAsStream", false),
        "single_page_sheets": fields.bool("singlePageSheets", false),
        "initial_view": initial_view,
        "initial_page": fields.int_where("initialPage", 1, at_least_one).min(i64::from(u32::MAX)),
        "magnification": magnification,
        "zoom": fields.int_where("zoom", 100, at_least_one).min(6400),
        "page_layout": page_layout,
        "first_page_on_left": fields.bool("firstPageOnLeft", false),
        "resize_window_to_initial_page": fields.bool("resizeWindowToInitialPage", false),
        "center_window": fields.bool("centerWindow", false),
        "full_screen": fields.bool("openInFullScreenMode", false),
        "display_document_title": fields.bool("displayPDFDocumentTitle", true),
        "hide_viewer_menubar": fields.bool("hideViewerMenubar", false),
        "hide_viewer_toolbar": fields.bool("hideViewerToolbar", false),
        "hide_viewer_window_controls": fields.bool("hideViewerWindowControls", false),
        "transition_effects": fields.bool("useTransitionEffects", true),
        "lossless_images": fields.bool("losslessImageCompression", false),
        "image_quality": fields.int_where("quality", 90, |v| match v {
            ..1 => Err("value is inferior to 1"),
            101.. => Err("value is superior to 100"),
            _ => Ok(()),
        }),
    });
    let levels = fields.int_where("openBookmarkLevels", -1, |v| {
        if v == -1 || (1..=10).contains(&v) { Ok(()) } else { Err("value is not -1 or between 1 and 10") }
    });
    if levels != -1 {
        params["open_bookmark_levels"] = json!(levels);
    }
    let reduce = fields.bool("reduceImageResolution", false);
    let resolution = fields.int_where(
        "maxImageResolution",
        300,
        one_of(&[75, 150, 300, 600, 1200], "value is not 75, 150, 300, 600 or 1200"),
    );
    if reduce {
        params["max_image_resolution"] = json!(resolution);
    }
    if let Some(pages) = fields.string("nativePageRanges") {
        params["pages"] = json!(pages);
    }
    if let Some(password) = fields.string("password") {
        params["password"] = json!(password);
    }
    if let Some(text) = fields.string("nativeWatermarkText") {
        params["watermark_text"] = json!(text);
    }
    if let Some(text) = fields.string("nativeTiledWatermarkText") {
        params["tiled_watermark_text"] = json!(text);
    }
    let color = fields.int_where("nativeWatermarkColor", 8_388_223, |v| {
        if (0..=0xFF_FFFF).contains(&v) { Ok(()) } else { Err("value is not a colour between 0 and 16777215") }
    });
    if params.get("watermark_text").is_some() || params.get("tiled_watermark_text").is_some() {
        params["watermark_color"] = json!(format!("#{color:06x}"));
    }
    let height = fields
        .int_where("nativeWatermarkFontHeight", 0, |v| if v < 0 { Err("value is inferior to 0") } else { Ok(()) });
    if height > 0 {
        params["watermark_font_size"] = json!(height);
    }
    // Gotenberg passes LibreOffice's tenths of a degree through.
    let angle = fields.int_where("nativeWatermarkRotateAngle", 0, |v| {
        if (-3600..=3600).contains(&v) { Ok(()) } else { Err("value is not between -3600 and 3600") }
    });
    if angle != 0 {
        params["watermark_angle"] = json!(f64::from(i32::try_from(angle).unwrap_or_default()) / 10.0);
    }
    if let Some(font) = fields.string("nativeWatermarkFontName").filter(|font| font != "Helvetica") {
        params["watermark_font"] = json!(font);
    }
    params
}

#[cfg(test)]
mod tests {
    use super::exiftool_date;

    #[test]
    fn pdf_dates_read_as_exiftool_writes_them() {
        assert_eq!(exiftool_date("D:20230122120000+01'00'"), "2023:01:22 12:00:00+01:00");
        assert_eq!(exiftool_date("D:20230122120000Z"), "2023:01:22 12:00:00Z");
        assert_eq!(exiftool_date("yesterday"), "yesterday");
    }
}
