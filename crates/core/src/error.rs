//! Stable error codes. Clients match on these strings, so a code is never renamed.

use serde::{Deserialize, Serialize};

/// Every error a client can see, as a stable snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A parameter is missing, malformed or out of range; the message names the field.
    InvalidParams,
    /// The request itself is malformed (bad JSON, missing multipart part).
    BadRequest,
    /// The bytes are not a format this tool accepts (detected from content, not the name).
    UnsupportedFormat,
    /// The document is encrypted and no password was given.
    EncryptedInput,
    /// The password given does not open the document.
    WrongPassword,
    /// The PDF is corrupt or truncated beyond repair.
    InvalidPdf,
    /// The upload exceeds the configured size limit.
    FileTooLarge,
    /// The document refers to a file on the server (a linked image, an included file), which is
    /// never read.
    LocalReference,
    /// A web page did not load or render as asked: a failing HTTP status, a resource that could
    /// not be loaded, an exception in its scripts, or a refused address.
    PageFailed,
    /// A request body (a JSON body, a `params` part) exceeds its size limit.
    PayloadTooLarge,
    /// The document exceeds a processing limit (pages, decompressed size, memory).
    ResourceLimit,
    /// The resource does not exist or belongs to someone else.
    NotFound,
    /// The request conflicts with the current state (e.g. an `Idempotency-Key` reused with another body).
    Conflict,
    /// A step ran longer than its deadline and was stopped.
    StepTimeout,
    /// An external engine did not answer in time.
    EngineTimeout,
    /// The job was cancelled.
    Cancelled,
    /// The job was delivered too many times without finishing (dead letter).
    DeliveryLimit,
    /// A dependency (database, queue, storage, engine) is down; retry later.
    Unavailable,
    /// The server is shutting down or overloaded; retry later.
    Busy,
    /// Too many requests from this client.
    RateLimited,
    /// Missing, malformed, expired or revoked credentials (a token, an API key, a session).
    Unauthorized,
    /// The email and password given do not match an account.
    InvalidCredentials,
    /// The account was disabled by an administrator.
    AccountDisabled,
    /// An administrator switched this tool off.
    ToolDisabled,
    /// The owner has as many jobs queued or running as allowed; retry when one ends.
    LimitExceeded,
    /// The owner's monthly operations or stored files reached their quota.
    QuotaExceeded,
    /// The request is not allowed: from where it comes (a cross-site write), for the caller's
    /// role, or for the API key's scopes.
    Forbidden,
    /// Anything unexpected. Logged with its chain; never shown in detail.
    InternalError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidParams => "invalid_params",
            Self::BadRequest => "bad_request",
            Self::UnsupportedFormat => "unsupported_format",
            Self::EncryptedInput => "encrypted_input",
            Self::WrongPassword => "wrong_password",
            Self::InvalidPdf => "invalid_pdf",
            Self::FileTooLarge => "file_too_large",
            Self::PayloadTooLarge => "payload_too_large",
            Self::ResourceLimit => "resource_limit",
            Self::LocalReference => "local_reference",
            Self::PageFailed => "page_failed",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::StepTimeout => "step_timeout",
            Self::EngineTimeout => "engine_timeout",
            Self::Cancelled => "cancelled",
            Self::DeliveryLimit => "delivery_limit",
            Self::Unavailable => "unavailable",
            Self::Busy => "busy",
            Self::RateLimited => "rate_limited",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccountDisabled => "account_disabled",
            Self::ToolDisabled => "tool_disabled",
            Self::LimitExceeded => "limit_exceeded",
            Self::QuotaExceeded => "quota_exceeded",
            Self::Forbidden => "forbidden",
            Self::InternalError => "internal_error",
        }
    }

    /// Errors caused by the input or the request: retrying the same job cannot help.
    pub fn is_client_error(self) -> bool {
        !matches!(self, Self::InternalError | Self::Unavailable | Self::Busy | Self::EngineTimeout | Self::StepTimeout)
    }

    /// The HTTP status this code answers with, on the public API and on engine services alike.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidParams | BadRequest => 400,
            UnsupportedFormat => 415,
            EncryptedInput | WrongPassword | InvalidPdf | ResourceLimit | LocalReference | PageFailed
            | DeliveryLimit => 422,
            FileTooLarge | PayloadTooLarge => 413,
            QuotaExceeded => 402,
            Forbidden | AccountDisabled | ToolDisabled => 403,
            NotFound => 404,
            Unauthorized | InvalidCredentials => 401,
            Conflict | Cancelled => 409,
            StepTimeout | EngineTimeout => 504,
            Unavailable => 503,
            // Come back after `Retry-After`.
            Busy | RateLimited | LimitExceeded => 429,
            InternalError => 500,
        }
    }

    /// Transient failures worth another attempt with backoff.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Unavailable | Self::Busy | Self::EngineTimeout)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure of a tool on its input: a stable code plus a message meant for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ToolError {
    pub code: ErrorCode,
    pub message: String,
}

impl ToolError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// A parameter problem; `field` is named first so the user knows what to fix.
    pub fn invalid_param(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InvalidParams, format!("{field}: {problem}"))
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalError, message)
    }
}
