//! How an engine reports how far it got through a document.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Pages done out of the document's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageProgress {
    pub done: u32,
    pub total: u32,
}

/// Called as pages finish; may be called from any thread, and often.
pub type ProgressFn = Arc<dyn Fn(PageProgress) + Send + Sync>;

/// A [`ProgressFn`] that drops every report.
pub fn ignore_progress() -> ProgressFn {
    Arc::new(|_| {})
}
