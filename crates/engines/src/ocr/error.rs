//! How OCR and text extraction fail, each failure with its stable code.

use scanpro_core::{ErrorCode, ToolError};
use scanpro_process::ProcessError;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// A parameter does not fit the engine or the document; `field` names it.
    #[error("{field}: {problem}")]
    InvalidParams { field: &'static str, problem: String },
    /// The input is not a format the tool reads.
    #[error("{0}")]
    UnsupportedFormat(String),
    /// The input claims to be a PDF but cannot be read.
    #[error("{0}")]
    InvalidPdf(String),
    /// The PDF is encrypted; the message says what to do.
    #[error("{0}")]
    EncryptedInput(String),
    /// The document is beyond a processing limit.
    #[error("{0}")]
    ResourceLimit(String),
    #[error("{program} did not finish within {after:?} and was stopped")]
    Timeout { program: String, after: Duration },
    /// A program failed on the document; the detail is in the log.
    #[error("{0}")]
    Failed(String),
    /// A program the engine needs is missing or does not start.
    #[error("{0}")]
    Unavailable(String),
    #[error("i/o error around OCR: {0}")]
    Io(#[from] std::io::Error),
}

impl OcrError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidParams { .. } => ErrorCode::InvalidParams,
            Self::UnsupportedFormat(_) => ErrorCode::UnsupportedFormat,
            Self::InvalidPdf(_) => ErrorCode::InvalidPdf,
            Self::EncryptedInput(_) => ErrorCode::EncryptedInput,
            Self::ResourceLimit(_) => ErrorCode::ResourceLimit,
            Self::Timeout { .. } => ErrorCode::EngineTimeout,
            Self::Failed(_) | Self::Io(_) => ErrorCode::InternalError,
            Self::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    pub fn is_client_error(&self) -> bool {
        self.code().is_client_error()
    }

    pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Self::InvalidParams { field, problem: problem.into() }
    }
}

impl From<ProcessError> for OcrError {
    fn from(error: ProcessError) -> Self {
        match error {
            ProcessError::Spawn { program, source } => {
                Self::Unavailable(format!("{program} could not start ({source}); install it with scripts/install-deps"))
            }
            ProcessError::Timeout { program, after } => Self::Timeout { program, after },
            ProcessError::OutputTooLarge { program, limit } => {
                Self::ResourceLimit(format!("{program} produced more than {} MiB of output", limit / (1024 * 1024)))
            }
            ProcessError::Io { source, .. } => Self::Io(source),
            error @ ProcessError::Sandbox { .. } => Self::Unavailable(error.to_string()),
        }
    }
}

impl From<OcrError> for ToolError {
    fn from(error: OcrError) -> Self {
        ToolError::new(error.code(), error.to_string())
    }
}
