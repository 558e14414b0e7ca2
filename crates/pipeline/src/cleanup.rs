//! The sweeper: deletes what expired and takes back what was abandoned. One failing item is
//! logged and skipped; it never stops the rest of the sweep.

use crate::Pipeline;
use chrono::Utc;
use scanpro_store::{Released, StoreError};

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub files: usize,
    pub jobs: usize,
    pub requeued: u64,
    pub dead_lettered: usize,
    pub temp_files: usize,
}

const BATCH: i64 = 500;
/// Temp files older than this belong to uploads that died with their process.
const TEMP_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

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
        Ok(swept)
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
