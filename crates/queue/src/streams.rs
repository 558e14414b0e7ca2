//! The distributed queue: one Redis stream per job class, read by a consumer group.
//!
//! Redis only carries job ids; the `jobs` row decides. A delivered message whose row cannot be
//! claimed (cancelled, running elsewhere, finished, backing off) is acknowledged and dropped.
//!
//! # Keys (under a configurable prefix, `scanpro` by default)
//! - `{prefix}:jobs:{class}`: the stream; group `workers`; consumers are worker names. A message
//!   stays pending while its job runs (each lease heartbeat resets its idle time) and is
//!   acknowledged and deleted when the job ends or is handed back, so the stream holds exactly
//!   the messages waiting or in flight.
//! - `{prefix}:index:{class}`: hash job id → message id of the jobs that have a message; the
//!   reconciler dispatches queued rows missing from it.
//! - `{prefix}:dead:{class}`: dead letters: jobs delivered more than their delivery limit.
//! - `{prefix}:classes`: the classes seen, for housekeeping; `{prefix}:reconciler`: a short lock
//!   so that one process reconciles at a time.
//!
//! # Recovery
//! - A worker that dies leaves its message pending: after a lease of silence another worker takes
//!   it over with `XAUTOCLAIM`; the row's lease decides whether the job runs again, and the
//!   delivery count (`XPENDING`) past `max_attempts` dead-letters it (`delivery_limit`).
//! - [`RedisQueue::reconcile`] (periodic) takes back expired leases and re-dispatches `queued`
//!   rows that have no message, so a Redis that lost its data loses no job.

use crate::{Queue, QueueDepth};
use async_trait::async_trait;
use chrono::{Duration, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::{RedisError, Script};
use scanpro_core::job::JobStatus;
use scanpro_core::{ErrorCode, JobId};
use scanpro_store::{JobRecord, Meta, Released, StoreError};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const GROUP: &str = "workers";
/// Longest single `XREADGROUP … BLOCK`; a longer wait loops.
const MAX_BLOCK: std::time::Duration = std::time::Duration::from_secs(5);
/// A blocking read answers within its BLOCK time; past this margin the connection is presumed dead.
const BLOCK_MARGIN: std::time::Duration = std::time::Duration::from_secs(10);
/// Ordinary commands answer fast; the client's default (500 ms) is too tight for a busy server.
const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Connecting is quick or hopeless: a request that dispatches a job must not hang on a Redis
/// that is away (the reconciler dispatches the job later).
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
/// How often one process looks for silent deliveries of a class.
const AUTOCLAIM_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// Messages taken over per look; each is judged before the next is taken.
const AUTOCLAIM_BATCH: usize = 8;
/// A queued row this recent may have its dispatch in flight: the reconciler leaves it alone.
const DISPATCH_SETTLE: Duration = Duration::seconds(2);
const RECONCILE_BATCH: i64 = 1000;
/// Dead letters kept per class (approximately).
const DEAD_LETTERS_KEPT: usize = 10_000;
/// Consumers with nothing pending and silent this long are removed from the group.
const STALE_CONSUMER_MS: usize = 3_600_000;

/// XADD the job id, then index it, atomically.
const DISPATCH: &str = r"
local id = redis.call('XADD', KEYS[1], '*', 'job', ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], id)
return id";

/// Acknowledge and delete a message, and drop its index entry if it still points at it. With a
/// consumer given, only if that consumer still owns it (another worker may have taken it over).
const ACK: &str = r"
if ARGV[3] ~= '' then
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
  if pending[1] and pending[1][2] ~= ARGV[3] then return 0 end
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('HGET', KEYS[2], ARGV[4]) == ARGV[2] then redis.call('HDEL', KEYS[2], ARGV[4]) end
return 1";

/// How to reach Redis and which keys to use.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    pub url: String,
    /// Prefix of every key and channel; tests use a unique one so they never collide.
    pub prefix: String,
}

/// Where a message of a job this process holds lives.
#[derive(Debug, Clone)]
struct Delivery {
    class: String,
    message: String,
    consumer: String,
}

/// What one reconciliation did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// Running jobs whose lease ran out, queued again.
    pub requeued: u64,
    /// Queued jobs that had no message (lost, or due after a backoff), dispatched again.
    pub redispatched: usize,
    /// Jobs that ended instead (dead-lettered or cancelled).
    pub ended: Vec<JobId>,
}

