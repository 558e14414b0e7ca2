//! How an office conversion fails, each failure with its stable code.

use scanpro_core::{ErrorCode, ToolError};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// An option does not fit the target or the document; `field` names the option.
    #[error("{field}: {problem}")]
    InvalidParams { field: &'static str, problem: String },
    /// The bytes are not a document LibreOffice reads, or it could not read this one.
    #[error("{0}")]
    UnsupportedFormat(String),
    /// The document needs a password to open.
    #[error("the document is password-protected")]
    EncryptedInput,
    /// The password given does not open the document.
    #[error("the password does not open the document")]
    WrongPassword,
    /// Every attempt (warm, a fresh instance, a cold process) ran past its deadline.
    #[error("LibreOffice did not finish within {after:?}, on a warm instance, a fresh one and a cold process")]
    Timeout { after: Duration },
    /// LibreOffice crashed or failed on the document, warm and cold.
    #[error("LibreOffice failed on the document: {0}")]
    Failed(String),
    /// LibreOffice (or the Python that talks to it) is not installed or cannot start.
    #[error("LibreOffice is unavailable: {0}")]
    Unavailable(String),
    /// The document links to a file on the server, which is never read.
    #[error(
        "the document refers to a local file ({0}), which ScanPro never reads: embed the image or text in the document instead"
    )]
    LocalReference(String),
    /// The pool is shut down.
    #[error("the LibreOffice pool is shut down")]
    ShutDown,
    #[error("i/o error around the conversion: {0}")]
    Io(#[from] std::io::Error),
}

impl OfficeError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidParams { .. } => ErrorCode::InvalidParams,
            Self::UnsupportedFormat(_) => ErrorCode::UnsupportedFormat,
            Self::EncryptedInput => ErrorCode::EncryptedInput,
            Self::WrongPassword => ErrorCode::WrongPassword,
            Self::LocalReference(_) => ErrorCode::LocalReference,
            Self::Timeout { .. } => ErrorCode::EngineTimeout,
            Self::Failed(_) | Self::Io(_) => ErrorCode::InternalError,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::ShutDown => ErrorCode::Busy,
        }
    }

    pub fn is_client_error(&self) -> bool {
        self.code().is_client_error()
    }

    pub(crate) fn invalid(field: &'static str, problem: impl Into<String>) -> Self {
        Self::InvalidParams { field, problem: problem.into() }
    }
}

impl From<OfficeError> for ToolError {
    fn from(error: OfficeError) -> Self {
        ToolError::new(error.code(), error.to_string())
    }
}
