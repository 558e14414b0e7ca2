//! The metadata handle. One set of runtime queries serves SQLite and PostgreSQL through sqlx's
//! `Any` driver; only migrations differ per backend.
//!
//! # Layout
//! - here: connecting (SQLite's one writer and its readers, PostgreSQL's pool), migrations and
//!   the schema check, WAL checkpoints, and the row helpers the parts share.
//! - [`files`]: stored uploads and outputs.
//! - [`jobs`]: jobs as clients see them.
//! - [`leases`]: jobs as workers hold them.
//! - [`sweep`]: what expires.
//! - [`webhooks`]: webhook signing secrets.
//! - [`accounts`]: users, sessions and refresh tokens, API keys, emailed links.
//! - [`metering`]: operations counted against quotas, usage reports, tool switches, the audit log.

use crate::error::{Result, StoreError};
use crate::records::{FileRecord, JobRecord, JobRow, millis};
use chrono::Duration;
use scanpro_core::job::JobSpec;
use scanpro_core::{JobId, OwnerId};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::{Executor, Row};

pub use accounts::RefreshUse;
pub use metering::{Metering, ToolUsageLine, UsageLine};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The one handle over the metadata database. Cheap to clone.
#[derive(Clone)]
pub struct Meta {
    /// Reads. On SQLite its connections are `query_only`, so a write sent here fails loudly.
    pool: AnyPool,
    /// Writes. On SQLite a single connection: SQLite admits one writer at a time, and waiting
    /// for this connection in the pool is a fair queue that moves as soon as the previous write
    /// commits, where several writing connections would meet `SQLITE_BUSY` and sleep in SQLite's
    /// busy handler (1, 2, 5 … 100 ms at a time). On PostgreSQL the same pool as reads.
    writer: AnyPool,
    backend: Backend,
}

/// A job about to be created.
pub struct NewJob {
    pub owner: OwnerId,
    pub spec: JobSpec,
    pub class: String,
    pub max_attempts: u32,
    pub retention: Duration,
    /// With the hash of the request body: a repeated key with the same body returns the first job.
    pub idempotency: Option<(String, String)>,
    /// The spec's secret parameters, sealed; erased when the job ends.
    pub secrets: Option<String>,
    /// Operations to count against the owner's monthly quota, in the job's own transaction.
    pub metering: Option<Metering>,
}

/// What [`Meta::release_abandoned`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Released {
    pub requeued: u64,
    /// Jobs that ended instead (dead-lettered or cancelled): their listeners need telling.
    pub ended: Vec<JobId>,
}

/// What a worker learns when it renews its lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// False when the job was taken back (lease expired and re-queued): stop working on it.
    pub still_held: bool,
    pub cancel_requested: bool,
}

/// The columns of a [`JobRow`], spelled once; a macro so queries stay `&'static str`.
macro_rules! job_columns {
    () => {
        "id, owner, status, class, spec, steps, progress, attempts, max_attempts, error_code, \
         error_message, idempotency_key, request_hash, created_at, updated_at, started_at, \
         finished_at, expires_at, lease_owner, lease_until, run_after, cancel_requested, secrets"
    };
}

/// The writing connection of SQLite. WAL: readers go on during a write and a commit appends to
/// the log; `synchronous = NORMAL`: a commit is in the log before it returns, so it survives the
/// process being killed (only a power loss may take the last commits). Its commits do not
/// checkpoint ([`checkpoint_wal`] does, beside it). `busy_timeout` covers other processes on the
/// same file (`scanpro cleanup`, backups).
const SQLITE_WRITER: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA busy_timeout = 10000; PRAGMA wal_autocheckpoint = 0; PRAGMA secure_delete = ON;";
/// The reading connections of SQLite.
const SQLITE_READER: &str = "PRAGMA busy_timeout = 10000; PRAGMA query_only = 1;";
/// How often the log is copied back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Copies SQLite's write-ahead log into the database, on a reading connection, until the pool
/// closes. A passive checkpoint takes no write lock, so writes go on meanwhile; left to the
/// writer (SQLite's default), the copy and its fsyncs would hold up the write that crossed the
/// 1,000-page mark and every write queued behind it.
async fn checkpoint_wal(pool: AnyPool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        tick.tick().await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_all(&pool).await
            && !pool.is_closed()
        {
            tracing::warn!(error = %e, "checkpointing the SQLite log failed");
        }
    }
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("job fields serialize")
}

// After `job_columns!`, which they use.
mod accounts;
mod files;
mod jobs;
mod leases;
mod metering;
mod sweep;
mod webhooks;

