//! Jobs as workers hold them: claims, leases and heartbeats, progress, the end of an attempt,
//! retries, dead letters.

use super::{Backend, Heartbeat, Meta, Released, insert_file, job_from_row, json};
use crate::error::{Result, StoreError};
use crate::records::{FileRecord, JobRecord, millis};
use chrono::{Duration, Utc};
use scanpro_core::job::{JobStatus, Progress, StepState};
use scanpro_core::{ErrorCode, JobId, ToolError};
use sqlx::AssertSqlSafe;
use sqlx::Row;

impl Meta {
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
}
