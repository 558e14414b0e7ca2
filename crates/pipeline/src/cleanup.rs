//! The sweeper: deletes what expired and takes back what was abandoned.

use crate::Pipeline;
use chrono::Utc;
use scanpro_store::StoreError;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub files: usize,
    pub jobs: usize,
    pub reclaimed: u64,
}

const BATCH: i64 = 500;

impl Pipeline {
    /// Deletes expired files (bytes, then row) and expired finished jobs; re-queues jobs whose
    /// lease ran out.
    pub async fn sweep(&self) -> Result<Swept, StoreError> {
        let now = Utc::now();
        let mut swept = Swept::default();
        loop {
            let files = self.meta.expired_files(now, BATCH).await?;
            for file in &files {
                self.blobs.delete(&file.blob_key).await?;
                self.meta.forget_file(file.id).await?;
            }
            swept.files += files.len();
            if (files.len() as i64) < BATCH {
                break;
            }
        }
        loop {
            let jobs = self.meta.expired_jobs(now, BATCH).await?;
            for job in &jobs {
                self.meta.forget_job(*job).await?;
            }
            swept.jobs += jobs.len();
            if (jobs.len() as i64) < BATCH {
                break;
            }
        }
        swept.reclaimed = self.queue.reclaim().await?;
        Ok(swept)
    }
}
