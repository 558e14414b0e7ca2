//! What an owner reads and removes, what a caller waits for, and whether the process can serve.

use crate::Pipeline;
use scanpro_core::job::JobStatus;
use scanpro_core::{FileId, JobId, OwnerId, ToolError};
use scanpro_queue::QueueError;
use scanpro_store::blobs::ByteStream;
use scanpro_store::{FileRecord, JobRecord, StoreError};
use scanpro_tools::EngineStatus;
use std::path::Path;
use std::time::Duration;
use tokio::sync::broadcast::{Receiver, error::RecvError};

type Result<T> = std::result::Result<T, StoreError>;

/// Whether each part the process depends on answers; `None` for a part it was not asked about.
#[derive(Debug)]
pub struct Readiness {
    pub database: Result<()>,
    pub queue: std::result::Result<(), QueueError>,
    pub storage: Option<Result<()>>,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.database.is_ok() && self.queue.is_ok() && self.storage.as_ref().is_none_or(|s| s.is_ok())
    }

    /// Each part checked: `"ok"` or what went wrong.
    pub fn checks(&self) -> serde_json::Value {
        fn verdict(result: &std::result::Result<(), impl std::fmt::Display>) -> serde_json::Value {
            match result {
                Ok(()) => serde_json::json!("ok"),
                Err(e) => serde_json::json!(e.to_string()),
            }
        }
        let mut checks = serde_json::json!({"database": verdict(&self.database), "queue": verdict(&self.queue)});
        if let Some(storage) = &self.storage {
            checks["storage"] = verdict(storage);
        }
        checks
    }
}

/// Follows jobs as they change: notices from this process, and a fresh read at least every
/// poll interval since another process may be running the job.
pub struct JobWatch {
    pipeline: Pipeline,
    notices: Receiver<JobId>,
}

impl JobWatch {
    /// Waits until a notice about `id` arrives or `at_most` has passed, then reads the job again.
    pub async fn changed(&mut self, id: JobId, at_most: Duration) -> Result<JobRecord> {
        let notices = &mut self.notices;
        let notice = async {
            loop {
                match notices.recv().await {
                    Ok(changed) if changed == id => return,
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return,
                    Err(RecvError::Closed) => std::future::pending().await,
                }
            }
        };
        let _ = tokio::time::timeout(at_most, notice).await;
        self.pipeline.meta.job_by_id(id).await
    }
}

impl Pipeline {
    pub async fn file(&self, owner: &OwnerId, id: FileId) -> Result<FileRecord> {
        self.meta.file(owner, id).await
    }

    /// Removes the file's row, then its bytes. Bytes that cannot be removed now are left to the
    /// sweeper, which removes blobs no row names.
    pub async fn delete_file(&self, owner: &OwnerId, id: FileId) -> Result<()> {
        let file = self.meta.delete_file(owner, id).await?;
        if let Err(e) = self.blobs.delete(&file.blob_key).await {
            tracing::warn!(file = %id, error = %e, "file deleted; its bytes are left to the sweeper");
        }
        Ok(())
    }

