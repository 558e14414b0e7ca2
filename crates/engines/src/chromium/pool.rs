//! Warm browsers behind a semaphore, each leased for one rendering at a time, all started in the
//! background after the first rendering. A browser that crashes, passes the deadline or is
//! cancelled mid-rendering is killed and its slot left empty (the next rendering starts a fresh
//! one); one that reached `recycle_after` renderings or `max_rss_bytes` is replaced the same way.

use super::browser::{Browser, Launch, find_program};
use super::page::{Source, render};
use super::remote::RemoteFetcher;
use super::{Capture, ChromiumConfig, ChromiumError, PageOptions};
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The warm browsers of a process. Cheap to clone; every clone is the same pool.
#[derive(Clone)]
pub struct ChromiumPool {
    inner: Arc<Inner>,
}

/// What the pool is doing, for readiness checks and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChromiumStatus {
    pub instances: usize,
    pub alive: usize,
    pub idle: usize,
    pub busy: usize,
    pub renderings: u64,
    /// Browsers replaced for any reason, recycling included.
    pub restarts: u64,
    /// Browsers replaced because they reached `recycle_after` or `max_rss_bytes`.
    pub recycled: u64,
}

struct Inner {
    slots: Mutex<Vec<Option<Browser>>>,
    permits: Arc<Semaphore>,
    busy: AtomicUsize,
    renderings: AtomicU64,
    restarts: AtomicU64,
    recycled: AtomicU64,
    config: ChromiumConfig,
    launch: Launch,
    remote: Option<RemoteFetcher>,
    version: String,
    /// The browsers' profiles; removed with the pool.
    _root: tempfile::TempDir,
}

impl ChromiumPool {
    /// Finds Chromium and asks its version; browsers start with the first rendering. Fails when
    /// Chromium is missing.
    pub async fn start(config: ChromiumConfig) -> Result<Self, ChromiumError> {
        let program = find_program(config.program.as_deref()).ok_or_else(|| {
            ChromiumError::Unavailable("chromium not found (install Debian's chromium, or set chromium_path)".into())
        })?;
        let version = scanpro_process::Subprocess::new(&program)
            .arg("--version")
            .timeout(std::time::Duration::from_secs(20))
            .run()
            .await
            .map_err(|e| ChromiumError::Unavailable(format!("{} --version: {e}", program.display())))?;
        let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
        let instances = config.instances.max(1);
        let root = tempfile::Builder::new()
            .prefix("scanpro-chromium-")
            .tempdir_in(&config.work_dir)
            .map_err(|e| ChromiumError::Unavailable(format!("{}: {e}", config.work_dir.display())))?;
        let launch = Launch { program, root: root.path().to_owned(), startup_timeout: config.startup_timeout };
        let remote = config
            .allow_remote
            .then_some(RemoteFetcher { allow_private: config.allow_private_hosts, timeout: config.timeout });
        Ok(Self {
            inner: Arc::new(Inner {
                slots: Mutex::new((0..instances).map(|_| None).collect()),
                permits: Arc::new(Semaphore::new(instances)),
                busy: AtomicUsize::new(0),
                renderings: AtomicU64::new(0),
                restarts: AtomicU64::new(0),
                recycled: AtomicU64::new(0),
                config: ChromiumConfig { instances, ..config },
                launch,
                remote,
                version,
                _root: root,
            }),
        })
    }

    /// The browser's version line (`Chromium 156.0…`).
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    /// The fetcher of remote resources, when the configuration allows them.
    pub fn remote(&self) -> Option<&RemoteFetcher> {
        self.inner.remote.as_ref()
    }

    /// Renders `source` into `output`. The rendering must end within the configured timeout (or
    /// `deadline`, when sooner); past it the browser is killed.
    pub async fn render(
        &self,
        source: &Source,
        page: &PageOptions,
        capture: &Capture,
        output: &Path,
        deadline: Option<std::time::Duration>,
    ) -> Result<(), ChromiumError> {
        if let Source::Url(url) = source {
            let remote = self.remote().ok_or_else(|| {
                ChromiumError::Refused("remote addresses are not opened here (chromium_allow_remote is off)".into())
            })?;
            remote.check(url).await.map_err(ChromiumError::Refused)?;
        }
        let timeout = deadline.map_or(self.inner.config.timeout, |d| d.min(self.inner.config.timeout));
        let permit = self.inner.permits.clone().acquire_owned().await.map_err(|_| ChromiumError::ShutDown)?;
        let mut lease = self.inner.lease(permit);
        let rendering = async {
            lease.in_flight = true;
            let browser = lease.ready().await?;
            let blank = browser.blank_page().await?;
            let rendered = render(&browser.cdp, blank, source, page, capture, self.inner.remote.as_ref(), output).await;
            browser.open_spares();
            rendered
        };
        let result = match tokio::time::timeout(timeout, rendering).await {
            Ok(result) => result,
            Err(_) => Err(ChromiumError::Timeout(timeout)),
        };
        match &result {
            // The browser lives on unless it crashed or hangs; a page's own failure is not its.
            Ok(())
            | Err(
                ChromiumError::Status(_)
                | ChromiumError::Page(_)
                | ChromiumError::Load(_)
                | ChromiumError::PageRange(_),
            ) => {
                lease.in_flight = false;
                lease.recycle_if_worn().await;
            }
            Err(error) => {
                let said = lease.browser.as_ref().map(Browser::said).unwrap_or_default();
                tracing::warn!(%error, said, "a Chromium browser was lost on a rendering; it is replaced");
            }
        }
        if result.is_ok() && self.inner.renderings.fetch_add(1, Relaxed) == 0 {
            self.warm_the_rest();
        }
        result
    }

