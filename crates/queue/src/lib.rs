//! Job dispatch: how a committed job reaches a worker.
//!
//! The database row is the source of truth; a queue only tells workers that there is work and
//! hands each job to one of them. A job is dispatched after its metadata commit, so a worker never
//! sees a job that does not exist yet.
//!
//! # Layout
//! - [`Queue`]: the small trait every backend implements; [`QueueError`] (module [`error`]) is
//!   what its methods fail with, with a stable code.
//! - [`EmbeddedQueue`]: the durable queue of `scanpro serve`, made of the `jobs` rows themselves:
//!   a job queued or running when the process died is still there after a restart.
//! - [`streams`]: [`RedisQueue`], Redis Streams with a consumer group per job class, for API and
//!   worker processes on many machines; a reconciler keeps it in step with the rows. Its parts:
//!   `keys` (key names under the prefix), `scripts` (the Lua dispatch and acknowledgement),
//!   `delivery` (reading, take-over with `XAUTOCLAIM`, delivery counts, held jobs),
//!   `reconciler` ([`RedisQueue::reconcile`] and its lock) and `dead_letters`.
//! - [`fanout`]: [`NoticeBus`], job-changed notices shared by every process through Redis.

pub mod error;
pub mod fanout;
pub mod streams;

pub use error::QueueError;
pub use fanout::NoticeBus;
pub use streams::{RedisOptions, RedisQueue};

use async_trait::async_trait;
use chrono::Duration;
use scanpro_core::JobId;
use scanpro_store::meta::Backend;
use scanpro_store::{JobRecord, Meta, Released};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Jobs of one class are run by workers of that class (LibreOffice, OCR and light jobs scale apart).
pub const LIGHT_CLASS: &str = "light";

/// How many jobs of a class wait, run and were dead-lettered, as the queue sees them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueDepth {
    pub class: String,
    /// Dispatched, not yet delivered to a worker.
    pub waiting: u64,
    /// Delivered and not yet acknowledged: running, or held by a worker that went silent.
    pub running: u64,
    pub dead: u64,
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Tells workers that `job` (already committed) is ready.
    async fn dispatch(&self, job: &JobRecord) -> Result<(), QueueError>;

    /// Waits up to `wait` for a job of `class` and claims it for `worker` with a lease.
    async fn next(
        &self,
        class: &str,
        worker: &str,
        lease: Duration,
        wait: std::time::Duration,
    ) -> Result<Option<JobRecord>, QueueError>;

    /// Takes back jobs whose worker went silent (expired leases), so they run again.
    async fn reclaim(&self) -> Result<Released, QueueError>;

    /// The worker still runs `job` (called with each lease heartbeat): its delivery must not
    /// look abandoned.
    async fn touch(&self, _job: JobId) -> Result<(), QueueError> {
        Ok(())
    }

    /// The worker is done with `job`: it ended, was handed back, or was taken away.
    async fn ack(&self, _job: JobId) -> Result<(), QueueError> {
        Ok(())
    }

    /// Readiness: the queue's server answers.
    async fn check(&self) -> Result<(), QueueError> {
        Ok(())
    }
}

/// The queue of `scanpro serve`: workers claim the oldest runnable `queued` row. A dispatch wakes
/// one waiting worker of the job's class, so job creation does not set every idle worker
/// claiming; workers also poll, which covers retries whose backoff has passed.
pub struct EmbeddedQueue {
    meta: Meta,
    /// One bell per class, made at its first use.
    wake: Mutex<HashMap<String, Arc<Notify>>>,
    poll: std::time::Duration,
}

impl EmbeddedQueue {
    /// Opens the queue. On SQLite the database belongs to this one process, so every job still
    /// `running` was orphaned by a previous run and is queued again at once (or dead-lettered past
    /// its delivery limit). A shared PostgreSQL may have other live servers: there only expired
    /// leases are taken back, by [`Queue::reclaim`].
    pub async fn open(meta: Meta) -> Result<(Arc<Self>, Released), QueueError> {
        let orphans = match meta.backend() {
            Backend::Sqlite => meta.release_abandoned(true).await?,
            Backend::Postgres => Released::default(),
        };
        if orphans.requeued > 0 {
            tracing::info!(requeued = orphans.requeued, "re-queued jobs left running by a previous process");
        }
        let queue = Self { meta, wake: Mutex::default(), poll: std::time::Duration::from_millis(500) };
        Ok((Arc::new(queue), orphans))
    }

    fn bell(&self, class: &str) -> Arc<Notify> {
        let mut bells = self.wake.lock().unwrap_or_else(|e| e.into_inner());
        bells.entry(class.to_owned()).or_default().clone()
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn dispatch(&self, job: &JobRecord) -> Result<(), QueueError> {
        // A worker that is busy now claims the next job when it is done, bell or not; the one
        // stored wake-up of `notify_one` covers a worker between its claim and its wait.
        self.bell(&job.class).notify_one();
        Ok(())
    }

    async fn next(
        &self,
        class: &str,
        worker: &str,
        lease: Duration,
        wait: std::time::Duration,
    ) -> Result<Option<JobRecord>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        let bell = self.bell(class);
        loop {
            if let Some(job) = self.meta.claim_next(class, worker, lease).await? {
                return Ok(Some(job));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let _ = tokio::time::timeout(self.poll.min(deadline - now), bell.notified()).await;
        }
    }

    async fn reclaim(&self) -> Result<Released, QueueError> {
        let released = self.meta.release_abandoned(false).await?;
        if released.requeued > 0 {
            let bells: Vec<_> = self.wake.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
            for bell in bells {
                bell.notify_waiters();
            }
        }
        Ok(released)
    }
}
