//! `scanpro serve`: the API, N workers and the sweeper in one process, on embedded defaults.

use crate::config::Config;
use anyhow::Context;
use scanpro_api::owner::CookieKey;
use scanpro_api::rate_limit::RateLimit;
use scanpro_api::{ApiSettings, AppState};
use scanpro_pipeline::{Events, NativeSteps, Pipeline, SecretKey, Settings, StepRunner};
use scanpro_process::Limits;
use scanpro_queue::{EmbeddedQueue, LIGHT_CLASS, Queue};
use scanpro_store::Meta;
use scanpro_tools::Engine;
use scanpro_worker::Shutdown;
use std::sync::Arc;
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
    let pipeline = build_pipeline(&config, config.secret_key()).await?;
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
    // Printed on stdout whatever the log format, so scripts and tests can find a port-0 server.
    println!("scanpro: listening on http://{}", listener.local_addr()?);

    let shutdown = Shutdown::default();
    let drain = Duration::from_secs(config.drain_secs);
    // Every class gets its workers: engine jobs wait on their engine, never on light jobs.
    let mut workers = tokio::task::JoinSet::new();
    for class in std::iter::once(LIGHT_CLASS).chain(Engine::ALL.iter().map(|engine| engine.as_str())) {
        let (pipeline, instance, shutdown) = (pipeline.clone(), instance.clone(), shutdown.clone());
        let count = config.worker_count();
        workers.spawn(async move { scanpro_worker::run_workers(pipeline, class, count, instance, shutdown).await });
    }
    tokio::spawn(sweep_forever(pipeline.clone(), Duration::from_secs(config.sweep_interval_secs)));

    let state = AppState {
        pipeline: pipeline.clone(),
        settings: Arc::new(api_settings(&config, kept_cookie_key(&config)?)?),
        rate_limit: rate_limit(&config, None).await?,
    };
    let on_signal = {
        let shutdown = shutdown.clone();
        async move {
            termination_signal().await;
            tracing::info!(drain_secs = drain.as_secs(), "shutting down: no new work, draining running jobs");
            shutdown.begin(drain);
        }
    };
    let server = tokio::spawn(scanpro_api::serve(listener, state, on_signal));
    // Open event streams could hold a graceful HTTP shutdown forever: the drain deadline bounds it.
    tokio::select! {
        served = server => served??,
        _ = shutdown.stop_now.cancelled() => {}
    }
    while let Some(done) = workers.join_next().await {
        done?;
    }
    pipeline.shutdown_engines().await;
    tracing::info!("stopped");
    Ok(())
}

/// The API's settings, shared by `serve` and `api`.
pub(crate) fn api_settings(config: &Config, cookie_key: CookieKey) -> anyhow::Result<ApiSettings> {
    Ok(ApiSettings {
        oneshot_wait: Duration::from_secs(config.oneshot_wait_secs),
        secure_cookies: config.secure_cookies,
        cookie_key,
        max_json_bytes: usize::try_from(config.max_json_kb.saturating_mul(1024)).unwrap_or(usize::MAX),
        trusted_proxies: scanpro_api::owner::parse_trusted_proxies(&config.trusted_proxies)
            .map_err(anyhow::Error::msg)?,
    })
}

/// `serve`'s cookie key: `cookie_secret` when set, else one generated once and kept (mode 0600)
/// in the data dir, so guests keep their files across restarts.
fn kept_cookie_key(config: &Config) -> anyhow::Result<CookieKey> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(secret) = &config.cookie_secret {
        return Ok(CookieKey::new(secret.as_bytes()));
    }
    let path = config.data_dir.join("cookie_secret");
    std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating {}", config.data_dir.display()))?;
    let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path);
    match created {
        Ok(mut file) => file
            .write_all(scanpro_api::owner::new_secret().as_bytes())
            .with_context(|| format!("writing {}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
    }
    let secret = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    if secret.trim().len() < 32 {
        anyhow::bail!("{} holds no usable secret: delete it and a new one is made", path.display());
    }
    Ok(CookieKey::new(secret.trim().as_bytes()))
}

/// The write and new-guest budgets: counted through Redis at `shared_through` (API replicas),
/// else in this process; `None` when both are unlimited.
pub(crate) async fn rate_limit(
    config: &Config,
    shared_through: Option<&str>,
) -> anyhow::Result<Option<Arc<RateLimit>>> {
    let (writes, new_guests, minute) =
        (config.rate_limit_per_minute, config.new_guests_per_minute, Duration::from_secs(60));
    if writes == 0 && new_guests == 0 {
        return Ok(None);
    }
    let counter = match shared_through {
        Some(url) => RateLimit::shared(url, &config.redis_key_prefix, writes, new_guests, minute)
            .await
            .map_err(anyhow::Error::msg)
            .context("connecting to Redis for rate limits")?,
        None => RateLimit::local(writes, new_guests, minute),
    };
    Ok(Some(Arc::new(counter)))
}

async fn build_pipeline(config: &Config, secret_key: SecretKey) -> anyhow::Result<Pipeline> {
    let meta = Meta::connect(&config.database_url()).await.context("connecting to the database")?;
    meta.migrate().await.context("migrating the database")?;
    let (queue, orphans) = EmbeddedQueue::open(meta.clone()).await?;
    let pipeline = assemble(config, meta, queue, Events::default(), config.work_dir(), secret_key).await?;
    pipeline.announce_ended(&orphans);
    Ok(pipeline)
}

/// The pipeline of any role, on a database and queue already opened; `work_dir` is this
/// process's own scratch space.
pub(crate) async fn assemble(
    config: &Config,
    meta: Meta,
    queue: Arc<dyn Queue>,
    events: Events,
    work_dir: std::path::PathBuf,
    secret_key: SecretKey,
) -> anyhow::Result<Pipeline> {
    let blobs = scanpro_store::blobs::open(config.storage_url.as_deref(), &config.data_dir)
        .await
        .context("opening blob storage")?;
    // Scratch left by a previous process belongs to attempts that will run again.
    let _ = std::fs::remove_dir_all(&work_dir);
    std::fs::create_dir_all(&work_dir).with_context(|| format!("creating {}", work_dir.display()))?;
    let native = NativeSteps::Subprocess {
        exe: std::env::current_exe().context("locating the scanpro binary")?,
        timeout: Duration::from_secs(config.step_timeout_secs),
        limits: Limits { memory_bytes: Some(config.step_memory_mb * 1024 * 1024), ..Default::default() },
    };
    let steps = StepRunner { native, engines: crate::engines::routes(config).await? };
    let settings = Settings {
        retention: chrono::Duration::minutes(config.retention_minutes as i64),
        max_upload_bytes: config.max_upload_mb * 1024 * 1024,
        max_attempts: config.max_attempts,
        lease: chrono::Duration::seconds(config.lease_secs as i64),
        work_dir,
        webhook_allow_private_hosts: config.webhook_allow_private_hosts,
        secret_key,
        large_input_bytes: config.large_input_mb * 1024 * 1024,
        max_active_jobs: config.max_active_jobs,
        guest_storage_bytes: config.guest_storage_mb.saturating_mul(1024 * 1024),
        max_outputs_per_job: config.max_outputs_per_job,
        ..Settings::default()
    };
    Ok(Pipeline::new(meta, blobs, queue, events, steps, settings))
}

pub(crate) async fn sweep_forever(pipeline: Pipeline, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match pipeline.sweep().await {
            Ok(swept) if swept != Default::default() => tracing::info!(?swept, "sweep"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweep failed"),
        }
    }
}

pub(crate) async fn termination_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

pub(crate) fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