impl Meta {
    /// Connects to `sqlite://…` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let options = || AnyPoolOptions::new().acquire_timeout(std::time::Duration::from_secs(10));
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url_creating_dir(url)?;
                // A private in-memory database exists once per connection: one connection does all.
                let in_memory = url.contains(":memory:");
                let writer = options()
                    .max_connections(1)
                    .after_connect(|conn, _| Box::pin(async move { conn.execute(SQLITE_WRITER).await.map(drop) }))
                    .connect(&url)
                    .await?;
                let pool = if in_memory {
                    writer.clone()
                } else {
                    options()
                        .max_connections(8)
                        .after_connect(|conn, _| Box::pin(async move { conn.execute(SQLITE_READER).await.map(drop) }))
                        .connect(&url)
                        .await?
                };
                tokio::spawn(checkpoint_wal(pool.clone()));
                Ok(Self { pool, writer, backend })
            }
            Backend::Postgres => {
                let pool = options().max_connections(16).connect(url).await?;
                Ok(Self { writer: pool.clone(), pool, backend })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies this backend's migrations.
    pub async fn migrate(&self) -> Result<()> {
        self.migrator().run(&self.writer).await?;
        Ok(())
    }

    /// Checks that the applied migrations are exactly this build's, for roles that must not
    /// migrate by themselves (`scanpro api`, `scanpro worker`): `scanpro migrate` applies them.
    pub async fn check_schema(&self) -> Result<()> {
        let migrator = self.migrator();
        self.ping().await?;
        let applied: Vec<(i64, Vec<u8>)> =
            match sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success ORDER BY version")
                .fetch_all(&self.pool)
                .await
            {
                Ok(rows) => rows,
                Err(sqlx::Error::Database(_)) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
        let known: Vec<_> = migrator.iter().filter(|m| m.migration_type.is_up_migration()).collect();
        let unknown: Vec<String> = applied
            .iter()
            .filter(|(version, _)| !known.iter().any(|m| m.version == *version))
            .map(|(version, _)| version.to_string())
            .collect();
        if !unknown.is_empty() {
            return Err(StoreError::Schema(format!(
                "the database has migrations this build does not know ({}): it was migrated by a newer \
                 ScanPro; run that version",
                unknown.join(", ")
            )));
        }
        let changed: Vec<String> = known
            .iter()
            .filter(|m| applied.iter().any(|(v, sum)| *v == m.version && sum.as_slice() != &*m.checksum))
            .map(|m| format!("{} {}", m.version, m.description))
            .collect();
        if !changed.is_empty() {
            return Err(StoreError::Schema(format!(
                "applied migrations differ from this build's ({}): the database belongs to another ScanPro build",
                changed.join(", ")
            )));
        }
        let pending: Vec<String> = known
            .iter()
            .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
            .map(|m| format!("{} {}", m.version, m.description))
            .collect();
        if !pending.is_empty() {
            return Err(StoreError::Schema(format!(
                "the database schema is behind this build (pending: {}): run `scanpro migrate` first",
                pending.join(", ")
            )));
        }
        Ok(())
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Readiness: the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// SQLite: writes a consistent copy of the whole database to `path` while it stays in use
    /// (`VACUUM INTO`). Other backends are copied with their own tools.
    pub async fn snapshot_sqlite(&self, path: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Schema("only an SQLite database is copied this way".into()));
        }
        sqlx::query("VACUUM INTO $1").bind(path.to_string_lossy().into_owned()).execute(&self.writer).await?;
        Ok(())
    }

    /// SQLite: moves the write-ahead log into the database file and truncates it, so rows
    /// overwritten or deleted (with `secure_delete`) leave no copy behind. PostgreSQL: nothing.
    /// Returns false when readers kept the log from being emptied (SQLite's busy timeout passed).
    pub async fn checkpoint(&self) -> Result<bool> {
        if self.backend == Backend::Sqlite {
            let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.writer).await?;
            return Ok(row.try_get::<i64, _>(0)? == 0);
        }
        Ok(true)
    }
}

pub(crate) fn job_from_row(row: &sqlx::any::AnyRow) -> Result<JobRecord> {
    use sqlx::FromRow;
    JobRow::from_row(row)?.try_into()
}

pub(crate) async fn insert_file<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    f: &FileRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO files (id, owner, filename, size, content_type, sha256, blob_key, job_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(f.id.to_string())
    .bind(f.owner.as_str())
    .bind(&f.filename)
    .bind(f.size as i64)
    .bind(&f.content_type)
    .bind(&f.sha256)
    .bind(&f.blob_key)
    .bind(f.job_id.map(|j| j.to_string()))
    .bind(millis(f.created_at))
    .bind(millis(f.expires_at))
    .execute(executor)
    .await?;
    Ok(())
}

/// `sqlite://path` with the parent directory created and `mode=rwc` so the file is created too.
fn sqlite_url_creating_dir(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    let query = if query.contains("mode=") {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".into()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}