/// The Redis Streams queue. Open one per process and share it.
pub struct RedisQueue {
    meta: Meta,
    client: redis::Client,
    /// Short commands, shared by every task.
    commands: ConnectionManager,
    prefix: String,
    dispatch_script: Script,
    ack_script: Script,
    /// Each blocking consumer reads on its own connection: a `BLOCK` would stall a shared one.
    consumers: Mutex<HashMap<String, ConnectionManager>>,
    /// Jobs this process runs, and their messages.
    held: Mutex<HashMap<JobId, Delivery>>,
    /// Jobs ended here (dead letters) that the next [`Queue::reclaim`] reports for announcing.
    ended: Mutex<Vec<JobId>>,
    groups: Mutex<HashSet<String>>,
    last_autoclaim: Mutex<HashMap<String, Instant>>,
}

fn unavailable(e: RedisError) -> StoreError {
    StoreError::Queue(e.to_string())
}

fn is_nogroup(e: &RedisError) -> bool {
    e.code() == Some("NOGROUP")
}

/// A connection that reconnects by itself, trying once per command while Redis is away rather
/// than holding the command through a long series of retries.
async fn managed_connection(
    client: &redis::Client,
    response_timeout: std::time::Duration,
) -> Result<ConnectionManager, StoreError> {
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(std::time::Duration::from_millis(200));
    client.get_connection_manager_with_config(config).await.map_err(unavailable)
}

impl RedisQueue {
    /// Connects to Redis (failing when it does not answer).
    pub async fn open(meta: Meta, options: RedisOptions) -> Result<Arc<Self>, StoreError> {
        let client = redis::Client::open(options.url.as_str()).map_err(unavailable)?;
        let commands = managed_connection(&client, COMMAND_TIMEOUT).await?;
        Ok(Arc::new(Self {
            meta,
            client,
            commands,
            prefix: options.prefix,
            dispatch_script: Script::new(DISPATCH),
            ack_script: Script::new(ACK),
            consumers: Mutex::default(),
            held: Mutex::default(),
            ended: Mutex::default(),
            groups: Mutex::default(),
            last_autoclaim: Mutex::default(),
        }))
    }

    pub fn stream_key(&self, class: &str) -> String {
        format!("{}:jobs:{class}", self.prefix)
    }

    pub fn dead_key(&self, class: &str) -> String {
        format!("{}:dead:{class}", self.prefix)
    }

    fn index_key(&self, class: &str) -> String {
        format!("{}:index:{class}", self.prefix)
    }

    fn classes_key(&self) -> String {
        format!("{}:classes", self.prefix)
    }

    /// Messages waiting, in flight and dead-lettered, per class.
    pub async fn depth(&self, classes: &[&str]) -> Result<Vec<QueueDepth>, StoreError> {
        let mut conn = self.commands.clone();
        let mut depths = Vec::with_capacity(classes.len());
        for class in classes {
            let (length, dead): (u64, u64) = redis::pipe()
                .cmd("XLEN")
                .arg(self.stream_key(class))
                .cmd("XLEN")
                .arg(self.dead_key(class))
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            let pending = match redis::cmd("XPENDING")
                .arg(self.stream_key(class))
                .arg(GROUP)
                .query_async::<redis::streams::StreamPendingReply>(&mut conn)
                .await
            {
                Ok(reply) => reply.count() as u64,
                Err(e) if is_nogroup(&e) => 0,
                Err(e) => return Err(unavailable(e)),
            };
            depths.push(QueueDepth {
                class: (*class).to_owned(),
                waiting: length.saturating_sub(pending),
                running: pending,
                dead,
            });
        }
        Ok(depths)
    }

    /// The dead letters of `class`, oldest first: (job id, deliveries).
    pub async fn dead_letters(&self, class: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let mut conn = self.commands.clone();
        let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(self.dead_key(class))
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(entries
            .ids
            .iter()
            .map(|entry| {
                (entry.get::<String>("job").unwrap_or_default(), entry.get::<u64>("deliveries").unwrap_or_default())
            })
            .collect())
    }

    /// Takes back expired leases and dispatches queued rows that have no message: after a Redis
    /// restart that lost its data, or once a retry's backoff has passed.
    pub async fn reconcile(&self) -> Result<Reconciled, StoreError> {
        let released = self.meta.release_abandoned(false).await?;
        for id in &released.ended {
            self.record_dead_letter_of_ended(*id).await;
        }
        let queued = self.meta.runnable_queued(DISPATCH_SETTLE, RECONCILE_BATCH).await?;
        let mut by_class: HashMap<String, Vec<JobId>> = HashMap::new();
        for (id, class) in queued {
            by_class.entry(class).or_default().push(id);
        }
        let mut conn = self.commands.clone();
        let mut redispatched = 0;
        for (class, ids) in by_class {
            let known: Vec<Option<String>> = redis::cmd("HMGET")
                .arg(self.index_key(&class))
                .arg(ids.iter().map(ToString::to_string).collect::<Vec<_>>())
                .query_async(&mut conn)
                .await
                .map_err(unavailable)?;
            for (id, message) in ids.iter().zip(known) {
                if message.is_none() {
                    self.send(*id, &class).await?;
                    redispatched += 1;
                }
            }
        }
        self.forget_stale_consumers().await;
        if released.requeued > 0 || redispatched > 0 || !released.ended.is_empty() {
            tracing::info!(
                requeued = released.requeued,
                redispatched,
                ended = released.ended.len(),
                "queue reconciled with the database"
            );
        }
        Ok(Reconciled { requeued: released.requeued, redispatched, ended: released.ended })
    }

