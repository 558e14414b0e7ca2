//! ScanPro's shared vocabulary. No I/O lives here: every other crate speaks these types.
//!
//! # Layout
//! - [`ids`]: `FileId`, `JobId`, `OwnerId`.
//! - [`error`]: [`ErrorCode`], the stable codes clients see, and [`ToolError`], a code plus a message.
//! - [`pages`]: the one page-selection syntax (`1-3,5,8-`, `even`, `odd`, `last`, `-2`) and its parser.
//! - [`params`]: typed, JSON-Schema-described parameters of every tool.
//! - [`job`]: the job model: [`job::JobSpec`] (inputs + ordered steps), states, progress.

pub mod error;
pub mod ids;
pub mod job;
pub mod pages;
pub mod params;

pub use error::{ErrorCode, ToolError};
pub use ids::{FileId, JobId, OwnerId};
