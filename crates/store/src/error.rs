use scanpro_core::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("the upload is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("Idempotency-Key was already used with a different request")]
    IdempotencyConflict,
    /// A unique value (an account's email) is taken.
    #[error("{0}")]
    Conflict(String),
    /// The owner's monthly operations would pass `limit`.
    #[error("the monthly quota of {limit} operations is used up")]
    QuotaExceeded { limit: u64 },
    #[error("the database is unavailable: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database schema could not be migrated: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("blob storage failed: {0}")]
    Io(#[from] std::io::Error),
    /// The body being stored broke off (a client error, not a storage failure).
    #[error("the upload broke off: {0}")]
    Body(std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database schema is not the one this build knows (`scanpro migrate` fixes "behind").
    #[error("{0}")]
    Schema(String),
}

impl StoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::TooLarge { .. } => ErrorCode::FileTooLarge,
            Self::Body(_) => ErrorCode::BadRequest,
            Self::IdempotencyConflict | Self::Conflict(_) => ErrorCode::Conflict,
            Self::QuotaExceeded { .. } => ErrorCode::QuotaExceeded,
            Self::Database(sqlx::Error::RowNotFound) => ErrorCode::NotFound,
            Self::Database(_) | Self::Io(_) => ErrorCode::Unavailable,
            Self::Migrate(_) | Self::Corrupt(_) | Self::Schema(_) => ErrorCode::InternalError,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
