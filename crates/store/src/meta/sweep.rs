//! What the sweeper removes: expired files and jobs, and blobs no file row names.

use super::Meta;
use crate::error::{Result, StoreError};
use crate::records::{FileRecord, FileRow, millis};
use chrono::{DateTime, Utc};
use scanpro_core::{FileId, JobId};
use sqlx::AssertSqlSafe;
use sqlx::Row;

impl Meta {
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
}
