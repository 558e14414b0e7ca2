//! The worker loop: lease a job, execute it, repeat; drain on shutdown.
//!
//! # Layout
//! - [`run_workers`]: starts N workers of one queue class and returns when they have drained.
//! - [`Shutdown`]: the two signals a worker obeys: *stop taking work* (graceful), then, after the
//!   drain deadline, *stop now* (running jobs are handed back to the queue, not lost).

use scanpro_core::{ErrorCode, ToolError};
use scanpro_pipeline::Pipeline;
use scanpro_pipeline::execute::Outcome;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a worker waits on an empty queue before looking at the shutdown signal again. The
/// wait is never raced against shutdown: dropping it could lose a job claimed in that instant.
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// Graceful then hard stop.
#[derive(Clone, Default)]
pub struct Shutdown {
    /// Stop leasing new jobs; finish the running ones.
    pub stop_taking_work: CancellationToken,
    /// The drain deadline passed: abandon running jobs (they go back to the queue).
    pub stop_now: CancellationToken,
}

impl Shutdown {
    /// Begins a graceful stop, turning into a hard stop after `deadline`.
    pub fn begin(&self, deadline: Duration) {
        self.stop_taking_work.cancel();
        let stop_now = self.stop_now.clone();
        tokio::spawn(async move {
            tokio::time::sleep(deadline).await;
            stop_now.cancel();
        });
    }
}

/// Runs `count` workers of `class` until `shutdown`; each is named `{instance}/{class}-{n}`.
pub async fn run_workers(pipeline: Pipeline, class: &str, count: usize, instance: String, shutdown: Shutdown) {
    let mut workers = tokio::task::JoinSet::new();
    for n in 0..count {
        let name = format!("{instance}/{class}-{n}");
        workers.spawn(worker_loop(pipeline.clone(), class.to_owned(), name, shutdown.clone()));
    }
    while workers.join_next().await.is_some() {}
}

async fn worker_loop(pipeline: Pipeline, class: String, name: String, shutdown: Shutdown) {
    tracing::debug!(worker = %name, "worker started");
    while !shutdown.stop_taking_work.is_cancelled() {
        match pipeline.next_job(&class, &name, IDLE_WAIT).await {
            Ok(Some(job)) => run_one(&pipeline, &job, &name, &shutdown).await,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(worker = %name, error = %e, "queue unavailable; backing off");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
    tracing::debug!(worker = %name, "worker stopped");
}

async fn run_one(pipeline: &Pipeline, job: &scanpro_store::JobRecord, name: &str, shutdown: &Shutdown) {
    let started = std::time::Instant::now();
    let outcome = tokio::select! {
        // Every log line of the run carries the job's id.
        outcome = tracing::Instrument::instrument(pipeline.execute(job, name), tracing::info_span!("job", job = %job.id)) => outcome,
        _ = shutdown.stop_now.cancelled() => {
            // Dropping the execution killed its step; give the job back for another worker.
            let why = ToolError::new(ErrorCode::Busy, "the worker shut down before the job finished");
            pipeline.hand_back(job, name, why).await;
            Ok(Outcome::Abandoned)
        }
    };
    // Whatever the outcome, this worker is done with the delivery; a job it could not record
    // keeps its delivery, which comes back to a worker once the lease has run out.
    if outcome.is_ok()
        && let Err(e) = pipeline.acknowledge(job.id).await
    {
        tracing::warn!(job = %job.id, error = %e, "could not acknowledge the delivery");
    }
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(Outcome::Failed(error)) => {
            tracing::info!(job = %job.id, code = %error.code, elapsed_ms, "job failed: {}", error.message)
        }
        Ok(outcome) => tracing::info!(job = %job.id, ?outcome, elapsed_ms, "job finished"),
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "job could not be recorded; its lease will expire and it will run again")
        }
    }
}
