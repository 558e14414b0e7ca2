use scanpro_core::{ErrorCode, ToolError};
use scanpro_store::StoreError;

/// What a use case fails with: a refusal of the request (with a code and a message for the
/// user) or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Rejected(ToolError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Rejected(e) => e.code,
            Self::Store(e) => e.code(),
        }
    }

    pub fn rejected(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Rejected(ToolError::new(code, message))
    }
}

impl From<ToolError> for Error {
    fn from(e: ToolError) -> Self {
        Self::Rejected(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