    /// Bytes `start..end` of a stored file.
    pub async fn file_bytes(&self, file: &FileRecord, start: u64, end: u64) -> Result<ByteStream<'static>> {
        self.blobs.read_range(&file.blob_key, start, end).await
    }

    /// A stored file copied to a local path.
    pub async fn copy_file_to(&self, file: &FileRecord, path: &Path) -> Result<()> {
        self.blobs.fetch_to(&file.blob_key, path).await
    }

    pub async fn job(&self, owner: &OwnerId, id: JobId) -> Result<JobRecord> {
        self.meta.job(owner, id).await
    }

    /// The owner's latest jobs, newest first.
    pub async fn jobs(&self, owner: &OwnerId, limit: i64) -> Result<Vec<JobRecord>> {
        self.meta.list_jobs(owner, limit).await
    }

    /// The outputs of a job: none until it has succeeded.
    pub async fn outputs(&self, job: &JobRecord) -> Result<Vec<FileRecord>> {
        if job.status == JobStatus::Succeeded { self.meta.job_outputs(job.id).await } else { Ok(Vec::new()) }
    }

    /// Starts following jobs; notices sent from now on are seen.
    pub fn watch(&self) -> JobWatch {
        JobWatch { pipeline: self.clone(), notices: self.events.subscribe() }
    }

    /// Waits until `job` has ended or `limit` has passed, and returns it as it then is.
    pub async fn wait_for_end(&self, mut job: JobRecord, limit: Duration) -> Result<JobRecord> {
        const POLL: Duration = Duration::from_secs(1);
        let mut watch = self.watch();
        let deadline = tokio::time::Instant::now() + limit;
        while !job.status.is_terminal() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            job = watch.changed(job.id, left.min(POLL)).await?;
        }
        Ok(job)
    }

    /// Sets the gauges of state held elsewhere (jobs queued and running by class, engines up),
    /// then renders every metric of this process as Prometheus text.
    pub async fn metrics(&self) -> String {
        use scanpro_core::metrics::{ENGINE_AVAILABLE, JOBS_ACTIVE};
        match self.meta.active_by_class().await {
            Ok(counts) => {
                // Every class, with or without jobs: a dashboard shows 0, not a gap.
                let classes = std::iter::once(scanpro_queue::LIGHT_CLASS)
                    .chain(scanpro_tools::Engine::ALL.iter().map(|e| e.as_str()));
                for class in classes {
                    for status in ["queued", "running"] {
                        let count = counts.iter().find(|(c, s, _)| c == class && s == status).map_or(0, |(_, _, n)| *n);
                        metrics::gauge!(JOBS_ACTIVE, "class" => class, "status" => status).set(count as f64);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: jobs by class not counted"),
        }
        self.steps.engines.local.record_pool_metrics();
        for engine in self.engine_status().await {
            metrics::gauge!(ENGINE_AVAILABLE, "engine" => engine.engine.as_str())
                .set(f64::from(u8::from(engine.available)));
        }
        scanpro_core::metrics::render()
    }

    /// Whether the database and the queue answer, and blob storage takes a write if asked.
    pub async fn readiness(&self, with_storage: bool) -> Readiness {
        let database = self.meta.ping().await;
        let queue = self.queue.check().await;
        let storage = if with_storage { Some(self.blobs.check().await) } else { None };
        Readiness { database, queue, storage }
    }

    /// Each engine and whether it can run now (here or on its engine service).
    pub async fn engine_status(&self) -> Vec<EngineStatus> {
        self.steps.engines.status().await
    }

    /// Stops the warm engines this process started.
    pub async fn shutdown_engines(&self) {
        self.steps.engines.local.shutdown().await;
    }

    /// The next job of `class` for `worker`, waiting up to `wait` for one.
    pub async fn next_job(
        &self,
        class: &str,
        worker: &str,
        wait: Duration,
    ) -> std::result::Result<Option<JobRecord>, QueueError> {
        self.queue.next(class, worker, self.settings.lease, wait).await
    }

    /// This worker is done with the job's delivery.
    pub async fn acknowledge(&self, job: JobId) -> std::result::Result<(), QueueError> {
        self.queue.ack(job).await
    }

    /// Gives a job this worker cannot finish back to the queue at once, for another worker;
    /// `why` is recorded on it.
    pub async fn hand_back(&self, job: &JobRecord, worker: &str, why: ToolError) {
        if let Ok(true) = self.meta.retry_later(job.id, worker, &why, chrono::Duration::zero()).await {
            let _ = self.queue.ack(job.id).await;
            if let Err(e) = self.queue.dispatch(job).await {
                tracing::warn!(job = %job.id, error = %e, "handed back; the queue's reconciler will dispatch it");
            }
            tracing::info!(job = %job.id, "handed the job back to the queue");
        }
    }
}
