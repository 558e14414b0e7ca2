//! The pieces every role is made of: `serve` is the API and the workers of every class in one
//! process on one pipeline; `api` and `worker` take one side each.

use crate::config::Config;
use anyhow::Context;
use scanpro_api::auth::CookieKey;
use scanpro_api::rate_limit::{Budgets, RateLimit};
use scanpro_api::{ApiSettings, AppState};
use scanpro_pipeline::{Events, NativeSteps, Pipeline, SecretKey, Settings, StepRunner};
use scanpro_process::Limits;
use scanpro_queue::Queue;
use scanpro_store::Meta;
use scanpro_worker::Shutdown;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Binds `address` (the value of `setting`) and says where on stdout, whatever the log format,
/// so scripts and tests can find a port-0 server: `scanpro: {who}listening on http://…`.
pub(crate) async fn listen(address: SocketAddr, setting: &str, who: &str) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(address).await.with_context(|| format!("binding {address} ({setting})"))?;
    // Whoever started the process may have stopped reading: a closed stdout is no error here.
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "scanpro: {who}listening on http://{}", listener.local_addr()?);
    Ok(listener)
}

/// The API's state: the pipeline, the API settings and the request budgets (counted through
/// Redis at `shared_through` when replicas share them). `guests_by_default`: the role's
/// `guest_access` when the setting is not given.
pub(crate) async fn api_state(
    config: &Config,
    pipeline: &Pipeline,
    cookie_key: CookieKey,
    shared_through: Option<&str>,
    guests_by_default: bool,
) -> anyhow::Result<AppState> {
    Ok(AppState {
        pipeline: pipeline.clone(),
        settings: Arc::new(api_settings(config, cookie_key, config.guest_access.unwrap_or(guests_by_default))?),
        rate_limit: rate_limit(config, shared_through).await?,
    })
}

/// Serves `router` (its `/metrics`) on `address` until the process ends; says where on stdout,
/// after the public listener's line.
pub(crate) async fn serve_metrics(address: SocketAddr, router: axum::Router) -> anyhow::Result<()> {
    let listener = listen(address, "metrics_listen", "metrics ").await?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// SIGTERM or SIGINT begins a graceful stop of `shutdown`, which turns hard after `drain`.
pub(crate) fn stop_on_signal(shutdown: &Shutdown, drain: Duration) {
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        termination_signal().await;
        tracing::info!(drain_secs = drain.as_secs(), "shutting down: no new work, draining running jobs");
        shutdown.begin(drain);
    });
}

/// Serves the API until a graceful stop has let its requests finish, or the stop turned hard
/// (open event streams could otherwise hold it forever).
pub(crate) async fn serve_api(listener: TcpListener, state: AppState, shutdown: &Shutdown) -> anyhow::Result<()> {
    let graceful = shutdown.stop_taking_work.clone();
    let server = tokio::spawn(scanpro_api::serve(listener, state, graceful.cancelled_owned()));
    tokio::select! {
        served = server => served??,
        _ = shutdown.stop_now.cancelled() => {}
    }
    Ok(())
}

/// `count` workers for each of `classes`, running until `shutdown` ends them.
pub(crate) fn spawn_workers(
    pipeline: &Pipeline,
    classes: &[String],
    count: usize,
    instance: &str,
    shutdown: &Shutdown,
) -> tokio::task::JoinSet<()> {
    let mut workers = tokio::task::JoinSet::new();
    for class in classes {
        let (pipeline, class, instance, shutdown) =
            (pipeline.clone(), class.clone(), instance.to_owned(), shutdown.clone());
        workers.spawn(async move { scanpro_worker::run_workers(pipeline, &class, count, instance, shutdown).await });
    }
    workers
}

/// The API's settings, shared by `serve` and `api`.
fn api_settings(config: &Config, cookie_key: CookieKey, guest_access: bool) -> anyhow::Result<ApiSettings> {
    Ok(ApiSettings {
        oneshot_wait: Duration::from_secs(config.oneshot_wait_secs),
        // Served over HTTPS by its own account: cookies go over HTTPS only.
        secure_cookies: config.secure_cookies
            || config.public_url.as_deref().is_some_and(|url| url.starts_with("https://")),
        cookie_key,
        guest_access,
        max_json_bytes: usize::try_from(config.max_json_kb.saturating_mul(1024)).unwrap_or(usize::MAX),
        trusted_proxies: scanpro_api::auth::parse_trusted_proxies(&config.trusted_proxies)
            .map_err(anyhow::Error::msg)?,
    })
}

