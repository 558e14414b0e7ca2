//! ScanPro's shared vocabulary. No I/O lives here: every other crate speaks these types.
//!
//! # Layout
//! - [`ids`]: `FileId`, `JobId`, `OwnerId`, and the accounts' `UserId`, `SessionId`, `ApiKeyId`.
//! - [`addresses`]: special-purpose IP addresses and local host names, refused as remote targets.
//! - [`accounts`]: [`accounts::Role`] and the API keys' [`accounts::Scope`].
//! - [`error`]: [`ErrorCode`], the stable codes clients see, and [`ToolError`], a code plus a message.
//! - [`pages`]: the one page-selection syntax (`1-3,5,8-`, `even`, `odd`, `last`, `-2`) and its parser.
//! - [`params`]: what tools' parameters share (page selections, stamp positions, fonts) and the
//!   parameters engines and the PDF code take whole; each tool's own live with it in `scanpro_tools`.
//! - [`metrics`]: the metrics every part records, named and described once, and their Prometheus text.
//! - [`job`]: the job model: [`job::JobSpec`] (inputs + ordered steps), states, progress.

pub mod accounts;
pub mod addresses;
pub mod error;
pub mod ids;
pub mod job;
pub mod metrics;
pub mod pages;
pub mod params;

pub use error::{ErrorCode, ToolError};
pub use ids::{ApiKeyId, FileId, JobId, OwnerId, SessionId, UserId};
