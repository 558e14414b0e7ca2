//! Job-changed notices shared by every process on one Redis (pub/sub channel `{prefix}:events`).
//!
//! A notice carries only a job id, like the in-process ones: listeners re-read the row. An API
//! replica following a job that a worker elsewhere runs hears of each change at once, and a
//! worker hears a cancel made through any replica without waiting for its next heartbeat.
//! Notices are best effort: while Redis is away they are dropped, and listeners fall back on
//! polling the database.

use scanpro_core::JobId;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Notices not yet sent are dropped beyond this (Redis is away or slow).
const OUTBOX: usize = 4096;
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// The sending side; cheap to clone. Dropping every clone stops the publisher.
#[derive(Clone)]
pub struct NoticeBus {
    outbox: mpsc::Sender<JobId>,
}

impl NoticeBus {
    /// Starts publishing and listening on `{prefix}:events`. Notices from other processes are
    /// handed to `deliver`; this process's own are not echoed back.
    pub fn start(url: &str, prefix: &str, deliver: impl Fn(JobId) + Send + Sync + 'static) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let channel = format!("{prefix}:events");
        let origin = uuid::Uuid::new_v4().simple().to_string();
        let (outbox, pending) = mpsc::channel(OUTBOX);
        tokio::spawn(publish(client.clone(), channel.clone(), origin.clone(), pending));
        tokio::spawn(listen(client, channel, origin, Arc::new(deliver)));
        Ok(Self { outbox })
    }

    /// Queues a notice for the other processes; never waits.
    pub fn publish(&self, job: JobId) {
        let _ = self.outbox.try_send(job);
    }
}

async fn publish(client: redis::Client, channel: String, origin: String, mut pending: mpsc::Receiver<JobId>) {
    let mut conn = None;
    while let Some(job) = pending.recv().await {
        if conn.is_none() {
            conn = client.get_multiplexed_async_connection().await.ok();
        }
        let Some(c) = conn.as_mut() else { continue };
        let sent: redis::RedisResult<i64> =
            redis::cmd("PUBLISH").arg(&channel).arg(format!("{origin} {job}")).query_async(c).await;
        if sent.is_err() {
            conn = None;
        }
    }
}

async fn listen(client: redis::Client, channel: String, origin: String, deliver: Arc<dyn Fn(JobId) + Send + Sync>) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if pubsub.subscribe(&channel).await.is_ok() {
                    let mut messages = pubsub.on_message();
                    while let Some(message) = futures::StreamExt::next(&mut messages).await {
                        let Ok(payload) = message.get_payload::<String>() else { continue };
                        let Some((from, job)) = payload.split_once(' ') else { continue };
                        if from == origin {
                            continue;
                        }
                        if let Ok(job) = job.parse() {
                            deliver(job);
                        }
                    }
                }
                tracing::debug!("job notices: subscription ended; reconnecting");
            }
            Err(e) => tracing::debug!(error = %e, "job notices: Redis unavailable"),
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}
