//! The engines of a process: its own, or the engine services configured in their place; and
//! `scanpro engine NAME`, which serves one engine to workers elsewhere.

use crate::config::Config;
use anyhow::Context;
use scanpro_engine_service::{EngineClient, EngineService, ServiceSettings};
use scanpro_pipeline::EngineRoutes;
use scanpro_tools::{Engine, LocalEngines};
use std::collections::BTreeMap;
use std::time::Duration;

/// Where this process's engine steps go: a configured service, else its own engines.
pub async fn routes(config: &Config) -> anyhow::Result<EngineRoutes> {
    let mut remote = BTreeMap::new();
    for (engine, url) in config.engine_urls() {
        if let Some(url) = url {
            let client =
                EngineClient::new(url, config.engine_token.as_deref()).with_context(|| format!("{engine}_url"))?;
            remote.insert(engine, client);
        }
    }
    let work_dir = config.work_dir();
    std::fs::create_dir_all(&work_dir).with_context(|| format!("creating {}", work_dir.display()))?;
    let local = LocalEngines::start(config.engine_settings()).await;
    Ok(EngineRoutes { local, remote, ceiling: Duration::from_secs(config.engine_step_ceiling_secs) })
}

/// `scanpro engine NAME`: serves one engine over HTTP until SIGTERM or SIGINT.
pub fn serve(config: Config, engine: Engine) -> anyhow::Result<()> {
    crate::parts::init_logging(&config);
    if config.engine_token.is_none() && !config.listen.ip().is_loopback() {
        anyhow::bail!(
            "an engine service on {} would run anyone's documents: set engine_token (SCANPRO_ENGINE_TOKEN) here and on the workers, or listen on loopback",
            config.listen
        );
    }
    tokio::runtime::Runtime::new()?.block_on(async {
        let work_dir = config.work_dir().join(format!("engine-{engine}"));
        std::fs::create_dir_all(&work_dir).with_context(|| format!("creating {}", work_dir.display()))?;
        let engines = LocalEngines::start(config.engine_settings()).await;
        let settings = ServiceSettings {
            concurrency: if config.engine_concurrency == 0 { config.worker_count() } else { config.engine_concurrency },
            queue: config.engine_queue,
            max_upload_bytes: config.max_upload_mb * 1024 * 1024,
            work_dir,
            token: config.engine_token.clone(),
        };
        let service = EngineService::new(engine, engines.clone(), settings);
        let listener =
            tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        println!("scanpro: {engine} engine listening on http://{}", listener.local_addr()?);
        if let Some(address) = config.metrics_listen {
            crate::parts::serve_metrics(address, scanpro_engine_service::metrics_router(service.clone())).await?;
        }
        axum::serve(listener, scanpro_engine_service::router(service))
            .with_graceful_shutdown(crate::parts::termination_signal())
            .await?;
        engines.shutdown().await;
        Ok(())
    })
}
