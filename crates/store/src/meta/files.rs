//! Files: stored uploads and outputs, read and removed by their owner.

use super::{Meta, insert_file};
use crate::error::{Result, StoreError};
use crate::records::{FileRecord, FileRow};
use scanpro_core::{FileId, JobId, OwnerId};
use sqlx::Row;

impl Meta {
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
}
