//! The sweeper: deletes what expired and takes back what was abandoned. One failing item is
//! logged and skipped; it never stops the rest of the sweep.
//!
//! Besides rows that expired it removes what no row accounts for: blobs stored by an attempt
//! that died before committing them, and work dirs of attempts that are over.

use crate::Pipeline;
use chrono::Utc;
use scanpro_core::job::JobStatus;
use scanpro_core::{FileId, JobId};
use scanpro_store::{Released, StoreError};
use std::collections::HashSet;
use std::path::Path;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub files: usize,
    pub jobs: usize,
    pub requeued: u64,
    pub dead_lettered: usize,
    pub temp_files: usize,
    /// Blobs no file row names (stored by an attempt or upload that died before its commit).
    pub orphan_blobs: usize,
    /// Work dirs of attempts that are over.
    pub work_dirs: usize,
}

const BATCH: i64 = 500;
/// Temp files older than this belong to uploads that died with their process.
const TEMP_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(3600);
/// A blob is stored before the row naming it is committed: one younger than this may belong to
/// an attempt or upload still on its way to the commit.
pub const ORPHAN_BLOB_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);
/// Where uploads and outputs are stored, one blob per file: `files/{file id}`.
const FILES_PREFIX: &str = "files";

impl Pipeline {
    /// Deletes expired files (bytes, then row), expired finished jobs and stale temp files;
    /// re-queues jobs whose lease ran out and tells listeners about jobs that ended instead.
    pub async fn sweep(&self) -> Result<Swept, StoreError> {
        let mut swept = Swept::default();
        match self.queue.reclaim().await {
            Ok(released) => {
                swept.requeued = released.requeued;
                swept.dead_lettered = released.ended.len();
                self.announce_ended(&released);
            }
            Err(e) => tracing::warn!(error = %e, "reclaiming abandoned jobs failed"),
        }
        let now = Utc::now();
        let files = self.meta.expired_files(now, BATCH).await?;
        for file in &files {
            let deleted = match self.blobs.delete(&file.blob_key).await {
                Ok(()) => self.meta.forget_file(file.id).await,
                Err(e) => Err(e),
            };
            match deleted {
                Ok(()) => swept.files += 1,
                Err(e) => tracing::warn!(file = %file.id, error = %e, "could not delete an expired file"),
            }
        }
        for job in self.meta.expired_jobs(now, BATCH).await? {
            match self.meta.forget_job(job).await {
                Ok(()) => swept.jobs += 1,
                Err(e) => tracing::warn!(%job, error = %e, "could not delete an expired job"),
            }
        }
        swept.temp_files = self.blobs.sweep_temp(TEMP_MAX_AGE).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not sweep temp files");
            0
        });
        swept.orphan_blobs = self.sweep_orphan_blobs(ORPHAN_BLOB_GRACE).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not sweep unreferenced blobs");
            0
        });
        swept.work_dirs = self.sweep_work_dirs().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not sweep work dirs");
            0
        });
        let counts = [
            ("files", swept.files),
            ("jobs", swept.jobs),
            ("orphan_blobs", swept.orphan_blobs),
            ("work_dirs", swept.work_dirs),
            ("temp_files", swept.temp_files),
        ];
        for (kind, count) in counts {
            metrics::counter!(scanpro_core::metrics::SWEPT, "kind" => kind).increment(count as u64);
        }
        Ok(swept)
    }

    /// Deletes the blobs older than `grace` that no file row names. Only keys of the form
    /// `files/{file id}` are considered, and a row is looked up by that id.
    pub async fn sweep_orphan_blobs(&self, grace: std::time::Duration) -> Result<usize, StoreError> {
        let candidates: Vec<(FileId, String)> = self
            .blobs
            .list_older(FILES_PREFIX, grace)
            .await?
            .into_iter()
            .filter_map(|key| Some((key.strip_prefix("files/")?.parse().ok()?, key)))
            .collect();
        let mut removed = 0;
        #[expect(clippy::cast_possible_truncation, reason = "BATCH is 500")]
        let batch_len = BATCH as usize;
        for batch in candidates.chunks(batch_len) {
            let ids: Vec<FileId> = batch.iter().map(|(id, _)| *id).collect();
            let referenced: HashSet<String> = self.meta.blob_keys_of(&ids).await?.into_iter().collect();
            for (_, key) in batch.iter().filter(|(_, key)| !referenced.contains(key)) {
                match self.blobs.delete(key).await {
                    Ok(()) => removed += 1,
                    Err(e) => tracing::warn!(key, error = %e, "could not delete an unreferenced blob"),
                }
            }
        }
        Ok(removed)
    }

    /// Removes the work dirs (`{job id}-{attempt}`) of attempts that are over: the job ended, runs
    /// again as a later attempt, or is gone. An attempt removes its own dir when it ends; this
    /// catches one whose removal failed, or that a killed process left.
    pub async fn sweep_work_dirs(&self) -> Result<usize, StoreError> {
        let root = &self.settings.work_dir;
        let mut entries = match tokio::fs::read_dir(root).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            other => other?,
        };
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            let Some((job, attempt)) = attempt_of(&entry.path()) else { continue };
            let over = match self.meta.job_by_id(job).await {
                Ok(record) => record.status != JobStatus::Running || record.attempts != attempt,
                Err(StoreError::NotFound) => true,
                Err(e) => return Err(e),
            };
            if over {
                match crate::execute::remove_work_dir(entry.path()).await {
                    Ok(()) => removed += 1,
                    Err(e) => tracing::warn!(dir = %entry.path().display(), error = %e, "could not remove a work dir"),
                }
            }
        }
        Ok(removed)
    }

    /// Jobs that ended outside a worker (dead-lettered, cancelled while orphaned) get their
    /// events and webhooks like any other.
    pub fn announce_ended(&self, released: &Released) {
        for job in &released.ended {
            self.events.publish(*job);
            self.on_job_ended(*job);
        }
    }
}

/// The job and attempt a work dir named `{job id}-{attempt}` belongs to.
fn attempt_of(dir: &Path) -> Option<(JobId, u32)> {
    let name = dir.file_name()?.to_str()?;
    let (job, attempt) = name.rsplit_once('-')?;
    Some((job.parse().ok()?, attempt.parse().ok()?))
}
