//! One warm LibreOffice instance: `soffice.bin` listening for UNO on a loopback port, with its own
//! profile, and the Python bridge (`uno_bridge.py`) that holds one UNO connection to it and
//! converts one document per request line.
//!
//! The bridge lives as long as the instance: starting Python and importing `uno` costs about
//! 0.09 s, as much as converting a small document inside a warm instance.
//!
//! An instance outlives the documents it converts, so it is confined to a directory of its own:
//! its profile and an exchange folder. Each document is linked into the exchange folder for its
//! conversion and its output moved out after, so whatever a document links to, LibreOffice can
//! open only that document (and the system), never the data directory or another job's files.

use super::OfficeError;
use super::detect::DocumentKind;
use super::plan::{Export, Import, page_range};
use super::profile::{ProfileError, copy_template, soffice_args, soffice_grants, sweep_stale_pipes};
use crate::{free_port, last_lines};
use scanpro_core::pages::PageSelection;
use scanpro_process::sandbox::Grants;
use scanpro_process::{ProcessError, RunningProcess, Subprocess};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::time::Instant;

/// What starting an instance needs.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub soffice: PathBuf,
    pub python: PathBuf,
    pub bridge_script: PathBuf,
    pub template: PathBuf,
    /// Where instance profiles are created.
    pub root: PathBuf,
    pub startup_timeout: Duration,
}

/// One request to the bridge (see `uno_bridge.py`).
#[derive(Debug, Serialize)]
pub(crate) struct BridgeRequest<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub import: Option<Import>,
    pub exports: &'a BTreeMap<DocumentKind, Export>,
    pub count_pages: bool,
    pub password: Option<&'a str>,
    pub update_indexes: bool,
}

/// How the bridge answered a request that the instance survived.
#[derive(Debug)]
pub(crate) enum Answer {
    Converted(DocumentKind),
    /// A document problem: `error` is one of the bridge's codes (`encrypted`, `unreadable`, …).
    Refused {
        error: String,
        kind: Option<DocumentKind>,
        message: String,
    },
    /// The page selection does not fit the document; the export was called off.
    BadSelection(OfficeError),
}

/// Why an instance is no longer usable.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Broken {
    /// The instance (or its replacement) did not start.
    #[error("crashed: {0}")]
    NotStarted(#[from] StartError),
    #[error("crashed: {0}")]
    Crashed(String),
    #[error("passed its deadline")]
    Deadline,
}

