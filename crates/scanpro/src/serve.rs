//! `scanpro serve`: the API, N workers of every class and the sweeper in one process, on embedded
//! defaults (SQLite, the embedded queue, blobs in the data dir).

use crate::config::Config;
use crate::parts::{
    api_state, assemble, init_logging, listen, serve_api, serve_metrics, spawn_workers, stop_on_signal, sweep_forever,
};
use anyhow::Context;
use scanpro_api::auth::CookieKey;
use scanpro_pipeline::{Events, Pipeline, SecretKey};
use scanpro_queue::{EmbeddedQueue, LIGHT_CLASS};
use scanpro_store::Meta;
use scanpro_tools::Engine;
use scanpro_worker::Shutdown;
use std::time::Duration;

pub fn run(config: Config) -> anyhow::Result<()> {
    init_logging(&config);
    tokio::runtime::Runtime::new()?.block_on(serve(config))
}

pub fn migrate(config: Config) -> anyhow::Result<()> {
    init_logging(&config);
    tokio::runtime::Runtime::new()?.block_on(async {
        let meta = Meta::connect(&config.database_url()).await.context("connecting to the database")?;
        meta.migrate().await.context("migrating")?;
        println!("migrations applied");
        Ok(())
    })
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if config.redis_url.is_some() {
        tracing::warn!("REDIS_URL is for `scanpro api` and `scanpro worker`; `scanpro serve` keeps its embedded queue");
    }
    let instance = format!("serve-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    if config.secret_key.is_none() {
        tracing::info!(
            "secret_key is not set: passwords of queued jobs and webhook secrets are sealed with a key held \
             only in memory, and do not survive a restart"
        );
    }
    let cookie_secret = kept_cookie_secret(&config)?;
    let pipeline = build_pipeline(&config, config.secret_key(), &cookie_secret).await?;
    let listener = listen(config.listen, "listen", "").await?;
    serve_metrics(config.metrics_address(), scanpro_api::health::metrics_router(pipeline.clone())).await?;
    let shutdown = Shutdown::default();
    stop_on_signal(&shutdown, Duration::from_secs(config.drain_secs));
    // Every class gets its workers: engine jobs wait on their engine, never on light jobs.
    let classes: Vec<String> = std::iter::once(LIGHT_CLASS)
        .chain(Engine::ALL.iter().map(|engine| engine.as_str()))
        .map(String::from)
        .collect();
    let mut workers = spawn_workers(&pipeline, &classes, config.worker_count(), &instance, &shutdown);
    tokio::spawn(sweep_forever(pipeline.clone(), Duration::from_secs(config.sweep_interval_secs)));

    let state = api_state(&config, &pipeline, CookieKey::new(cookie_secret.as_bytes()), None, true).await?;
    serve_api(listener, state, &shutdown).await?;
    while let Some(done) = workers.join_next().await {
        done?;
    }
    pipeline.shutdown_engines().await;
    tracing::info!("stopped");
    Ok(())
}

/// `serve`'s cookie secret: `cookie_secret` when set, else one generated once and kept (mode
/// 0600) in the data dir, so guests keep their files and sign-ins their tokens across restarts.
fn kept_cookie_secret(config: &Config) -> anyhow::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(secret) = &config.cookie_secret {
        return Ok(secret.clone());
    }
    let path = config.data_dir.join("cookie_secret");
    std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating {}", config.data_dir.display()))?;
    let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path);
    match created {
        Ok(mut file) => file
            .write_all(scanpro_api::auth::new_secret().as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
    }
    let secret = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    if secret.trim().len() < 32 {
        anyhow::bail!("{} holds no usable secret: delete it and a new one is made", path.display());
    }
    Ok(secret.trim().to_owned())
}

async fn build_pipeline(config: &Config, secret_key: SecretKey, cookie_secret: &str) -> anyhow::Result<Pipeline> {
    let meta = Meta::connect(&config.database_url()).await.context("connecting to the database")?;
    meta.migrate().await.context("migrating the database")?;
    let (queue, orphans) = EmbeddedQueue::open(meta.clone()).await?;
    let accounts = config.account_settings(cookie_secret)?;
    let pipeline = assemble(config, meta, queue, Events::default(), config.work_dir(), secret_key, accounts).await?;
    pipeline.announce_ended(&orphans);
    Ok(pipeline)
}
