//! Deliveries: reading new messages, taking over those of silent workers (`XAUTOCLAIM`) and
//! judging each by its job's row, delivery counts, and the jobs this process holds.

use super::{BLOCK_MARGIN, GROUP, MAX_BLOCK, RedisQueue, is_nogroup, managed_connection};
use crate::QueueError;
use chrono::{Duration, Utc};
use redis::RedisError;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use scanpro_core::JobId;
use scanpro_core::job::JobStatus;
use scanpro_store::{JobRecord, StoreError};
use std::time::Instant;

/// How often one process looks for silent deliveries of a class.
const AUTOCLAIM_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// Messages taken over per look; each is judged before the next is taken.
const AUTOCLAIM_BATCH: usize = 8;

/// Where a message of a job this process holds lives.
#[derive(Debug, Clone)]
pub(super) struct Delivery {
    pub(super) class: String,
    pub(super) message: String,
    pub(super) consumer: String,
}

fn job_of(message: &StreamId) -> Option<JobId> {
    message.get::<String>("job")?.parse().ok()
}

impl RedisQueue {
    pub(super) async fn ensure_group(&self, class: &str) -> Result<(), QueueError> {
        if self.local().groups.contains(class) {
            return Ok(());
        }
        let mut conn = self.commands.clone();
        // From the start of the stream: messages added before the group existed are delivered too.
        let created: Result<(), RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.stream_key(class))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match created {
            Ok(()) => {}
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            Err(e) => return Err(QueueError::Redis(e)),
        }
        let _: Result<(), _> = redis::cmd("SADD").arg(self.classes_key()).arg(class).query_async(&mut conn).await;
        self.local().groups.insert(class.to_owned());
        Ok(())
    }

    /// A group lost with Redis's data is created again on next use.
    pub(super) fn forget_group(&self, class: &str) {
        self.local().groups.remove(class);
    }

    async fn consumer_connection(&self, consumer: &str) -> Result<ConnectionManager, QueueError> {
        if let Some(conn) = self.local().consumers.get(consumer) {
            return Ok(conn.clone());
        }
        let conn = managed_connection(&self.client, MAX_BLOCK + BLOCK_MARGIN).await?;
        self.local().consumers.insert(consumer.to_owned(), conn.clone());
        Ok(conn)
    }

    /// Waits up to `wait` for a new message of `class` whose row `worker` can claim.
    pub(super) async fn read(
        &self,
        class: &str,
        worker: &str,
        lease: Duration,
        wait: std::time::Duration,
    ) -> Result<Option<JobRecord>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut conn = self.consumer_connection(worker).await?;
        let stream = self.stream_key(class);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            // BLOCK 0 would wait forever. At most MAX_BLOCK, so the saturation never applies.
            let block = u64::try_from(left.min(MAX_BLOCK).as_millis().max(1)).unwrap_or(u64::MAX);
            let read: Result<Option<StreamReadReply>, _> = redis::cmd("XREADGROUP")
                .arg("GROUP")
                .arg(GROUP)
                .arg(worker)
                .arg("COUNT")
                .arg(1)
                .arg("BLOCK")
                .arg(block)
                .arg("STREAMS")
                .arg(&stream)
                .arg(">")
                .query_async(&mut conn)
                .await;
            let reply = match read {
                Ok(reply) => reply,
                Err(e) if is_nogroup(&e) => {
                    self.forget_group(class);
                    self.ensure_group(class).await?;
                    continue;
                }
                Err(e) => return Err(QueueError::Redis(e)),
            };
            let Some(message) = reply.and_then(|r| r.keys.into_iter().next()).and_then(|k| k.ids.into_iter().next())
            else {
                continue;
            };
            if let Some(job) = self.take(class, worker, lease, &message).await? {
                return Ok(Some(job));
            }
        }
    }

    /// Claims the row a delivered message names; acknowledges the message when the row cannot
    /// be claimed.
    async fn take(
        &self,
        class: &str,
        consumer: &str,
        lease: Duration,
        message: &StreamId,
    ) -> Result<Option<JobRecord>, QueueError> {
        let Some(id) = job_of(message) else {
            self.ack_message(class, &message.id, None, None).await;
            return Ok(None);
        };
        match self.meta.claim(id, consumer, lease).await? {
            Some(job) => {
                self.hold(&job, class, &message.id, consumer);
                Ok(Some(job))
            }
            None => {
                self.ack_message(class, &message.id, Some(id), None).await;
                Ok(None)
            }
        }
    }

    fn hold(&self, job: &JobRecord, class: &str, message: &str, consumer: &str) {
        let delivery = Delivery { class: class.to_owned(), message: message.to_owned(), consumer: consumer.to_owned() };
        self.local().held.insert(job.id, delivery);
    }

    /// Takes over messages whose consumer went silent for a lease and judges each by its row.
    pub(super) async fn autoclaim(
        &self,
        class: &str,
        consumer: &str,
        lease: Duration,
    ) -> Result<Option<JobRecord>, QueueError> {
        {
            let mut local = self.local();
            let now = Instant::now();
            if local.last_autoclaim.get(class).is_some_and(|at| now.duration_since(*at) < AUTOCLAIM_EVERY) {
                return Ok(None);
            }
            local.last_autoclaim.insert(class.to_owned(), now);
        }
        let mut conn = self.commands.clone();
        let stream = self.stream_key(class);
        let min_idle = lease.num_milliseconds().max(1);
        for _ in 0..AUTOCLAIM_BATCH {
            let reply: StreamAutoClaimReply = match redis::cmd("XAUTOCLAIM")
                .arg(&stream)
                .arg(GROUP)
                .arg(consumer)
                .arg(min_idle)
                .arg("0-0")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut conn)
                .await
            {
                Ok(reply) => reply,
                Err(e) if is_nogroup(&e) => {
                    self.forget_group(class);
                    return Ok(None);
                }
                Err(e) => return Err(QueueError::Redis(e)),
            };
            let Some(message) = reply.claimed.into_iter().next() else { return Ok(None) };
            if let Some(job) = self.judge_reclaimed(class, consumer, lease, &message).await? {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }

    async fn judge_reclaimed(
        &self,
        class: &str,
        consumer: &str,
        lease: Duration,
        message: &StreamId,
    ) -> Result<Option<JobRecord>, QueueError> {
        let Some(id) = job_of(message) else {
            self.ack_message(class, &message.id, None, None).await;
            return Ok(None);
        };
        let deliveries = self.deliveries(class, &message.id).await?;
        let judged = self.judge_by_row(class, consumer, lease, &message.id, id, deliveries).await;
        if judged.is_err() {
            // The row could not be read or written (a database outage): this delivery taught
            // nothing about the job, so it must not count towards its delivery limit.
            self.uncount_delivery(class, consumer, &message.id, deliveries).await;
        }
        judged
    }

    /// Decides a reclaimed message by its job's row: drop it, dead-letter it, or run the job.
    async fn judge_by_row(
        &self,
        class: &str,
        consumer: &str,
        lease: Duration,
        message: &str,
        id: JobId,
        deliveries: u64,
    ) -> Result<Option<JobRecord>, QueueError> {
        let job = match self.meta.job_by_id(id).await {
            Ok(job) => job,
            Err(StoreError::NotFound) => {
                self.ack_message(class, message, Some(id), None).await;
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let lease_live = job.lease_until.is_some_and(|until| until > Utc::now());
        // Ended, or held by a live worker (whose heartbeats could not reach Redis): the row
        // stands; if that worker dies later, its expired lease brings the job back.
        if job.status.is_terminal() || (job.status == JobStatus::Running && lease_live) {
            self.ack_message(class, message, Some(id), None).await;
            return Ok(None);
        }
        if deliveries > u64::from(job.max_attempts) {
            tracing::warn!(job = %id, deliveries, "delivery limit reached: dead-lettering the job");
            if self.meta.dead_letter(id, deliveries).await? {
                self.note_ended([id]);
                self.bury(class, message, id, deliveries).await;
            } else {
                // Claimed by a live worker meanwhile, or ended: the row stands.
                self.ack_message(class, message, Some(id), None).await;
            }
            return Ok(None);
        }
        if job.status == JobStatus::Running {
            // Its worker is gone: the row's rules decide (re-queue, or end past its attempts).
            let released = self.meta.release_abandoned(false).await?;
            for ended in &released.ended {
                self.record_dead_letter_of_ended(*ended).await;
            }
            self.note_ended(released.ended);
        }
        match self.meta.claim(id, consumer, lease).await? {
            Some(job) => {
                tracing::info!(job = %id, deliveries, "took over a job whose worker went silent");
                self.hold(&job, class, message, consumer);
                Ok(Some(job))
            }
            None => {
                self.ack_message(class, message, Some(id), None).await;
                Ok(None)
            }
        }
    }

    /// Times `message` was delivered (0 when it is no longer pending).
    async fn deliveries(&self, class: &str, message: &str) -> Result<u64, QueueError> {
        let mut conn = self.commands.clone();
        let reply: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(self.stream_key(class))
            .arg(GROUP)
            .arg(message)
            .arg(message)
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(QueueError::Redis)?;
        Ok(reply.ids.first().map_or(0, |p| p.times_delivered as u64))
    }

    /// Sets a message's delivery count back to what it was before the last claim; it stays with
    /// `consumer` and comes back after another lease. Failure is only logged.
    async fn uncount_delivery(&self, class: &str, consumer: &str, message: &str, deliveries: u64) {
        let mut conn = self.commands.clone();
        let reset: Result<redis::Value, _> = redis::cmd("XCLAIM")
            .arg(self.stream_key(class))
            .arg(GROUP)
            .arg(consumer)
            .arg(0)
            .arg(message)
            .arg("RETRYCOUNT")
            .arg(deliveries.saturating_sub(1))
            .arg("JUSTID")
            .query_async(&mut conn)
            .await;
        if let Err(e) = reset {
            tracing::warn!(message, error = %e, "could not give back a delivery");
        }
    }

    /// Resets the idle time of the delivery of a job this process holds (a lease heartbeat), so
    /// that no other worker takes it over.
    pub(super) async fn renew(&self, job: JobId) -> Result<(), QueueError> {
        let Some(delivery) = self.local().held.get(&job).cloned() else { return Ok(()) };
        let mut conn = self.commands.clone();
        // XCLAIM … JUSTID to its own consumer: resets the idle time, not the delivery count.
        let claimed: Result<Vec<String>, _> = redis::cmd("XCLAIM")
            .arg(self.stream_key(&delivery.class))
            .arg(GROUP)
            .arg(&delivery.consumer)
            .arg(0)
            .arg(&delivery.message)
            .arg("JUSTID")
            .query_async(&mut conn)
            .await;
        match claimed {
            Ok(_) => Ok(()),
            Err(e) if is_nogroup(&e) => Ok(()),
            Err(e) => Err(QueueError::Redis(e)),
        }
    }
}
