//! `scanpro api` and `scanpro worker`: the roles of a scaled-out deployment, each its own process
//! (N API replicas, M workers) on one PostgreSQL and, with `REDIS_URL`, one Redis.
//!
//! Neither migrates: both check that the database schema is exactly the one this build knows
//! (`scanpro migrate` applies it). With Redis, jobs go through [`RedisQueue`] and job notices fan
//! out to every process ([`NoticeBus`]): Server-Sent Events work whichever replica a client hits,
//! and a cancel reaches the worker running the job at once. Without Redis the roles share the
//! embedded queue on PostgreSQL rows (workers poll).

use crate::config::Config;
use crate::parts::{
    api_state, assemble, init_logging, listen, serve_api, serve_metrics, spawn_workers, stop_on_signal, sweep_forever,
};
use anyhow::{Context, bail};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use scanpro_api::auth::CookieKey;
use scanpro_pipeline::{Events, Pipeline};
use scanpro_queue::{EmbeddedQueue, NoticeBus, Queue, RedisOptions, RedisQueue};
use scanpro_store::Meta;
use scanpro_store::meta::Backend;
use scanpro_worker::Shutdown;
use std::sync::Arc;
use std::time::Duration;

/// What both roles open before building their pipeline.
struct Backends {
    meta: Meta,
    queue: Arc<dyn Queue>,
    redis: Option<Arc<RedisQueue>>,
    events: Events,
}

async fn open_backends(config: &Config, role: &str) -> anyhow::Result<Backends> {
    let meta = Meta::connect(&config.database_url()).await.context("connecting to the database")?;
    if meta.backend() == Backend::Sqlite {
        bail!(
            "scanpro {role} shares its database with other processes: set DATABASE_URL=postgres://… \
             (or run everything in one process with `scanpro serve`)"
        );
    }
    meta.check_schema().await.context("checking the database schema")?;
    let events = Events::default();
    let Some(url) = &config.redis_url else {
        let (queue, _) = EmbeddedQueue::open(meta.clone()).await?;
        return Ok(Backends { meta, queue, redis: None, events });
    };
    let options = RedisOptions { url: url.clone(), prefix: config.redis_key_prefix.clone() };
    let redis = RedisQueue::open(meta.clone(), options).await.context("connecting to Redis (REDIS_URL)")?;
    let local = events.clone();
    let bus = NoticeBus::start(url, &config.redis_key_prefix, move |job| local.deliver(job))
        .context("starting job notices on Redis")?;
    let events = events.relayed(move |job| bus.publish(job));
    Ok(Backends { meta, queue: redis.clone(), redis: Some(redis), events })
}

