//! Gotenberg's answers: errors as `text/plain` with its statuses and wording, results as one
//! attachment (or a zip of several) named as Gotenberg names them.

use crate::download::{file_response, zip_response};
use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scanpro_core::ErrorCode;
use scanpro_pipeline::Pipeline;
use scanpro_store::FileRecord;

/// A refused or failed call, answered as Gotenberg answers it.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    body: String,
}

impl Refusal {
    fn new(status: StatusCode, body: impl Into<String>) -> Self {
        Self { status, body: body.into() }
    }

    /// Form validation: every error of the form at once.
    pub fn form(errors: Vec<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, format!("Invalid form data: {}", errors.join("\n")))
    }

    pub fn set_status(&mut self, status: StatusCode) {
        self.status = status;
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A URL refused by the address checks.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden")
    }

    pub fn malformed_body() -> Self {
        Self::bad_request("Malformed body: it does not match the 'Content-Type' header boundaries")
    }

    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request body exceeds the configured size limit. Reduce the files and form values sent.",
        )
    }

    pub fn timeout() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The request exceeded the time limit. Increase it with --api-timeout, or reduce the workload.",
        )
    }
}

impl From<ApiError> for Refusal {
    /// ScanPro's errors in Gotenberg's classes: the document's or the form's fault is a `400`
    /// with the reason, a full queue a `429`, limits keep their status; the rest is a `500`.
    fn from(error: ApiError) -> Self {
        match error.code {
            ErrorCode::Busy | ErrorCode::RateLimited => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "The request queue is full. Retry shortly, or raise the limit with --chromium-max-queue-size or --libreoffice-max-queue-size.",
            ),
            ErrorCode::FileTooLarge | ErrorCode::PayloadTooLarge => Self::too_large(),
            ErrorCode::StepTimeout | ErrorCode::EngineTimeout => Self::timeout(),
            ErrorCode::Unauthorized => Self::new(StatusCode::UNAUTHORIZED, "Unauthorized"),
            ErrorCode::Forbidden => Self::new(StatusCode::FORBIDDEN, "Forbidden"),
            // Chromium's main page or resources failed as the form asked to notice.
            ErrorCode::PageFailed => Self::new(StatusCode::CONFLICT, error.message),
            ErrorCode::NotFound => Self::new(StatusCode::NOT_FOUND, "Not Found"),
            ErrorCode::InternalError | ErrorCode::Unavailable => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            }
            // Limits keep their own status (402, 409…); every fault of the document or the form is
            // Gotenberg's 400.
            code => {
                let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
                let own = matches!(status, StatusCode::PAYMENT_REQUIRED | StatusCode::CONFLICT | StatusCode::FORBIDDEN);
                Self::new(if own { status } else { StatusCode::BAD_REQUEST }, error.message)
            }
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=UTF-8"));
        response
    }
}

/// How the outputs are named: new files get a fresh name, files changed in place keep theirs.
pub enum Naming {
    /// `<uuid>.pdf`.
    New,
    /// Each output keeps its input's name (outputs and inputs pair by position).
    InPlace(Vec<String>),
    /// Each output is named by its input's name plus `.pdf` (LibreOffice's `report.docx.pdf`).
    Appended(Vec<String>),
    /// The parts of one split document: `<stem>_0.pdf`, `<stem>_1.pdf`…
    Numbered(String),
}

/// One output as itself, several as a zip; `Gotenberg-Output-Filename` names either.
pub async fn outputs(
    pipeline: &Pipeline,
    mut files: Vec<FileRecord>,
    naming: Naming,
    request: &HeaderMap,
) -> Result<Response, Refusal> {
    let fresh = || uuid::Uuid::new_v4().to_string();
    match &naming {
        Naming::New => {}
        Naming::InPlace(names) | Naming::Appended(names) if names.len() == files.len() => {
            let appended = matches!(naming, Naming::Appended(_));
            for (file, name) in files.iter_mut().zip(names) {
                file.filename = if appended { format!("{name}.pdf") } else { name.clone() };
            }
        }
        Naming::InPlace(_) | Naming::Appended(_) => {}
        Naming::Numbered(stem) => {
            for (index, file) in files.iter_mut().enumerate() {
                file.filename = format!("{stem}_{index}.pdf");
            }
        }
    }
    let chosen = request
        .get("gotenberg-output-filename")
        .and_then(|v| v.to_str().ok())
        .map(super::form::sanitised)
        .filter(|v| !v.is_empty());
    match files.as_mut_slice() {
        [] => Err(Refusal::from(ApiError::new(ErrorCode::InternalError, "no output"))),
        [single] => {
            let extension = single.filename.rsplit_once('.').map_or("pdf", |(_, e)| e).to_owned();
            if let Some(name) = chosen {
                single.filename = format!("{name}.{extension}");
            } else if matches!(naming, Naming::New) {
                single.filename = format!("{}.{extension}", fresh());
            }
            let response = file_response(pipeline, single, &HeaderMap::new()).await.map_err(Refusal::from)?;
            Ok(attachment(response, &single.filename))
        }
        several => {
            let name = format!("{}.zip", chosen.unwrap_or_else(fresh));
            let response = zip_response(pipeline, several, &name).await.map_err(Refusal::from)?;
            Ok(attachment(response, &name))
        }
    }
}

/// Gotenberg's `Content-Disposition` (echo's `c.Attachment`): the name quoted, `\` and `"`
/// escaped, UTF-8 sent as is.
fn attachment(mut response: Response, name: &str) -> Response {
    let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
    if let Ok(value) = HeaderValue::from_bytes(format!("attachment; filename=\"{escaped}\"").as_bytes()) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
