//! Jobs as clients see them: creation (idempotent), reads, cancel.

use super::{Meta, NewJob, job_from_row, json};
use crate::error::{Result, StoreError};
use crate::records::{JobRecord, JobRow, millis};
use chrono::Utc;
use scanpro_core::job::{JobSpec, JobStatus, Progress, StepState, StepStatus};
use scanpro_core::{JobId, OwnerId};
use sqlx::Row;

impl Meta {
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
        let mut tx = self.writer.begin().await?;
        if let Some(metering) = &new.metering {
            super::metering::reserve_operations(&mut tx, &new.owner, metering).await?;
        }
        let (metered_period, metered_operations) =
            new.metering.as_ref().map(|m| (m.period.clone(), m.operations as i64)).unzip();
        let inserted = sqlx::query(concat!(
            "INSERT INTO jobs (id, owner, status, class, spec, steps, progress, attempts, max_attempts, \
             idempotency_key, request_hash, tag, created_at, updated_at, expires_at, run_after, cancel_requested, secrets, \
             metered_period, metered_operations) \
             VALUES ($1, $2, 'queued', $3, $4, $5, $6, 0, $7, $8, $9, $10, $11, $11, $12, $11, 0, $13, $14, $15) \
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
        .bind(metered_period)
        .bind(metered_operations)
        .fetch_optional(&mut *tx)
        .await?;
        match inserted {
            Some(row) => {
                let job = job_from_row(&row)?;
                tx.commit().await?;
                Ok((job, true))
            }
            // Lost a race with the same key: the other request's job is the answer, and this
            // request's count is rolled back with the transaction.
            None => {
                drop(tx);
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

    /// Replaces a finished job's spec (to erase secrets from its step parameters).
    pub async fn rewrite_spec(&self, id: JobId, spec: &JobSpec) -> Result<()> {
        sqlx::query("UPDATE jobs SET spec = $1 WHERE id = $2 AND status IN ('succeeded', 'failed', 'cancelled')")
            .bind(json(spec))
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
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

    /// Jobs queued or running, by class and status.
    pub async fn active_by_class(&self) -> Result<Vec<(String, String, u64)>> {
        let rows = sqlx::query(
            "SELECT class, status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY class, status",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get::<i64, _>(2)?.max(0) as u64))).collect()
    }
}

fn reuse(existing: JobRecord, request_hash: &str) -> Result<(JobRecord, bool)> {
    if existing.request_hash.as_deref() == Some(request_hash) {
        Ok((existing, false))
    } else {
        Err(StoreError::IdempotencyConflict)
    }
}
