//! The panic guard: lopdf may panic on hostile input; a panic must become a typed error, never
//! unwind into the worker.

use scanpro_core::ToolError;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `work`, turning a panic inside it into an `internal_error` naming `operation`.
///
/// `AssertUnwindSafe` is sound here: everything `work` touches is dropped with it on a panic,
/// except the output directory, where only a temp file can be left half-written (and it is
/// removed when its handle drops).
pub(crate) fn guarded<T>(operation: &str, work: impl FnOnce() -> Result<T, ToolError>) -> Result<T, ToolError> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        Err(ToolError::internal(format!(
            "{operation}: the PDF library failed on this document ({})",
            panic_message(payload.as_ref())
        )))
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "panic"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scanpro_core::ErrorCode;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let err = guarded::<()>("split", || panic!("index out of bounds")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InternalError);
        assert!(err.message.contains("split") && err.message.contains("index out of bounds"), "{err}");
    }
}
