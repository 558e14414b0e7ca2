//! Dead letters: jobs delivered past their delivery limit, kept per class in
//! `{prefix}:dead:{class}` (trimmed to about `DEAD_LETTERS_KEPT`), and the list of jobs ended
//! here that the next reclaim reports.

use super::RedisQueue;
use crate::QueueError;
use chrono::Utc;
use scanpro_core::{ErrorCode, JobId};

/// Dead letters kept per class (approximately).
const DEAD_LETTERS_KEPT: usize = 10_000;

impl RedisQueue {
    /// The dead letters of `class`, oldest first: (job id, deliveries).
    pub async fn dead_letters(&self, class: &str) -> Result<Vec<(String, u64)>, QueueError> {
        let mut conn = self.commands.clone();
        let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.dead_key(class))
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await
            .map_err(QueueError::Redis)?;
        Ok(entries
            .ids
            .iter()
            .map(|entry| {
                (entry.get::<String>("job").unwrap_or_default(), entry.get::<u64>("deliveries").unwrap_or_default())
            })
            .collect())
    }

    /// Moves a message to the dead letters of its class.
    pub(super) async fn bury(&self, class: &str, message: &str, id: JobId, deliveries: u64) {
        self.add_dead_letter(class, id, deliveries).await;
        self.ack_message(class, message, Some(id), None).await;
    }

    async fn add_dead_letter(&self, class: &str, id: JobId, deliveries: u64) {
        let mut conn = self.commands.clone();
        let added: Result<String, _> = redis::cmd("XADD")
            .arg(self.dead_key(class))
            .arg("MAXLEN")
            .arg("~")
            .arg(DEAD_LETTERS_KEPT)
            .arg("*")
            .arg("job")
            .arg(id.to_string())
            .arg("deliveries")
            .arg(deliveries)
            .arg("at")
            .arg(Utc::now().to_rfc3339())
            .query_async(&mut conn)
            .await;
        if let Err(e) = added {
            tracing::warn!(job = %id, error = %e, "could not record a dead letter");
        }
    }

    /// A job the database dead-lettered by itself (attempts used up) gets its dead letter too.
    pub(super) async fn record_dead_letter_of_ended(&self, id: JobId) {
        match self.meta.job_by_id(id).await {
            Ok(job) if job.error.as_ref().is_some_and(|e| e.code == ErrorCode::DeliveryLimit) => {
                self.add_dead_letter(&job.class, id, u64::from(job.attempts)).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(job = %id, error = %e, "could not read an ended job"),
        }
    }

    /// Jobs ended here, for the next [`Queue::reclaim`](crate::Queue::reclaim) to report.
    pub(super) fn note_ended(&self, ids: impl IntoIterator<Item = JobId>) {
        self.local().ended.extend(ids);
    }

    /// The jobs ended here since the last call.
    pub(super) fn take_ended(&self) -> Vec<JobId> {
        std::mem::take(&mut self.local().ended)
    }
}
