//! The one place errors become HTTP: a status per stable code, and an
//! `application/problem+json` body (RFC 9457) carrying `code` and a message that names the problem.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scanpro_core::{ErrorCode, ToolError};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Extra members of the problem body (e.g. the `job_id` of a failed one-shot job).
    pub job_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the error kind: `/errors/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, naming the field or file at fault and how to fix it.
    pub detail: String,
    /// Stable machine-readable code, e.g. `unsupported_format`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), job_id: None }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }
}

impl From<ToolError> for ApiError {
    fn from(e: ToolError) -> Self {
        Self::new(e.code, e.message)
    }
}

impl From<scanpro_pipeline::Error> for ApiError {
    fn from(e: scanpro_pipeline::Error) -> Self {
        match e {
            scanpro_pipeline::Error::Rejected(e) => e.into(),
            scanpro_pipeline::Error::Store(e) => e.into(),
        }
    }
}

impl From<scanpro_store::StoreError> for ApiError {
    fn from(e: scanpro_store::StoreError) -> Self {
        let code = e.code();
        let message = match code {
            // Internal detail stays in the log.
            ErrorCode::Unavailable => "storage is unavailable; retry shortly".to_owned(),
            ErrorCode::InternalError => "internal error".to_owned(),
            _ => e.to_string(),
        };
        if !code.is_client_error() {
            tracing::error!(error = %e, "storage error");
        }
        Self::new(code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.code);
        let problem = Problem {
            kind: format!("/errors/{}", self.code),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.message,
            code: self.code.as_str().to_owned(),
            job_id: self.job_id,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if matches!(self.code, ErrorCode::FileTooLarge | ErrorCode::PayloadTooLarge) {
            // The rest of the body was not read: the connection cannot carry another request.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if matches!(self.code, ErrorCode::Unavailable | ErrorCode::Busy | ErrorCode::LimitExceeded) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route; see /api/docs")
}

pub async fn method_not_allowed() -> Response {
    let mut response =
        ApiError::new(ErrorCode::BadRequest, "this method is not allowed here; see /api/docs").into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

impl From<axum::extract::multipart::MultipartRejection> for ApiError {
    fn from(e: axum::extract::multipart::MultipartRejection) -> Self {
        Self::bad_request(format!("expected a multipart/form-data body: {}", e.body_text()))
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        Self::new(ErrorCode::InvalidParams, format!("query: {}", e.body_text()))
    }
}

/// A handler panic becomes a 500 problem; the server lives on.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(ErrorCode::InternalError, "internal error").into_response()
}
