//! The metadata handle. One set of runtime queries serves SQLite and PostgreSQL through sqlx's
//! `Any` driver; only migrations differ per backend.

use crate::error::{Result, StoreError};
use crate::records::{FileRecord, FileRow, JobRecord, JobRow, millis};
use chrono::{DateTime, Duration, Utc};
use scanpro_core::job::{JobSpec, JobStatus, Progress, StepState, StepStatus};
use scanpro_core::{ErrorCode, FileId, JobId, OwnerId, ToolError};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, AssertSqlSafe};
use sqlx::{Executor, Row};

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

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("job fields serialize")
}

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

    // ---- files -------------------------------------------------------------------------------

    pub async fn insert_file(&self, f: &FileRecord) -> Result<()> {
        insert_file(&self.writer, f).await
    }

    /// The file if it exists and belongs to `owner`; otherwise `NotFound` (no hint that it exists).
    pub async fn file(&self, owner: &OwnerId, id: FileId) -> Result<FileRecord> {
        let row: Option<FileRow> = sqlx::query_as("SELECT * FROM files WHERE id = $1 AND owner = $2")
            .bind(id.to_string())
            .bind(owner.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The outputs of a job, in the order they were produced.
    pub async fn job_outputs(&self, job: JobId) -> Result<Vec<FileRecord>> {
        let rows: Vec<FileRow> = sqlx::query_as("SELECT * FROM files WHERE job_id = $1 ORDER BY id")
            .bind(job.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Bytes stored for `owner`: uploads and job outputs not yet expired or deleted.
    pub async fn stored_bytes(&self, owner: &OwnerId) -> Result<u64> {
        let row = sqlx::query("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE owner = $1")
            .bind(owner.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?.max(0) as u64)
    }

    /// Removes the row; the caller deletes the blob it names.
    pub async fn delete_file(&self, owner: &OwnerId, id: FileId) -> Result<FileRecord> {
        let row: Option<FileRow> = sqlx::query_as("DELETE FROM files WHERE id = $1 AND owner = $2 RETURNING *")
            .bind(id.to_string())
            .bind(owner.as_str())
            .fetch_optional(&self.writer)
            .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    pub async fn expired_files(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<FileRecord>> {
        let rows: Vec<FileRow> =
            sqlx::query_as("SELECT * FROM files WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2")
                .bind(millis(now))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The blob keys the rows of `ids` name (files that no longer exist are left out).
    pub async fn blob_keys_of(&self, ids: &[FileId]) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!("SELECT blob_key FROM files WHERE id IN ({})", placeholders.join(", "));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.to_string());
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok(row.try_get::<String, _>(0)?)).collect()
    }

    pub async fn forget_file(&self, id: FileId) -> Result<()> {
        sqlx::query("DELETE FROM files WHERE id = $1").bind(id.to_string()).execute(&self.writer).await?;
        Ok(())
    }

    // ---- jobs: clients -----------------------------------------------------------------------

    /// Creates a queued job. With an idempotency key already used by this owner, returns the
    /// existing job (`created = false`) or `IdempotencyConflict` when the request differs.
    pub async fn create_job(&self, new: NewJob) -> Result<(JobRecord, bool)> {
        if let Some((key, hash)) = &new.idempotency
            && let Some(existing) = self.job_by_idempotency_key(&new.owner, key).await?
        {
            return reuse(existing, hash);
        }
        let now = Utc::now();
        let steps: Vec<StepState> = new
            .spec
            .steps
            .iter()
            .map(|s| StepState { tool: s.tool.clone(), status: StepStatus::Pending, report: None })
            .collect();
        let (key, hash) = new.idempotency.clone().unzip();
        let inserted = sqlx::query(concat!(
            "INSERT INTO jobs (id, owner, status, class, spec, steps, progress, attempts, max_attempts, \
             idempotency_key, request_hash, tag, created_at, updated_at, expires_at, run_after, cancel_requested, secrets) \
             VALUES ($1, $2, 'queued', $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, $11, $12, $11, 0, $13) \
             ON CONFLICT DO NOTHING RETURNING ",
            job_columns!(),
            ""
        ))
        .bind(JobId::new().to_string())
        .bind(new.owner.as_str())
        .bind(&new.class)
        .bind(json(&new.spec))
        .bind(json(&steps))
        .bind(json(&Progress::default()))
        .bind(i64::from(new.max_attempts))
        .bind(key.clone())
        .bind(hash.clone())
        .bind(new.spec.tag.clone())
        .bind(millis(now))
        .bind(millis(now + new.retention))
        .bind(new.secrets.clone())
        .fetch_optional(&self.writer)
        .await?;
        match inserted {
            Some(row) => Ok((job_from_row(&row)?, true)),
            // Lost a race with the same key: the other request's job is the answer.
            None => {
                let (key, hash) = new.idempotency.ok_or(StoreError::NotFound)?;
                let existing = self.job_by_idempotency_key(&new.owner, &key).await?.ok_or(StoreError::NotFound)?;
                reuse(existing, &hash)
            }
        }
    }

    async fn job_by_idempotency_key(&self, owner: &OwnerId, key: &str) -> Result<Option<JobRecord>> {
        let row: Option<JobRow> =
            sqlx::query_as(concat!("SELECT ", job_columns!(), " FROM jobs WHERE owner = $1 AND idempotency_key = $2"))
                .bind(owner.as_str())
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// The job if it belongs to `owner`.
    pub async fn job(&self, owner: &OwnerId, id: JobId) -> Result<JobRecord> {
        let job = self.job_by_id(id).await?;
        if &job.owner != owner {
            return Err(StoreError::NotFound);
        }
        Ok(job)
    }

    /// Any job, whoever owns it: for workers.
    pub async fn job_by_id(&self, id: JobId) -> Result<JobRecord> {
        let row: Option<JobRow> = sqlx::query_as(concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The owner's most recent jobs, newest first.
    pub async fn list_jobs(&self, owner: &OwnerId, limit: i64) -> Result<Vec<JobRecord>> {
        let rows: Vec<JobRow> = sqlx::query_as(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE owner = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(owner.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The owner's jobs that are queued or running.
    pub async fn active_jobs(&self, owner: &OwnerId) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) FROM jobs WHERE owner = $1 AND status IN ('queued', 'running')")
            .bind(owner.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?.max(0) as u64)
    }

    /// A queued job is cancelled at once; a running one is flagged and its worker stops it.
    pub async fn request_cancel(&self, owner: &OwnerId, id: JobId) -> Result<JobRecord> {
        let now = millis(Utc::now());
        sqlx::query(
            "UPDATE jobs SET status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, \
             finished_at = CASE WHEN status = 'queued' THEN $3 ELSE finished_at END, \
             error_code = CASE WHEN status = 'queued' THEN 'cancelled' ELSE error_code END, \
             error_message = CASE WHEN status = 'queued' THEN 'cancelled before it started' ELSE error_message END, \
             secrets = CASE WHEN status = 'queued' THEN NULL ELSE secrets END, \
             cancel_requested = 1, updated_at = $3 \
             WHERE id = $1 AND owner = $2 AND status IN ('queued', 'running')",
        )
        .bind(id.to_string())
        .bind(owner.as_str())
        .bind(now)
        .execute(&self.writer)
        .await?;
        self.job(owner, id).await
    }

    // ---- jobs: workers -----------------------------------------------------------------------

    /// Takes the oldest runnable queued job of `class`, if any, leasing it to `worker`.
    pub async fn claim_next(&self, class: &str, worker: &str, lease: Duration) -> Result<Option<JobRecord>> {
        // Idle workers ask often; a read answers "nothing to do" without taking the writer.
        let now = Utc::now();
        let waiting =
            sqlx::query("SELECT 1 FROM jobs WHERE status = 'queued' AND class = $1 AND run_after <= $2 LIMIT 1")
                .bind(class)
                .bind(millis(now))
                .fetch_optional(&self.pool)
                .await?;
        if waiting.is_none() {
            return Ok(None);
        }
        // PostgreSQL skips rows another worker is claiming; SQLite serialises writers anyway.
        let sql = match self.backend {
            Backend::Sqlite => concat!(
                "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
                 started_at = COALESCE(started_at, $3), updated_at = $3 \
                 WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND class = $4 AND run_after <= $3 \
                             ORDER BY run_after, created_at LIMIT 1) \
                   AND status = 'queued' RETURNING ",
                job_columns!()
            ),
            Backend::Postgres => concat!(
                "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
                 started_at = COALESCE(started_at, $3), updated_at = $3 \
                 WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND class = $4 AND run_after <= $3 \
                             ORDER BY run_after, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
                   AND status = 'queued' RETURNING ",
                job_columns!()
            ),
        };
        let row = sqlx::query(sql)
            .bind(worker)
            .bind(millis(now + lease))
            .bind(millis(now))
            .bind(class)
            .fetch_optional(&self.writer)
            .await?;
        row.map(|r| job_from_row(&r)).transpose()
    }

    /// Takes a specific job if it is still queued (a queue delivered its id).
    pub async fn claim(&self, id: JobId, worker: &str, lease: Duration) -> Result<Option<JobRecord>> {
        let now = Utc::now();
        let row = sqlx::query(concat!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, \
             started_at = COALESCE(started_at, $3), updated_at = $3 \
             WHERE id = $4 AND status = 'queued' AND run_after <= $3 AND cancel_requested = 0 RETURNING ",
            job_columns!(),
            ""
        ))
        .bind(worker)
        .bind(millis(now + lease))
        .bind(millis(now))
        .bind(id.to_string())
        .fetch_optional(&self.writer)
        .await?;
        row.map(|r| job_from_row(&r)).transpose()
    }

    /// Extends the lease; tells the worker whether it still holds the job and whether to cancel.
    pub async fn heartbeat(&self, id: JobId, worker: &str, lease: Duration) -> Result<Heartbeat> {
        let now = Utc::now();
        let row = sqlx::query(
            "UPDATE jobs SET lease_until = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'running' AND lease_owner = $4 RETURNING cancel_requested",
        )
        .bind(millis(now + lease))
        .bind(millis(now))
        .bind(id.to_string())
        .bind(worker)
        .fetch_optional(&self.writer)
        .await?;
        Ok(match row {
            Some(row) => Heartbeat { still_held: true, cancel_requested: row.try_get::<i64, _>(0)? != 0 },
            None => Heartbeat { still_held: false, cancel_requested: false },
        })
    }

    /// What a renewal would tell the worker, read without renewing: for a worker that heard the
    /// job changed between heartbeats.
    pub async fn lease_state(&self, id: JobId, worker: &str) -> Result<Heartbeat> {
        let row =
            sqlx::query("SELECT cancel_requested FROM jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2")
                .bind(id.to_string())
                .bind(worker)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(row) => Heartbeat { still_held: true, cancel_requested: row.try_get::<i64, _>(0)? != 0 },
            None => Heartbeat { still_held: false, cancel_requested: false },
        })
    }

    /// Records step states and progress while the worker holds the lease.
    pub async fn save_progress(
        &self,
        id: JobId,
        worker: &str,
        steps: &[StepState],
        progress: Progress,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET steps = $1, progress = $2, updated_at = $3 \
             WHERE id = $4 AND status = 'running' AND lease_owner = $5",
        )
        .bind(json(&steps))
        .bind(json(&progress))
        .bind(millis(Utc::now()))
        .bind(id.to_string())
        .bind(worker)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Commits a success: the output rows and the final state, in one transaction, only if
    /// `worker` still holds the lease. A stale worker's outputs are never committed (returns false).
    pub async fn finish_succeeded(
        &self,
        id: JobId,
        worker: &str,
        steps: &[StepState],
        outputs: &[FileRecord],
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let now = Utc::now();
        let progress = Progress { percent: 100, ..Default::default() };
        let done = sqlx::query(
            "UPDATE jobs SET status = 'succeeded', steps = $1, progress = $2, finished_at = $3, updated_at = $3, \
             lease_owner = NULL, lease_until = NULL, secrets = NULL WHERE id = $4 AND status = 'running' AND lease_owner = $5",
        )
        .bind(json(&steps))
        .bind(json(&progress))
        .bind(millis(now))
        .bind(id.to_string())
        .bind(worker)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for output in outputs {
            insert_file(&mut *tx, output).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Ends the job as failed or cancelled (by error code) if `worker` still holds it.
    pub async fn finish_failed(&self, id: JobId, worker: &str, steps: &[StepState], error: &ToolError) -> Result<bool> {
        let status = if error.code == ErrorCode::Cancelled { JobStatus::Cancelled } else { JobStatus::Failed };
        let now = millis(Utc::now());
        let done = sqlx::query(
            "UPDATE jobs SET status = $1, steps = $2, error_code = $3, error_message = $4, finished_at = $5, \
             updated_at = $5, lease_owner = NULL, lease_until = NULL, secrets = NULL \
             WHERE id = $6 AND status = 'running' AND lease_owner = $7",
        )
        .bind(status.as_str())
        .bind(json(&steps))
        .bind(error.code.as_str())
        .bind(&error.message)
        .bind(now)
        .bind(id.to_string())
        .bind(worker)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Hands a job back to the queue after a transient failure, to run again after `delay`.
    /// A job whose cancel was requested meanwhile ends `cancelled` instead.
    pub async fn retry_later(&self, id: JobId, worker: &str, error: &ToolError, delay: Duration) -> Result<bool> {
        let now = Utc::now();
        let done = sqlx::query(
            "UPDATE jobs SET status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'queued' END, \
             error_code = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE $1 END, \
             error_message = CASE WHEN cancel_requested = 1 THEN 'cancelled while running' ELSE $2 END, \
             finished_at = CASE WHEN cancel_requested = 1 THEN $4 ELSE NULL END, \
             secrets = CASE WHEN cancel_requested = 1 THEN NULL ELSE secrets END, \
             run_after = $3, updated_at = $4, lease_owner = NULL, lease_until = NULL \
             WHERE id = $5 AND status = 'running' AND lease_owner = $6",
        )
        .bind(error.code.as_str())
        .bind(&error.message)
        .bind(millis(now + delay))
        .bind(millis(now))
        .bind(id.to_string())
        .bind(worker)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes back running jobs whose worker is gone: those whose lease ran out or, with
    /// `all_running` (an embedded server starting up, which owns every job), all of them.
    /// Jobs that used up their deliveries fail with `delivery_limit` (the dead letter), jobs whose
    /// cancel was requested end `cancelled`, the others are queued again.
    pub async fn release_abandoned(&self, all_running: bool) -> Result<Released> {
        let filter =
            if all_running { "status = 'running' AND $2 = 0" } else { "status = 'running' AND lease_until < $2" };
        let ended = format!(
            "UPDATE jobs SET \
               status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'failed' END, \
               error_code = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'delivery_limit' END, \
               error_message = CASE WHEN cancel_requested = 1 THEN 'cancelled while running' \
                 ELSE 'the job was started ' || attempts || ' times and never finished; it may crash the engine' END, \
               finished_at = $1, updated_at = $1, lease_owner = NULL, lease_until = NULL, secrets = NULL \
             WHERE {filter} AND (attempts >= max_attempts OR cancel_requested = 1) RETURNING id"
        );
        let requeue = format!(
            "UPDATE jobs SET status = 'queued', updated_at = $1, run_after = $1, lease_owner = NULL, lease_until = NULL \
             WHERE {filter}"
        );
        let now = millis(Utc::now());
        let bound = if all_running { 0 } else { now };
        let rows = sqlx::query(AssertSqlSafe(ended.as_str())).bind(now).bind(bound).fetch_all(&self.writer).await?;
        let ended = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0)?.parse().map_err(|e| StoreError::Corrupt(format!("job id: {e}"))))
            .collect::<Result<Vec<JobId>>>()?;
        let requeued = sqlx::query(AssertSqlSafe(requeue.as_str()))
            .bind(now)
            .bind(bound)
            .execute(&self.writer)
            .await?
            .rows_affected();
        Ok(Released { requeued, ended })
    }

    /// Ends one job as dead-lettered (`delivery_limit`) when no worker holds it any more: it is
    /// queued, or running on a lease that ran out. A job whose cancel was requested ends
    /// `cancelled` instead. Returns whether the job ended here.
    pub async fn dead_letter(&self, id: JobId, deliveries: u64) -> Result<bool> {
        let now = millis(Utc::now());
        let done = sqlx::query(
            "UPDATE jobs SET \
               status = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'failed' END, \
               error_code = CASE WHEN cancel_requested = 1 THEN 'cancelled' ELSE 'delivery_limit' END, \
               error_message = CASE WHEN cancel_requested = 1 THEN 'cancelled while running' \
                 ELSE 'the job was delivered ' || $2 || ' times and never finished; it may crash the engine' END, \
               finished_at = $1, updated_at = $1, lease_owner = NULL, lease_until = NULL, secrets = NULL \
             WHERE id = $3 AND (status = 'queued' OR (status = 'running' AND lease_until < $1))",
        )
        .bind(now)
        .bind(deliveries.to_string())
        .bind(id.to_string())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queued jobs that may run now and have waited at least `settled` since they were last
    /// queued (so a dispatch in flight is not duplicated), oldest first, with their class.
    pub async fn runnable_queued(&self, settled: Duration, limit: i64) -> Result<Vec<(JobId, String)>> {
        let now = Utc::now();
        let rows = sqlx::query(
            "SELECT id, class FROM jobs WHERE status = 'queued' AND run_after <= $1 AND updated_at <= $2 \
             ORDER BY run_after, created_at LIMIT $3",
        )
        .bind(millis(now))
        .bind(millis(now - settled))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id = r.try_get::<String, _>(0)?.parse().map_err(|e| StoreError::Corrupt(format!("job id: {e}")))?;
                Ok((id, r.try_get::<String, _>(1)?))
            })
            .collect()
    }

    /// Replaces a finished job's spec (to erase secrets from its step parameters).
    pub async fn rewrite_spec(&self, id: JobId, spec: &JobSpec) -> Result<()> {
        sqlx::query("UPDATE jobs SET spec = $1 WHERE id = $2 AND status IN ('succeeded', 'failed', 'cancelled')")
            .bind(json(spec))
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Forgets an ended job's sealed secrets (the final state change already did; this also
    /// covers rows written by older builds) and, on SQLite, checkpoints the write-ahead log so no
    /// copy of them lingers there. Returns false when the checkpoint could not complete.
    pub async fn erase_secrets(&self, id: JobId) -> Result<bool> {
        sqlx::query(
            "UPDATE jobs SET secrets = NULL WHERE id = $1 AND secrets IS NOT NULL \
             AND status IN ('succeeded', 'failed', 'cancelled')",
        )
        .bind(id.to_string())
        .execute(&self.writer)
        .await?;
        self.checkpoint().await
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

    // ---- webhook signing secrets ---------------------------------------------------------------

    /// Sets (or replaces) `owner`'s sealed webhook signing secret.
    pub async fn put_webhook_secret(&self, owner: &OwnerId, sealed: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_secrets (owner, secret, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (owner) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at",
        )
        .bind(owner.as_str())
        .bind(sealed)
        .bind(millis(Utc::now()))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// `owner`'s sealed webhook signing secret, if one was made.
    pub async fn webhook_secret(&self, owner: &OwnerId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT secret FROM webhook_secrets WHERE owner = $1")
            .bind(owner.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?)
    }

    /// Finished or abandoned jobs past their expiry.
    pub async fn expired_jobs(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<JobId>> {
        let rows = sqlx::query(
            "SELECT id FROM jobs WHERE expires_at <= $1 AND status IN ('succeeded', 'failed', 'cancelled') LIMIT $2",
        )
        .bind(millis(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0)?.parse().map_err(|e| StoreError::Corrupt(format!("job id: {e}"))))
            .collect()
    }

    pub async fn forget_job(&self, id: JobId) -> Result<()> {
        sqlx::query("DELETE FROM jobs WHERE id = $1").bind(id.to_string()).execute(&self.writer).await?;
        Ok(())
    }

    /// Number of jobs per status, for readiness and metrics.
    pub async fn count_by_status(&self, status: JobStatus) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM jobs WHERE status = $1")
            .bind(status.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }
}

fn reuse(existing: JobRecord, request_hash: &str) -> Result<(JobRecord, bool)> {
    if existing.request_hash.as_deref() == Some(request_hash) {
        Ok((existing, false))
    } else {
        Err(StoreError::IdempotencyConflict)
    }
}

fn job_from_row(row: &sqlx::any::AnyRow) -> Result<JobRecord> {
    use sqlx::FromRow;
    JobRow::from_row(row)?.try_into()
}

async fn insert_file<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(executor: E, f: &FileRecord) -> Result<()> {
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
