//! The Redis Streams queue against a real Redis and a real PostgreSQL: dispatch, delivery,
//! acknowledgement, take-over of silent workers, the delivery limit and its dead letters, and
//! reconciliation after Redis lost its data. Each simulated worker process opens its own queue.

mod support;

use chrono::Duration;
use scanpro_core::job::{JobSpec, JobStatus, StepSpec};
use scanpro_core::{ErrorCode, FileId, JobId, OwnerId, ToolError};
use scanpro_queue::{NoticeBus, Queue, QueueDepth, RedisOptions, RedisQueue};
use scanpro_store::{JobRecord, Meta, NewJob};
use scanpro_testkit::redis::unique_prefix;
use std::sync::Arc;
use std::time::Instant;
use support::*;

const WAIT: std::time::Duration = std::time::Duration::from_millis(300);

struct Setup {
    meta: Meta,
    redis: TestRedis,
    prefix: String,
}

impl Setup {
    async fn new(redis: TestRedis) -> Self {
        let (meta, _) = postgres_database().await;
        Self { meta, redis, prefix: unique_prefix() }
    }

    /// One worker process's view of the queue.
    async fn queue(&self) -> Arc<RedisQueue> {
        RedisQueue::open(self.meta.clone(), RedisOptions { url: self.redis.url.clone(), prefix: self.prefix.clone() })
            .await
            .unwrap()
    }

    async fn job(&self, class: &str, max_attempts: u32) -> JobRecord {
        let new = NewJob {
            owner: OwnerId::guest("queue-test"),
            spec: JobSpec {
                inputs: vec![FileId::new()],
                steps: vec![StepSpec { tool: "rotate".into(), params: serde_json::json!({"angle": 90}) }],
                webhook_url: None,
                tag: None,
            },
            class: class.into(),
            max_attempts,
            retention: Duration::hours(1),
            idempotency: None,
            secrets: None,
            metering: None,
        };
        self.meta.create_job(new).await.unwrap().0
    }

    async fn status(&self, id: JobId) -> JobStatus {
        self.meta.job_by_id(id).await.unwrap().status
    }
}

fn depth(class: &str, waiting: u64, running: u64, dead: u64) -> QueueDepth {
    QueueDepth { class: class.into(), waiting, running, dead }
}

/// Calls `next` until it hands out a job or `within` passes.
async fn next_within(
    queue: &RedisQueue,
    worker: &str,
    lease: Duration,
    within: std::time::Duration,
) -> Option<JobRecord> {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Some(job) = queue.next("light", worker, lease, WAIT).await.unwrap() {
            return Some(job);
        }
    }
    None
}

#[tokio::test]
async fn dispatch_deliver_and_acknowledge() {
    let setup = Setup::new(TestRedis::shared_or_private()).await;
    let queue = setup.queue().await;
    assert!(queue.next("light", "w1", Duration::seconds(30), WAIT).await.unwrap().is_none(), "empty queue");
    let job = setup.job("light", 3).await;
    let ocr = setup.job("ocr", 3).await;
    queue.dispatch(&job).await.unwrap();
    queue.dispatch(&ocr).await.unwrap();
    assert_eq!(queue.depth(&["light", "ocr"]).await.unwrap(), vec![depth("light", 1, 0, 0), depth("ocr", 1, 0, 0)]);

    let taken = queue.next("light", "w1", Duration::seconds(30), WAIT).await.unwrap().unwrap();
    assert_eq!((taken.id, taken.status, taken.attempts), (job.id, JobStatus::Running, 1));
    assert_eq!(taken.lease_owner.as_deref(), Some("w1"));
    assert_eq!(queue.depth(&["light"]).await.unwrap(), vec![depth("light", 0, 1, 0)], "in flight");
    assert!(queue.next("light", "w2", Duration::seconds(30), WAIT).await.unwrap().is_none(), "delivered once");

    assert!(setup.meta.finish_succeeded(job.id, "w1", &taken.steps, &[]).await.unwrap());
    queue.ack(job.id).await.unwrap();
    assert_eq!(queue.depth(&["light"]).await.unwrap(), vec![depth("light", 0, 0, 0)], "acknowledged and deleted");
    // The other class's stream is untouched by light workers.
    let other = queue.next("ocr", "o1", Duration::seconds(30), WAIT).await.unwrap().unwrap();
    assert_eq!(other.id, ocr.id);
}