    /// Reconciles every `every` in the background, one process at a time (a short Redis lock).
    /// Jobs that ended are passed to `on_ended` (events and webhooks).
    pub fn spawn_reconciler(
        self: &Arc<Self>,
        every: std::time::Duration,
        on_ended: impl Fn(&Released) + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let queue = Arc::clone(self);
        let owner = uuid::Uuid::new_v4().to_string();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let mut conn = queue.commands.clone();
                let lock_ms = u64::try_from(every.as_millis().saturating_sub(100).max(100)).unwrap_or(u64::MAX);
                let locked: Result<Option<String>, _> = redis::cmd("SET")
                    .arg(format!("{}:reconciler", queue.prefix))
                    .arg(&owner)
                    .arg("NX")
                    .arg("PX")
                    .arg(lock_ms)
                    .query_async(&mut conn)
                    .await;
                match locked {
                    Ok(Some(_)) => {}
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "reconciler: Redis unavailable");
                        continue;
                    }
                }
                match queue.reconcile().await {
                    Ok(done) => {
                        let mut ended = done.ended;
                        ended.append(&mut queue.take_ended());
                        on_ended(&Released { requeued: done.requeued, ended });
                    }
                    Err(e) => tracing::warn!(error = %e, "reconciling the queue failed"),
                }
            }
        })
    }

    fn take_ended(&self) -> Vec<JobId> {
        std::mem::take(&mut *self.ended.lock().expect("ended list"))
    }

    /// XADD + index.
    async fn send(&self, id: JobId, class: &str) -> Result<(), StoreError> {
        let mut conn = self.commands.clone();
        let _: String = self
            .dispatch_script
            .key(self.stream_key(class))
            .key(self.index_key(class))
            .arg(id.to_string())
            .invoke_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn ensure_group(&self, class: &str) -> Result<(), StoreError> {
        if self.groups.lock().expect("groups").contains(class) {
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
            Err(e) => return Err(unavailable(e)),
        }
        let _: Result<(), _> = redis::cmd("SADD").arg(self.classes_key()).arg(class).query_async(&mut conn).await;
        self.groups.lock().expect("groups").insert(class.to_owned());
        Ok(())
    }

    /// A group lost with Redis's data is created again on next use.
    fn forget_group(&self, class: &str) {
        self.groups.lock().expect("groups").remove(class);
    }

    async fn consumer_connection(&self, consumer: &str) -> Result<ConnectionManager, StoreError> {
        if let Some(conn) = self.consumers.lock().expect("consumers").get(consumer) {
            return Ok(conn.clone());
        }
        let conn = managed_connection(&self.client, MAX_BLOCK + BLOCK_MARGIN).await?;
        self.consumers.lock().expect("consumers").insert(consumer.to_owned(), conn.clone());
        Ok(conn)
    }

    /// Claims the row a delivered message names; acknowledges the message when the row cannot
    /// be claimed.
    async fn take(
        &self,
        class: &str,
        consumer: &str,
        lease: Duration,
        message: &StreamId,
    ) -> Result<Option<JobRecord>, StoreError> {
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
        self.held.lock().expect("held jobs").insert(job.id, delivery);
    }

    /// Takes over messages whose consumer went silent for a lease and judges each by its row.
    async fn autoclaim(&self, class: &str, consumer: &str, lease: Duration) -> Result<Option<JobRecord>, StoreError> {
        {
            let mut last = self.last_autoclaim.lock().expect("autoclaim times");
            let now = Instant::now();
            if last.get(class).is_some_and(|at| now.duration_since(*at) < AUTOCLAIM_EVERY) {
                return Ok(None);
            }
            last.insert(class.to_owned(), now);
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
                Err(e) => return Err(unavailable(e)),
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
    ) -> Result<Option<JobRecord>, StoreError> {
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
    ) -> Result<Option<JobRecord>, StoreError> {
        let job = match self.meta.job_by_id(id).await {
            Ok(job) => job,
            Err(StoreError::NotFound) => {
                self.ack_message(class, message, Some(id), None).await;
                return Ok(None);
            }
            Err(e) => return Err(e),
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
                self.ended.lock().expect("ended list").push(id);
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
            self.ended.lock().expect("ended list").extend(released.ended);
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
    async fn deliveries(&self, class: &str, message: &str) -> Result<u64, StoreError> {
        let mut conn = self.commands.clone();
        let reply: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(self.stream_key(class))
            .arg(GROUP)
            .arg(message)
            .arg(message)
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
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

    /// Moves a message to the dead letters of its class.
    async fn bury(&self, class: &str, message: &str, id: JobId, deliveries: u64) {
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
    async fn record_dead_letter_of_ended(&self, id: JobId) {
        match self.meta.job_by_id(id).await {
            Ok(job) if job.error.as_ref().is_some_and(|e| e.code == ErrorCode::DeliveryLimit) => {
                self.add_dead_letter(&job.class, id, u64::from(job.attempts)).await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(job = %id, error = %e, "could not read an ended job"),
        }
    }

    /// Acknowledges and deletes a message. Failure is only logged: an unacknowledged message
    /// comes back after a lease and is then dropped by its row's state.
    async fn ack_message(&self, class: &str, message: &str, job: Option<JobId>, consumer: Option<&str>) {
        let mut conn = self.commands.clone();
        let done: Result<i64, _> = self
            .ack_script
            .key(self.stream_key(class))
            .key(self.index_key(class))
            .arg(GROUP)
            .arg(message)
            .arg(consumer.unwrap_or(""))
            .arg(job.map(|j| j.to_string()).unwrap_or_default())
            .invoke_async(&mut conn)
            .await;
        if let Err(e) = done {
            if is_nogroup(&e) {
                self.forget_group(class);
            } else {
                tracing::warn!(message, error = %e, "could not acknowledge a queue message");
            }
        }
    }

    /// Removes consumers (old worker processes) that own nothing and were silent for an hour.
    async fn forget_stale_consumers(&self) {
        let mut conn = self.commands.clone();
        let Ok(classes) = redis::cmd("SMEMBERS").arg(self.classes_key()).query_async::<Vec<String>>(&mut conn).await
        else {
            return;
        };
        for class in classes {
            let Ok(info) = redis::cmd("XINFO")
                .arg("CONSUMERS")
                .arg(self.stream_key(&class))
                .arg(GROUP)
                .query_async::<redis::streams::StreamInfoConsumersReply>(&mut conn)
                .await
            else {
                continue;
            };
            for consumer in info.consumers.iter().filter(|c| c.pending == 0 && c.idle > STALE_CONSUMER_MS) {
                let _: Result<i64, _> = redis::cmd("XGROUP")
                    .arg("DELCONSUMER")
                    .arg(self.stream_key(&class))
                    .arg(GROUP)
                    .arg(&consumer.name)
                    .query_async(&mut conn)
                    .await;
            }
        }
    }
}

fn job_of(message: &StreamId) -> Option<JobId> {
    message.get::<String>("job")?.parse().ok()
}

#[async_trait]
impl Queue for RedisQueue {
    async fn dispatch(&self, job: &JobRecord) -> Result<(), StoreError> {
        self.send(job.id, &job.class).await
    }

    async fn next(
        &self,
        class: &str,
        worker: &str,
        lease: Duration,
        wait: std::time::Duration,
    ) -> Result<Option<JobRecord>, StoreError> {
        self.ensure_group(class).await?;
        if let Some(job) = self.autoclaim(class, worker, lease).await? {
            return Ok(Some(job));
        }
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
                Err(e) => return Err(unavailable(e)),
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

    async fn reclaim(&self) -> Result<Released, StoreError> {
        let done = self.reconcile().await?;
        let mut ended = done.ended;
        ended.append(&mut self.take_ended());
        Ok(Released { requeued: done.requeued, ended })
    }

    async fn touch(&self, job: JobId) -> Result<(), StoreError> {
        let Some(delivery) = self.held.lock().expect("held jobs").get(&job).cloned() else { return Ok(()) };
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
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn ack(&self, job: JobId) -> Result<(), StoreError> {
        let Some(delivery) = self.held.lock().expect("held jobs").remove(&job) else { return Ok(()) };
        self.ack_message(&delivery.class, &delivery.message, Some(job), Some(&delivery.consumer)).await;
        Ok(())
    }

    async fn check(&self) -> Result<(), StoreError> {
        let mut conn = self.commands.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await.map_err(unavailable)?;
        Ok(())
    }
}
