//! Reconciliation with the `jobs` rows: expired leases taken back, `queued` rows without a
//! message dispatched again, old consumers removed; one process at a time.

use super::{GROUP, RedisQueue};
use crate::QueueError;
use chrono::Duration;
use scanpro_core::JobId;
use scanpro_store::Released;
use std::collections::HashMap;
use std::sync::Arc;

/// A queued row this recent may have its dispatch in flight: the reconciler leaves it alone.
const DISPATCH_SETTLE: Duration = Duration::seconds(2);
const RECONCILE_BATCH: i64 = 1000;
/// Consumers with nothing pending and silent this long are removed from the group.
const STALE_CONSUMER_MS: usize = 3_600_000;

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

impl RedisQueue {
    /// Takes back expired leases and dispatches queued rows that have no message: after a Redis
    /// restart that lost its data, or once a retry's backoff has passed.
    pub async fn reconcile(&self) -> Result<Reconciled, QueueError> {
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
                .map_err(QueueError::Redis)?;
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
                    .arg(queue.keys.reconciler())
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