#[tokio::test]
async fn a_message_whose_row_cannot_be_claimed_is_dropped() {
    let setup = Setup::new(TestRedis::shared_or_private()).await;
    let queue = setup.queue().await;
    let cancelled = setup.job("light", 3).await;
    queue.dispatch(&cancelled).await.unwrap();
    setup.meta.request_cancel(&cancelled.owner, cancelled.id).await.unwrap();
    // A duplicate message for a job already running elsewhere.
    let running = setup.job("light", 3).await;
    setup.meta.claim(running.id, "elsewhere", Duration::seconds(30)).await.unwrap().unwrap();
    queue.dispatch(&running).await.unwrap();

    assert!(next_within(&queue, "w1", Duration::seconds(30), WAIT * 3).await.is_none());
    assert_eq!(queue.depth(&["light"]).await.unwrap(), vec![depth("light", 0, 0, 0)]);
    assert_eq!(setup.status(cancelled.id).await, JobStatus::Cancelled);
    assert_eq!(setup.meta.job_by_id(running.id).await.unwrap().lease_owner.as_deref(), Some("elsewhere"));
}

#[tokio::test]
async fn a_silent_worker_is_taken_over_and_a_touched_one_is_not() {
    let setup = Setup::new(TestRedis::shared_or_private()).await;
    let lease = Duration::milliseconds(1200);
    let (first, second) = (setup.queue().await, setup.queue().await);
    let job = setup.job("light", 3).await;
    first.dispatch(&job).await.unwrap();
    let taken = first.next("light", "first/w", lease, WAIT).await.unwrap().unwrap();

    // While the first worker heartbeats and touches its delivery, nobody takes the job.
    let started = Instant::now();
    while started.elapsed() < std::time::Duration::from_millis(3000) {
        assert!(setup.meta.heartbeat(job.id, "first/w", lease).await.unwrap().still_held);
        first.touch(job.id).await.unwrap();
        assert!(second.next("light", "second/w", lease, WAIT).await.unwrap().is_none(), "taken while alive");
    }

    // The first worker goes silent: after a lease the second takes over; the row's attempt counts.
    let over = next_within(&second, "second/w", lease, std::time::Duration::from_secs(6)).await.expect("taken over");
    assert_eq!((over.id, over.attempts), (job.id, 2));
    assert!(!setup.meta.finish_succeeded(job.id, "first/w", &taken.steps, &[]).await.unwrap(), "stale worker");
    first.ack(job.id).await.unwrap();
    assert_eq!(second.depth(&["light"]).await.unwrap(), vec![depth("light", 0, 1, 0)], "the stale ack left it");
    assert!(setup.meta.finish_succeeded(job.id, "second/w", &over.steps, &[]).await.unwrap());
    second.ack(job.id).await.unwrap();
    assert_eq!(second.depth(&["light"]).await.unwrap(), vec![depth("light", 0, 0, 0)]);
}

#[tokio::test]
async fn past_the_delivery_limit_a_job_is_dead_lettered() {
    let setup = Setup::new(TestRedis::shared_or_private()).await;
    let lease = Duration::milliseconds(600);
    let job = setup.job("light", 2).await;
    let workers = [setup.queue().await, setup.queue().await, setup.queue().await];
    workers[0].dispatch(&job).await.unwrap();
    // Two deliveries whose workers die at once (no heartbeat, no ack).
    let first = next_within(&workers[0], "a", lease, std::time::Duration::from_secs(5)).await.unwrap();
    assert_eq!(first.attempts, 1);
    let second = next_within(&workers[1], "b", lease, std::time::Duration::from_secs(5)).await.unwrap();
    assert_eq!(second.attempts, 2);
    // The third delivery is past the limit: nobody runs it; it fails visibly.
    assert!(next_within(&workers[2], "c", lease, std::time::Duration::from_secs(4)).await.is_none());
    let dead = setup.meta.job_by_id(job.id).await.unwrap();
    assert_eq!(dead.status, JobStatus::Failed);
    assert_eq!(dead.error.as_ref().unwrap().code, ErrorCode::DeliveryLimit, "{:?}", dead.error);
    let letters = workers[2].dead_letters("light").await.unwrap();
    assert_eq!(letters, vec![(job.id.to_string(), 3)]);
    assert_eq!(workers[2].depth(&["light"]).await.unwrap(), vec![depth("light", 0, 0, 1)]);
    // The process that dead-lettered it reports the end, so events and webhooks go out.
    assert!(workers[2].reclaim().await.unwrap().ended.contains(&job.id));
}