    /// After the first rendering, starts a browser in every empty slot that is free, in the
    /// background: a process that renders once is likely to render again, and each browser then
    /// has its pages open ahead when the renderings come.
    fn warm_the_rest(&self) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            while let Ok(permit) = inner.permits.clone().try_acquire_owned() {
                let mut lease = inner.lease_where(permit, |slots| slots.iter().position(Option::is_none));
                if lease.browser.is_some() {
                    break;
                }
                if lease.ready().await.is_err() {
                    break;
                }
            }
        });
    }

    pub fn status(&self) -> ChromiumStatus {
        let idle =
            self.inner.slots().iter_mut().flatten().map(|browser| browser.is_alive()).filter(|alive| *alive).count();
        let busy = self.inner.busy.load(Relaxed);
        ChromiumStatus {
            instances: self.inner.config.instances,
            alive: idle + busy,
            idle,
            busy,
            renderings: self.inner.renderings.load(Relaxed),
            restarts: self.inner.restarts.load(Relaxed),
            recycled: self.inner.recycled.load(Relaxed),
        }
    }

    /// Process ids of the idle browsers (a test kills one to see the pool recover).
    pub fn browser_pids(&self) -> Vec<u32> {
        self.inner.slots().iter().flatten().map(Browser::pid).collect()
    }

    /// Stops taking work and kills every idle browser; busy ones are killed as their renderings
    /// end.
    pub async fn shutdown(&self) {
        self.inner.permits.close();
        let idle: Vec<Browser> = self.inner.slots().iter_mut().filter_map(Option::take).collect();
        for browser in idle {
            browser.stop().await;
        }
    }
}

impl Inner {
    fn slots(&self) -> MutexGuard<'_, Vec<Option<Browser>>> {
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a slot for `permit`: a browser whose next page is already open first, then any warm
    /// browser, then an empty slot.
    fn lease(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Lease {
        self.lease_where(permit, |slots| {
            slots
                .iter()
                .position(|slot| slot.as_ref().is_some_and(Browser::spare_is_open))
                .or_else(|| slots.iter().position(Option::is_some))
        })
    }

    /// Takes a slot for `permit`: the one `choose` picks, else the last.
    fn lease_where(
        self: &Arc<Self>,
        permit: OwnedSemaphorePermit,
        choose: impl FnOnce(&[Option<Browser>]) -> Option<usize>,
    ) -> Lease {
        let mut slots = self.slots();
        let at = choose(&slots).unwrap_or(slots.len() - 1);
        let browser = slots.swap_remove(at);
        self.busy.fetch_add(1, Relaxed);
        Lease { inner: self.clone(), browser, in_flight: false, _permit: permit }
    }
}

/// A slot held for one rendering. Dropped, it puts the browser back, unless a rendering was in
/// flight (a crash, a deadline, a cancelled job) or the pool stopped: then the browser is killed.
struct Lease {
    inner: Arc<Inner>,
    browser: Option<Browser>,
    in_flight: bool,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// A live browser in the slot, starting one when it is empty or its browser died.
    async fn ready(&mut self) -> Result<&mut Browser, ChromiumError> {
        if let Some(browser) = &mut self.browser
            && !browser.is_alive()
        {
            tracing::warn!("an idle Chromium browser died; replacing it");
            self.browser = None;
            self.inner.restarts.fetch_add(1, Relaxed);
        }
        if self.browser.is_none() {
            let started = Browser::start(&self.inner.launch).await;
            self.browser = Some(started.map_err(|e| ChromiumError::Unavailable(e.to_string()))?);
        }
        Ok(self.browser.as_mut().expect("started"))
    }

    async fn recycle_if_worn(&mut self) {
        let config = &self.inner.config;
        if let Some(browser) = &mut self.browser {
            browser.conversions += 1;
        }
        let worn = self
            .browser
            .as_ref()
            .is_some_and(|b| b.conversions >= config.recycle_after || b.rss_bytes() > config.max_rss_bytes);
        if let Some(browser) = self.browser.take_if(|_| worn) {
            browser.stop().await;
            self.inner.recycled.fetch_add(1, Relaxed);
            self.inner.restarts.fetch_add(1, Relaxed);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut browser = self.browser.take();
        if browser.is_some() && (self.in_flight || self.inner.permits.is_closed()) {
            if self.in_flight {
                self.inner.restarts.fetch_add(1, Relaxed);
            }
            // Dropping a browser kills its process group.
            browser = None;
        }
        self.inner.slots().push(browser);
        self.inner.busy.fetch_sub(1, Relaxed);
    }
}
