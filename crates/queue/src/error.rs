//! [`QueueError`]: what dispatching, delivering and acknowledging a job fails with.

use scanpro_core::ErrorCode;
use scanpro_store::StoreError;

/// A queue operation failed: the queue's server, or the `jobs` rows it works from.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue's server (Redis) failed or could not be reached.
    #[error("the queue is unavailable: {0}")]
    Redis(#[source] redis::RedisError),
    /// Reading or writing a job's row failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl QueueError {
    /// The stable code: a queue server that does not answer is `unavailable`, like a database
    /// that does not; a row's failure keeps the store's code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Redis(_) => ErrorCode::Unavailable,
            Self::Store(e) => e.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_redis_failure_is_unavailable_and_keeps_its_source() {
        let redis = redis::RedisError::from((redis::ErrorKind::Io, "connection refused"));
        let error = QueueError::Redis(redis);
        assert_eq!(error.code(), ErrorCode::Unavailable);
        assert!(error.to_string().starts_with("the queue is unavailable: "), "{error}");
        let source = error.source().expect("the Redis error is the source");
        assert!(source.downcast_ref::<redis::RedisError>().is_some());
    }

    #[test]
    fn a_store_failure_keeps_its_code_and_message() {
        let error = QueueError::from(StoreError::NotFound);
        assert_eq!(error.code(), ErrorCode::NotFound);
        assert_eq!(error.to_string(), "not found");
    }
}
