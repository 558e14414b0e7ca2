//! Where ScanPro keeps things: metadata about files and jobs, and the bytes of the files.
//!
//! # Layout
//! - [`meta`]: [`Meta`], the one handle over the metadata database. SQLite (`sqlite://…`, the
//!   default) and PostgreSQL (`postgres://…`) run the same runtime queries through sqlx's `Any`
//!   driver; each backend has its own migrations folder (`migrations/sqlite`, `migrations/postgres`).
//!   The embedded queue's lease and retry bookkeeping lives on the `jobs` rows, so the row is always
//!   the source of truth for a job's state.
//! - [`records`]: [`FileRecord`], [`JobRecord`], the accounts' [`UserRecord`], [`SessionRecord`],
//!   [`ApiKeyRecord`], [`AuditEntry`], and their row mappings.
//! - [`blobs`]: [`Blobs`], the handle over blob storage, opened from `STORAGE_URL` by
//!   [`blobs::open`]: [`blobs::FsBlobs`] (a directory, local or a shared volume) or
//!   [`blobs::S3Blobs`] (S3-compatible object storage). Both hash with SHA-256 while streaming,
//!   serve byte ranges and keep nothing of a failed put.
//! - [`error`]: [`StoreError`] with a stable code per variant.

pub mod blobs;
pub mod error;
pub mod meta;
pub mod records;

pub use blobs::{BlobStore, Blobs, Stored};
pub use error::StoreError;
pub use meta::{Meta, Metering, NewJob, RefreshUse, Released, ToolUsageLine, UsageLine};
pub use records::{ApiKeyRecord, AuditEntry, FileRecord, JobRecord, SessionRecord, UserRecord};
