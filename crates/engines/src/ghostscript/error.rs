//! How a Ghostscript-engine tool fails, each failure with its stable code.

use scanpro_core::{ErrorCode, ToolError};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum GhostscriptError {
    /// The bytes are not a PDF.
    #[error("{0}")]
    NotPdf(String),
    /// The PDF is damaged beyond what qpdf reads, or has no pages.
    #[error("{0}")]
    InvalidPdf(String),
    /// The PDF needs a password to open.
    #[error("the PDF is protected by a password; run the unlock tool with its password first")]
    EncryptedInput,
    /// The input holds more than any tool should decode (a decompression bomb).
    #[error("{0}")]
    ResourceLimit(String),
    /// A program ran past its deadline and was stopped.
    #[error("{program} did not finish within {after:?} on this file and was stopped")]
    Timeout { program: String, after: Duration },
    /// The program wrote nothing that passes the checks (page count, qpdf --check, blank or
    /// changed pages, lost text, missing PDF/A identification, colour left).
    #[error("{0}")]
    Failed(String),
    /// A program is missing or cannot start.
    #[error("{0}")]
    Unavailable(String),
    #[error("i/o error around the rewrite: {0}")]
    Io(#[from] std::io::Error),
}

impl GhostscriptError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotPdf(_) => ErrorCode::UnsupportedFormat,
            Self::InvalidPdf(_) => ErrorCode::InvalidPdf,
            Self::EncryptedInput => ErrorCode::EncryptedInput,
            Self::ResourceLimit(_) => ErrorCode::ResourceLimit,
            Self::Timeout { .. } => ErrorCode::EngineTimeout,
            Self::Failed(_) | Self::Io(_) => ErrorCode::InternalError,
            Self::Unavailable(_) => ErrorCode::Unavailable,
        }
    }

    pub fn is_client_error(&self) -> bool {
        self.code().is_client_error()
    }
}

impl From<GhostscriptError> for ToolError {
    fn from(error: GhostscriptError) -> Self {
        ToolError::new(error.code(), error.to_string())
    }
}
