//! One headless Chromium under the subprocess runner: its own profile directory, DevTools on a
//! loopback port (the only port its sandbox lets it bind or reach), and no name resolution at all,
//! since every request a page makes is answered through the DevTools `Fetch` domain.

use super::ChromiumError;
use super::cdp::Cdp;
use super::page::{BlankPage, open};
use crate::{free_port, last_lines};
use scanpro_process::sandbox::Grants;
use scanpro_process::{ProcessError, RunningProcess, Subprocess};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

/// What starting a browser needs.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub program: PathBuf,
    /// Where browser profiles are created.
    pub root: PathBuf,
    pub startup_timeout: Duration,
}

/// Why a browser did not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    #[error("{0}")]
    Dir(#[source] std::io::Error),
    #[error("no free port: {0}")]
    NoPort(#[source] std::io::Error),
    #[error("{0}")]
    Spawn(#[from] ProcessError),
    #[error("chromium exited while starting: {0}")]
    Exited(String),
    #[error("chromium did not open DevTools within {0:?}: {1}")]
    NoDevTools(Duration, String),
}

/// Blank pages a browser keeps open ahead. Opening one waits for a new renderer process; more
/// than one measured no faster on two cores, where opening competes with rendering for the CPU.
const SPARES: usize = 1;

pub(crate) struct Browser {
    process: RunningProcess,
    pub cdp: Cdp,
    /// Pages this browser rendered, counted for recycling.
    pub conversions: u32,
    /// The blank pages the next renderings take, opening in the background, oldest first.
    spares: VecDeque<tokio::task::JoinHandle<Result<BlankPage, ChromiumError>>>,
    /// The profile; removed after the process is killed (fields drop in order).
    _dir: tempfile::TempDir,
}

/// Switches for a headless browser that renders documents: nothing runs in the background, no
/// GPU, no extensions, one renderer process for all frames (so every frame's requests pass through
/// the page's interception), and no host name resolves.
const SWITCHES: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-site-isolation-trials",
    // A page opened ahead is in the background until it renders: never throttle it.
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-ipc-flooding-protection",
    "--disable-hang-monitor",
    "--disable-features=site-per-process,IsolateOrigins,Translate,MediaRouter,OptimizationHints,HttpsUpgrades,PrivateNetworkAccessChecks",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
    "--mute-audio",
    "--hide-scrollbars",
    "--password-store=basic",
    "--use-mock-keychain",
    "--font-render-hinting=none",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-address=127.0.0.1",
];

impl Browser {
    pub async fn start(launch: &Launch) -> Result<Self, StartError> {
        let dir = tempfile::Builder::new().prefix("browser-").tempdir_in(&launch.root).map_err(StartError::Dir)?;
        let port = free_port().map_err(StartError::NoPort)?;
        let mut process = Subprocess::new(&launch.program)
            .args(SWITCHES)
            .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
            .arg(format!("--remote-debugging-port={port}"))
            .arg("about:blank")
            .confine_to(Grants::new().write(dir.path()).tcp_port(port))
            .spawn()?;
        let deadline = Instant::now() + launch.startup_timeout;
        let url = loop {
            if let Ok(Some(_)) = process.try_wait() {
                return Err(StartError::Exited(last_lines(&process.stderr_tail())));
            }
            if let Some(url) = devtools_url(port).await {
                break url;
            }
            if Instant::now() > deadline {
                process.kill();
                return Err(StartError::NoDevTools(launch.startup_timeout, last_lines(&process.stderr_tail())));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let cdp = Cdp::connect(&url).await.map_err(|why| StartError::NoDevTools(launch.startup_timeout, why))?;
        let mut browser = Self { process, cdp, conversions: 0, spares: VecDeque::new(), _dir: dir };
        browser.open_spares();
        Ok(browser)
    }

    /// A blank page for the next rendering: the oldest spare opened ahead, else a new one.
    pub async fn blank_page(&mut self) -> Result<BlankPage, ChromiumError> {
        while let Some(spare) = self.spares.pop_front() {
            if let Ok(Ok(page)) = spare.await {
                return Ok(page);
            }
        }
        open(self.cdp.clone()).await
    }

    /// Whether the next rendering's page is open (or failed to open) already.
    pub fn spare_is_open(&self) -> bool {
        self.spares.front().is_some_and(tokio::task::JoinHandle::is_finished)
    }

    /// Starts opening blank pages until [`SPARES`] are open or opening.
    pub fn open_spares(&mut self) {
        while self.spares.len() < SPARES {
            self.spares.push_back(tokio::spawn(open(self.cdp.clone())));
        }
    }

    /// The process runs and its connection is open.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.process.try_wait(), Ok(None)) && self.cdp.is_open()
    }

    /// Resident memory of the browser and its renderers.
    pub fn rss_bytes(&self) -> u64 {
        self.process.group_rss_bytes()
    }

    /// The browser's process id (tests kill it to see the pool recover).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The last lines the browser wrote to stderr.
    pub fn said(&self) -> String {
        last_lines(&self.process.stderr_tail())
    }

    /// Kills the browser with its renderers and waits for it (briefly).
    pub async fn stop(mut self) {
        self.process.kill();
        for spare in self.spares.drain(..) {
            spare.abort();
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.process.wait()).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        for spare in self.spares.drain(..) {
            spare.abort();
        }
    }
}

/// The browser's WebSocket address, once DevTools answers on `port`.
async fn devtools_url(port: u16) -> Option<String> {
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(2)).build().ok()?;
    let version: serde_json::Value =
        client.get(format!("http://127.0.0.1:{port}/json/version")).send().await.ok()?.json().await.ok()?;
    version.get("webSocketDebuggerUrl")?.as_str().map(str::to_owned)
}

/// The Chromium program: the configured one, else the first of Debian's and the usual names
/// found on `PATH`.
pub(crate) fn find_program(configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = configured {
        return path.is_file().then(|| path.to_owned());
    }
    // The headless shell (Debian's `chromium-headless-shell`) is Chromium's renderer without the
    // desktop browser around it: a browser context costs it a fraction of the full browser's
    // work (whose contexts are whole incognito profiles), about a quarter of the CPU per page.
    // Debian's `/usr/bin/chromium` is a shell script around the full browser's binary.
    for debian in ["/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/chromium"] {
        if Path::new(debian).is_file() {
            return Some(debian.into());
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium-headless-shell", "chromium", "chromium-browser", "google-chrome", "chrome"]
        .iter()
        .find_map(|name| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file()))
}
