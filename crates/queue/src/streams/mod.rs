//! The distributed queue: one Redis stream per job class, read by a consumer group.
//!
//! Redis only carries job ids; the `jobs` row decides. A delivered message whose row cannot be
//! claimed (cancelled, running elsewhere, finished, backing off) is acknowledged and dropped.
//!
//! # Layout
//! - this module: [`RedisQueue`] (its connections and its local state) and its [`Queue`] side.
//! - `keys`: the name of every key under the prefix.
//! - `scripts`: the Lua scripts that dispatch and acknowledge a message atomically.
//! - `delivery`: reading, taking over (`XAUTOCLAIM`) and judging deliveries; the jobs this
//!   process holds and their heartbeats.
//! - `reconciler`: [`RedisQueue::reconcile`] and its background task.
//! - `dead_letters`: the dead letters of each class.
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

mod dead_letters;
mod delivery;
mod keys;
mod reconciler;
mod scripts;

pub use reconciler::Reconciled;

use crate::{Queue, QueueDepth, QueueError};
use async_trait::async_trait;
use chrono::Duration;
use delivery::Delivery;
use keys::Keys;
use redis::RedisError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use scanpro_core::JobId;
use scanpro_store::{JobRecord, Meta, Released};
use scripts::Scripts;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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

/// How to reach Redis and which keys to use.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    pub url: String,
    /// Prefix of every key and channel; tests use a unique one so they never collide.
    pub prefix: String,
}

/// The Redis Streams queue. Open one per process and share it.
pub struct RedisQueue {
    meta: Meta,
    client: redis::Client,
    /// Short commands, shared by every task.
    commands: ConnectionManager,
    keys: Keys,
    scripts: Scripts,
    /// What this process keeps between calls; see [`Local`].
    local: Mutex<Local>,
}

/// The queue's in-process state, behind one lock. Every use is short and synchronous: the lock
/// is never held across an await.
#[derive(Default)]
struct Local {
    /// Each blocking consumer reads on its own connection: a `BLOCK` would stall a shared one.
    consumers: HashMap<String, ConnectionManager>,
    /// Jobs this process runs, and their messages.
    held: HashMap<JobId, Delivery>,
    /// Jobs ended here (dead letters) that the next [`Queue::reclaim`] reports for announcing.
    ended: Vec<JobId>,
    /// Classes whose consumer group this process knows to exist.
    groups: HashSet<String>,
    /// When this process last looked for silent deliveries of each class.
    last_autoclaim: HashMap<String, Instant>,
}

fn is_nogroup(e: &RedisError) -> bool {
    e.code() == Some("NOGROUP")
}

/// A connection that reconnects by itself, trying once per command while Redis is away rather
/// than holding the command through a long series of retries.
async fn managed_connection(
    client: &redis::Client,
    response_timeout: std::time::Duration,
) -> Result<ConnectionManager, QueueError> {
    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(response_timeout))
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(std::time::Duration::from_millis(200));
    client.get_connection_manager_with_config(config).await.map_err(QueueError::Redis)
}

impl RedisQueue {
    /// Connects to Redis (failing when it does not answer).
    pub async fn open(meta: Meta, options: RedisOptions) -> Result<Arc<Self>, QueueError> {
        let client = redis::Client::open(options.url.as_str()).map_err(QueueError::Redis)?;
        let commands = managed_connection(&client, COMMAND_TIMEOUT).await?;
        Ok(Arc::new(Self {
            meta,
            client,
            commands,
            keys: Keys::new(options.prefix),
            scripts: Scripts::new(),
            local: Mutex::default(),
        }))
    }

    /// The local state. No use of it panics, so a poisoned lock still holds consistent state.
    fn local(&self) -> MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Messages waiting, in flight and dead-lettered, per class.
    pub async fn depth(&self, classes: &[&str]) -> Result<Vec<QueueDepth>, QueueError> {
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
                .map_err(QueueError::Redis)?;
            let pending = match redis::cmd("XPENDING")
                .arg(self.stream_key(class))
                .arg(GROUP)
                .query_async::<redis::streams::StreamPendingReply>(&mut conn)
                .await
            {
                Ok(reply) => reply.count() as u64,
                Err(e) if is_nogroup(&e) => 0,
                Err(e) => return Err(QueueError::Redis(e)),
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
}

#[async_trait]
impl Queue for RedisQueue {
    async fn dispatch(&self, job: &JobRecord) -> Result<(), QueueError> {
        self.send(job.id, &job.class).await
    }

    async fn next(
        &self,
        class: &str,
        worker: &str,
        lease: Duration,
        wait: std::time::Duration,
    ) -> Result<Option<JobRecord>, QueueError> {
        self.ensure_group(class).await?;
        if let Some(job) = self.autoclaim(class, worker, lease).await? {
            return Ok(Some(job));
        }
        self.read(class, worker, lease, wait).await
    }

    async fn reclaim(&self) -> Result<Released, QueueError> {
        let done = self.reconcile().await?;
        let mut ended = done.ended;
        ended.append(&mut self.take_ended());
        Ok(Released { requeued: done.requeued, ended })
    }

    async fn touch(&self, job: JobId) -> Result<(), QueueError> {
        self.renew(job).await
    }

    async fn ack(&self, job: JobId) -> Result<(), QueueError> {
        let Some(delivery) = self.local().held.remove(&job) else { return Ok(()) };
        self.ack_message(&delivery.class, &delivery.message, Some(job), Some(&delivery.consumer)).await;
        Ok(())
    }

    async fn check(&self) -> Result<(), QueueError> {
        let mut conn = self.commands.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await.map_err(QueueError::Redis)?;
        Ok(())
    }
}