/// Unique per process start (a restarted worker must not inherit its predecessor's deliveries);
/// the pid helps operators find the process holding a job.
fn instance_name(role: &str) -> String {
    format!("{role}-{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..6])
}

/// `scanpro api`: the HTTP API; jobs are dispatched to the queue for worker processes.
pub fn api(config: Config) -> anyhow::Result<()> {
    init_logging(&config);
    tokio::runtime::Runtime::new()?.block_on(async {
        let backends = open_backends(&config, "api").await?;
        // A cookie one replica signed must verify on every other: the key cannot be made here.
        let Some(secret) = &config.cookie_secret else {
            bail!(
                "scanpro api needs cookie_secret (SCANPRO_COOKIE_SECRET), the same on every replica, to sign \
                 guest cookies; make one with `openssl rand -hex 32`"
            );
        };
        let cookie_key = CookieKey::new(secret.as_bytes());
        let secret_key = config.shared_secret_key("api")?;
        let work_dir = config.work_dir().join(instance_name("api"));
        let accounts = config.account_settings(secret)?;
        let (meta, queue, events) = (backends.meta, backends.queue, backends.events);
        let pipeline = assemble(&config, meta, queue, events, work_dir.clone(), secret_key, accounts).await?;
        let listener = listen(config.listen, "listen", "").await?;
        serve_metrics(config.metrics_address(), scanpro_api::health::metrics_router(pipeline.clone())).await?;
        let state = api_state(&config, &pipeline, cookie_key, config.redis_url.as_deref(), false).await?;
        let shutdown = Shutdown::default();
        stop_on_signal(&shutdown, Duration::from_secs(config.drain_secs));
        serve_api(listener, state, &shutdown).await?;
        pipeline.shutdown_engines().await;
        let _ = std::fs::remove_dir_all(&work_dir);
        tracing::info!("stopped");
        Ok(())
    })
}

/// `scanpro worker`: runs jobs of `classes` (`--workers` each), the sweeper and, with Redis, the
/// queue's reconciler; serves `/healthz`, `/readyz` and `/metrics` on `worker_listen` (and
/// `/metrics` on `metrics_listen` too when it is set).
pub fn worker(config: Config, classes: Vec<String>) -> anyhow::Result<()> {
    init_logging(&config);
    if classes.is_empty() || classes.iter().any(|c| c.is_empty()) {
        bail!("--classes: give one or more job classes, e.g. --classes light");
    }
    tokio::runtime::Runtime::new()?.block_on(async {
        let backends = open_backends(&config, "worker").await?;
        let secret_key = config.shared_secret_key("worker")?;
        let redis = backends.redis.clone();
        let instance = instance_name("worker");
        let work_dir = config.work_dir().join(&instance);
        // Workers authenticate nobody: the accounts' settings are only what settling jobs needs.
        let accounts = Default::default();
        let (meta, queue, events) = (backends.meta, backends.queue, backends.events);
        let pipeline = assemble(&config, meta, queue, events, work_dir.clone(), secret_key, accounts).await?;
        let listener = listen(config.worker_listen, "worker_listen", "worker ").await?;

        let mut background = Vec::new();
        if let Some(redis) = &redis {
            let announcer = pipeline.clone();
            let every = Duration::from_secs(config.queue_reconcile_secs);
            background.push(redis.spawn_reconciler(every, move |ended| announcer.announce_ended(ended)));
        }
        background.push(tokio::spawn(sweep_forever(pipeline.clone(), Duration::from_secs(config.sweep_interval_secs))));

        let shutdown = Shutdown::default();
        stop_on_signal(&shutdown, Duration::from_secs(config.drain_secs));
        let mut workers = spawn_workers(&pipeline, &classes, config.worker_count(), &instance, &shutdown);
        tracing::info!(%instance, ?classes, workers = config.worker_count(), "worker started");
        let health = HealthState { pipeline: pipeline.clone(), redis, classes: classes.clone() };
        if let Some(address) = config.metrics_listen {
            let metrics_only = Router::new().route("/metrics", get(metrics)).with_state(health.clone());
            serve_metrics(address, metrics_only).await?;
        }
        let stopped = shutdown.stop_now.clone();
        let health_server = tokio::spawn(async move {
            axum::serve(listener, health_router(health)).with_graceful_shutdown(stopped.cancelled_owned()).await
        });

        while workers.join_next().await.is_some() {}
        // Every worker returned: the drain is over whatever its deadline.
        shutdown.stop_now.cancel();
        for task in background {
            task.abort();
        }
        let _ = health_server.await;
        pipeline.shutdown_engines().await;
        let _ = std::fs::remove_dir_all(&work_dir);
        tracing::info!("stopped");
        Ok(())
    })
}

#[derive(Clone)]
struct HealthState {
    pipeline: Pipeline,
    redis: Option<Arc<RedisQueue>>,
    classes: Vec<String>,
}

fn health_router(state: HealthState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Ready when the database and the queue answer.
async fn ready(State(state): State<HealthState>) -> (StatusCode, axum::Json<serde_json::Value>) {
    let readiness = state.pipeline.readiness(false).await;
    let ok = readiness.is_ready();
    let body = serde_json::json!({"status": if ok { "ok" } else { "unavailable" }, "checks": readiness.checks()});
    (if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, axum::Json(body))
}

/// Queue depth per class, in the Prometheus text format (what worker autoscaling watches).
async fn metrics(State(state): State<HealthState>) -> Result<String, (StatusCode, String)> {
    use scanpro_core::metrics::{QUEUE_DEAD_LETTERS, QUEUE_RUNNING, QUEUE_WAITING};
    if let Some(redis) = &state.redis {
        let classes: Vec<&str> = state.classes.iter().map(String::as_str).collect();
        let depths = redis.depth(&classes).await.map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
        for depth in depths {
            for (name, count) in
                [(QUEUE_WAITING, depth.waiting), (QUEUE_RUNNING, depth.running), (QUEUE_DEAD_LETTERS, depth.dead)]
            {
                metrics::gauge!(name, "class" => depth.class.clone()).set(count as f64);
            }
        }
    }
    Ok(state.pipeline.metrics().await)
}