#[tokio::test]
async fn a_retry_is_dispatched_again_once_its_backoff_passed() {
    let setup = Setup::new(TestRedis::shared_or_private()).await;
    let queue = setup.queue().await;
    let lease = Duration::seconds(30);
    let job = setup.job("light", 3).await;
    queue.dispatch(&job).await.unwrap();
    queue.next("light", "w", lease, WAIT).await.unwrap().unwrap();
    let error = ToolError::new(ErrorCode::Unavailable, "engine down");
    assert!(setup.meta.retry_later(job.id, "w", &error, Duration::seconds(1)).await.unwrap());
    queue.ack(job.id).await.unwrap();
    assert!(queue.next("light", "w", lease, WAIT).await.unwrap().is_none(), "no message while backing off");
    let started = Instant::now();
    let again = loop {
        queue.reconcile().await.unwrap();
        if let Some(job) = queue.next("light", "w", lease, WAIT).await.unwrap() {
            break job;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "never dispatched again");
    };
    assert_eq!((again.id, again.attempts), (job.id, 2));
}

/// Redis loses everything (FLUSHALL) while jobs wait and one runs: the reconciler dispatches the
/// waiting ones again, and the running one after its dead worker's lease ran out.
#[tokio::test]
async fn after_redis_lost_its_data_every_job_still_runs() {
    let setup = Setup::new(TestRedis::private()).await;
    let lease = Duration::milliseconds(1000);
    let queue = setup.queue().await;
    let mut jobs = Vec::new();
    for _ in 0..4 {
        let job = setup.job("light", 3).await;
        queue.dispatch(&job).await.unwrap();
        jobs.push(job.id);
    }
    let lost_with_its_worker = queue.next("light", "dies", lease, WAIT).await.unwrap().unwrap();

    let client = redis::Client::open(setup.redis.url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();

    let worker = setup.queue().await;
    let mut ran = Vec::new();
    let started = Instant::now();
    while ran.len() < jobs.len() {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "lost jobs: ran only {ran:?} of {jobs:?}");
        worker.reconcile().await.unwrap();
        while let Some(job) = worker.next("light", "survivor", lease, WAIT).await.unwrap() {
            assert!(setup.meta.finish_succeeded(job.id, "survivor", &job.steps, &[]).await.unwrap());
            worker.ack(job.id).await.unwrap();
            ran.push(job.id);
        }
    }
    ran.sort();
    jobs.sort();
    assert_eq!(ran, jobs, "each job ran once");
    let again = setup.meta.job_by_id(lost_with_its_worker.id).await.unwrap();
    assert_eq!((again.status, again.attempts), (JobStatus::Succeeded, 2));
    assert_eq!(worker.depth(&["light"]).await.unwrap(), vec![depth("light", 0, 0, 0)]);
}

#[tokio::test]
async fn the_queue_reports_redis_going_away_and_recovers() {
    let mut setup = Setup::new(TestRedis::private()).await;
    let queue = setup.queue().await;
    queue.check().await.unwrap();
    setup.redis.server().stop();
    let error = queue.next("light", "w", Duration::seconds(30), WAIT).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unavailable, "{error}");
    assert!(queue.check().await.is_err());
    setup.redis.server().restart();
    let job = setup.job("light", 3).await;
    let started = Instant::now();
    while queue.dispatch(&job).await.is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "never reconnected");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let taken = next_within(&queue, "w", Duration::seconds(30), std::time::Duration::from_secs(5)).await;
    assert_eq!(taken.map(|j| j.id), Some(job.id));
}

#[tokio::test]
async fn notices_reach_the_other_processes() {
    let redis = TestRedis::shared_or_private();
    let prefix = unique_prefix();
    let (heard_by_a, mut a_hears) = tokio::sync::mpsc::unbounded_channel();
    let (heard_by_b, mut b_hears) = tokio::sync::mpsc::unbounded_channel();
    let a = NoticeBus::start(&redis.url, &prefix, move |job| {
        let _ = heard_by_a.send(job);
    })
    .unwrap();
    let _b = NoticeBus::start(&redis.url, &prefix, move |job| {
        let _ = heard_by_b.send(job);
    })
    .unwrap();
    let job = JobId::new();
    // Subscriptions start in the background: publish until the other side hears.
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            a.publish(job);
            if let Ok(Some(heard)) = tokio::time::timeout(std::time::Duration::from_millis(200), b_hears.recv()).await {
                return heard;
            }
        }
    })
    .await
    .expect("the other process never heard");
    assert_eq!(heard, job);
    assert!(a_hears.try_recv().is_err(), "a process does not hear its own notices");
}