/// Why an instance did not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    /// The template profile every instance copies could not be made.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The instance's directory could not be made.
    #[error("{0}")]
    Dir(#[source] std::io::Error),
    #[error("cannot copy the profile: {0}")]
    CopyProfile(#[source] std::io::Error),
    #[error("no free port: {0}")]
    NoPort(#[source] std::io::Error),
    #[error("{0}")]
    Spawn(#[from] ProcessError),
    /// soffice ended before the bridge connected; its last lines of stderr.
    #[error("soffice exited while starting ({status:?}): {said}")]
    SofficeExited { status: std::io::Result<std::process::ExitStatus>, said: String },
    #[error("LibreOffice did not accept a connection within {0:?}")]
    NoConnection(Duration),
    /// The bridge did not say it is ready; the last lines of its stderr and of soffice's.
    #[error("the UNO bridge did not connect: {bridge} {soffice}")]
    BridgeNotConnected { bridge: String, soffice: String },
}

pub(crate) struct Instance {
    soffice: RunningProcess,
    bridge: RunningProcess,
    requests: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
    /// Conversions this instance answered, counted for recycling.
    pub conversions: u32,
    /// The profile and the exchange folder; removed after both processes are killed (fields
    /// drop in order).
    dir: tempfile::TempDir,
}

impl Instance {
    pub async fn start(launch: &Launch) -> Result<Self, StartError> {
        let dir = tempfile::Builder::new().prefix("instance-").tempdir_in(&launch.root).map_err(StartError::Dir)?;
        let profile = dir.path().join("profile");
        copy_template(&launch.template, &profile).map_err(StartError::CopyProfile)?;
        std::fs::create_dir(dir.path().join(EXCHANGE)).map_err(StartError::Dir)?;
        let port = free_port().map_err(StartError::NoPort)?;
        let mut soffice = Subprocess::new(&launch.soffice)
            .args(soffice_args(&profile))
            .arg(format!("--accept=socket,host=127.0.0.1,port={port};urp;"))
            .confine_to(soffice_grants(dir.path()).tcp_port(port))
            .spawn()?;
        let mut bridge = Subprocess::new(&launch.python)
            .arg(&launch.bridge_script)
            .arg(port.to_string())
            .arg(launch.startup_timeout.as_secs_f64().to_string())
            .confine_to(Grants::new().write(dir.path()).read(&launch.bridge_script).tcp_port(port))
            .spawn_piped()?;
        let (requests, stdout) = bridge.take_stdio().expect("a piped child has its stdio");
        let mut answers = BufReader::new(stdout).lines();
        let first = tokio::select! {
            line = answers.next_line() => line,
            status = soffice.wait() => {
                return Err(StartError::SofficeExited { status, said: last_lines(&soffice.stderr_tail()) });
            }
            _ = tokio::time::sleep(launch.startup_timeout + Duration::from_secs(5)) => {
                return Err(StartError::NoConnection(launch.startup_timeout));
            }
        };
        match first {
            Ok(Some(line)) if line.contains("\"ready\"") => {
                Ok(Self { soffice, bridge, requests, answers, conversions: 0, dir })
            }
            _ => Err(StartError::BridgeNotConnected {
                bridge: last_lines(&bridge.stderr_tail()),
                soffice: last_lines(&soffice.stderr_tail()),
            }),
        }
    }

    /// Both processes still run.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.soffice.try_wait(), Ok(None)) && matches!(self.bridge.try_wait(), Ok(None))
    }

    /// Resident memory of LibreOffice's process group and the bridge.
    pub fn rss_bytes(&self) -> u64 {
        self.soffice.group_rss_bytes() + self.bridge.group_rss_bytes()
    }

    /// Converts one document, answering the bridge's page count with the resolved `pages`. The
    /// whole exchange must end by `deadline`; the instance is unusable after an `Err`.
    pub async fn convert(
        &mut self,
        request: &BridgeRequest<'_>,
        pages: Option<&PageSelection>,
        deadline: Instant,
    ) -> Result<Answer, Broken> {
        let exchange = self.dir.path().join(EXCHANGE);
        let staged_input = exchange.join(request.input.file_name().unwrap_or_default());
        let staged_output = exchange.join(request.output.file_name().unwrap_or_default());
        link_or_copy(request.input, &staged_input)
            .map_err(|e| Broken::Crashed(format!("cannot hand the document to LibreOffice: {e}")))?;
        let staged = BridgeRequest { input: &staged_input, output: &staged_output, ..*request };
        let answer = match tokio::time::timeout_at(deadline, self.exchange(&staged, pages)).await {
            Ok(result) => result,
            Err(_) => Err(Broken::Deadline),
        };
        if matches!(answer, Ok(Answer::Converted(_))) && staged_output.exists() {
            move_file(&staged_output, request.output)
                .map_err(|e| Broken::Crashed(format!("cannot take LibreOffice's output: {e}")))?;
        }
        clear_dir(&exchange);
        answer
    }

    async fn exchange(&mut self, request: &BridgeRequest<'_>, pages: Option<&PageSelection>) -> Result<Answer, Broken> {
        let mut line = serde_json::to_string(request).expect("requests serialise");
        line.push('\n');
        self.send(&line).await?;
        let mut bad_selection = None;
        loop {
            let message = self.receive().await?;
            if let Some(count) = message.get("pages").and_then(serde_json::Value::as_u64) {
                let count =
                    u32::try_from(count).map_err(|_| Broken::Crashed(format!("the bridge counted {count} pages")))?;
                let reply = match pages.map(|selection| page_range(selection, count)).transpose() {
                    Ok(range) => serde_json::json!({ "page_range": range.flatten() }),
                    Err(error) => {
                        bad_selection = Some(error);
                        serde_json::json!({ "skip": true })
                    }
                };
                self.send(&format!("{reply}\n")).await?;
                continue;
            }
            return self.answer(&message, bad_selection);
        }
    }

    fn answer(&self, message: &serde_json::Value, bad_selection: Option<OfficeError>) -> Result<Answer, Broken> {
        let text = |key: &str| message.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        let kind = message.get("kind").and_then(serde_json::Value::as_str).and_then(DocumentKind::from_bridge);
        if message.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
            return kind
                .map(Answer::Converted)
                .ok_or_else(|| Broken::Crashed(format!("the bridge answered {message}")));
        }
        match (text("error").as_str(), bad_selection) {
            ("disconnected", _) => {
                Err(Broken::Crashed(format!("{}: {}", text("message"), last_lines(&self.soffice.stderr_tail()))))
            }
            ("skipped", Some(error)) => Ok(Answer::BadSelection(error)),
            (error, _) => Ok(Answer::Refused { error: error.to_owned(), kind, message: text("message") }),
        }
    }

    async fn send(&mut self, line: &str) -> Result<(), Broken> {
        let written = async {
            self.requests.write_all(line.as_bytes()).await?;
            self.requests.flush().await
        };
        written.await.map_err(|e| {
            Broken::Crashed(format!("the bridge stopped reading: {e}; {}", last_lines(&self.bridge.stderr_tail())))
        })
    }

    async fn receive(&mut self) -> Result<serde_json::Value, Broken> {
        match self.answers.next_line().await {
            Ok(Some(line)) => {
                serde_json::from_str(&line).map_err(|_| Broken::Crashed(format!("the bridge said {line:?}")))
            }
            _ => Err(Broken::Crashed(format!(
                "the bridge exited: {} {}",
                last_lines(&self.bridge.stderr_tail()),
                last_lines(&self.soffice.stderr_tail())
            ))),
        }
    }

    /// Kills both processes, waits for them (briefly) and removes the profile.
    pub async fn stop(mut self) {
        self.soffice.kill();
        self.bridge.kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            let _ = self.soffice.wait().await;
            let _ = self.bridge.wait().await;
        })
        .await;
        sweep_stale_pipes();
    }
}

/// The folder of an instance's directory that holds the one document it converts.
const EXCHANGE: &str = "exchange";

/// A hard link where the file system allows one (same volume), else a copy.
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ()))
}

fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::rename(from, to).or_else(|_| std::fs::copy(from, to).and_then(|_| std::fs::remove_file(from)))
}

/// Empties the exchange folder after a conversion (lock files and partial outputs included).
fn clear_dir(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
    }
}