/// The request budgets: counted through Redis at `shared_through` (API replicas), else in this
/// process; `None` when all are unlimited.
async fn rate_limit(config: &Config, shared_through: Option<&str>) -> anyhow::Result<Option<Arc<RateLimit>>> {
    let budgets = Budgets {
        writes_per_minute: config.rate_limit_per_minute,
        address_writes_per_minute: config.address_writes_per_minute,
        new_guests_per_minute: config.new_guests_per_minute,
        sign_in_failures: config.sign_in_failures,
        registrations_per_hour: config.registrations_per_hour,
    };
    if budgets
        == (Budgets {
            writes_per_minute: 0,
            address_writes_per_minute: 0,
            new_guests_per_minute: 0,
            sign_in_failures: 0,
            registrations_per_hour: 0,
        })
    {
        return Ok(None);
    }
    let counter = match shared_through {
        Some(url) => RateLimit::shared(url, &config.redis_key_prefix, budgets)
            .await
            .map_err(anyhow::Error::msg)
            .context("connecting to Redis for rate limits")?,
        None => RateLimit::local(budgets),
    };
    Ok(Some(Arc::new(counter)))
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
    accounts: scanpro_pipeline::accounts::AccountSettings,
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
        accounts,
        signing: signing_settings(config)?,
        ..Settings::default()
    };
    Ok(Pipeline::new(meta, blobs, queue, events, steps, settings))
}

/// The signature tools' settings; the trust store is read (and checked) once, at start.
pub(crate) fn signing_settings(config: &Config) -> anyhow::Result<scanpro_tools::SigningSettings> {
    let trust_store_pem = match &config.signature_trust_store {
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("reading signature_trust_store {}", path.display()))?;
            let count = scanpro_tools::signing::count_trusted_certificates(&pem)
                .map_err(|e| anyhow::anyhow!("signature_trust_store {}: {e}", path.display()))?;
            anyhow::ensure!(count > 0, "signature_trust_store {} holds no certificate", path.display());
            Some(pem)
        }
        None => None,
    };
    if let Some(url) = &config.signature_tsa_url {
        let parsed = reqwest::Url::parse(url).with_context(|| format!("signature_tsa_url {url}"))?;
        anyhow::ensure!(matches!(parsed.scheme(), "http" | "https"), "signature_tsa_url must be http or https: {url}");
    }
    Ok(scanpro_tools::SigningSettings { tsa_url: config.signature_tsa_url.clone(), tsa_address: None, trust_store_pem })
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

#[cfg(test)]
mod signing_tests {
    use super::*;

    #[test]
    fn signature_settings_are_checked_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let config = |url: Option<&str>, store: Option<std::path::PathBuf>| Config {
            signature_tsa_url: url.map(str::to_owned),
            signature_trust_store: store,
            ..Config::default()
        };
        assert!(signing_settings(&config(Some("ftp://tsa.example/"), None)).is_err(), "only http and https");
        assert!(signing_settings(&config(Some("not a url"), None)).is_err());
        let missing = signing_settings(&config(None, Some(dir.path().join("absent.pem")))).unwrap_err();
        assert!(format!("{missing:#}").contains("absent.pem"), "{missing:#}");
        let not_pem = dir.path().join("store.pem");
        std::fs::write(&not_pem, "no certificates here").unwrap();
        let unreadable = signing_settings(&config(None, Some(not_pem))).unwrap_err();
        assert!(format!("{unreadable:#}").contains("holds no certificate"), "{unreadable:#}");
        let empty_file = dir.path().join("empty.pem");
        std::fs::write(&empty_file, "").unwrap();
        let empty = signing_settings(&config(None, Some(empty_file))).unwrap_err();
        assert!(format!("{empty:#}").contains("empty.pem holds no certificate"), "{empty:#}");
        let broken = dir.path().join("broken.pem");
        std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        let broken = signing_settings(&config(None, Some(broken))).unwrap_err();
        assert!(format!("{broken:#}").contains("certificate 1"), "{broken:#}");
        let fine = signing_settings(&config(Some("http://127.0.0.1:3180/tsa"), None)).unwrap();
        assert_eq!(fine.tsa_url.as_deref(), Some("http://127.0.0.1:3180/tsa"));
        assert!(fine.for_tool("verify_signatures").unwrap().tsa_url.is_none(), "each tool gets what it needs only");
        assert!(fine.for_tool("merge").is_none());
    }
}
