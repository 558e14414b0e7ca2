//! The pool: K warm instances behind a semaphore, leased for one conversion at a time. An
//! instance that crashes, passes its deadline, dies while idle or is cancelled mid-conversion is
//! killed and replaced; one that reached its conversion count or RSS cap is recycled. A document
//! whose attempt broke an instance is retried once on a fresh instance, then converted cold.

use super::cold::{self, Cold, ColdFailure};
use super::detect::{DocumentKind, SourceFormat, detect};
use super::instance::{Answer, BridgeRequest, Broken, Instance, Launch, StartError};
use super::plan::{ConvertRequest, Plan};
use super::profile::{ProfileError, create_template};
use super::references::refuse_local_references;
use super::{OfficeConfig, OfficeError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const BRIDGE_SCRIPT: &str = include_str!("uno_bridge.py");

/// A pool of warm LibreOffice instances. Cheap to clone; every clone is the same pool.
#[derive(Clone)]
pub struct OfficePool {
    inner: Arc<Inner>,
}

/// What the pool is doing, for readiness checks and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PoolStatus {
    /// Configured instances (the most conversions at once).
    pub instances: usize,
    /// Instances running: idle plus busy.
    pub alive: usize,
    /// Live instances waiting for work.
    pub idle: usize,
    /// Conversions in progress (including an instance starting for one).
    pub busy: usize,
    /// Documents converted, warm or cold.
    pub conversions: u64,
    /// Instances replaced, for any reason (recycling included).
    pub restarts: u64,
    /// Instances replaced because they reached `recycle_after` or `max_rss_bytes`.
    pub recycled: u64,
    /// Documents handed to a cold `soffice --convert-to`.
    pub fallbacks: u64,
}

/// Which path converted a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// The first warm instance.
    Warm,
    /// A fresh instance, after the first one crashed or passed the deadline.
    Retried,
    /// A cold `soffice --convert-to` process.
    Cold,
}

/// A finished conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Converted {
    /// The application the document opened in.
    pub kind: DocumentKind,
    pub route: Route,
}

struct Inner {
    /// One entry per permit: an idle instance, or an empty slot to start one in.
    slots: Mutex<Vec<Option<Instance>>>,
    permits: Arc<Semaphore>,
    stopping: CancellationToken,
    busy: AtomicUsize,
    counters: Counters,
    config: OfficeConfig,
    launch: Launch,
    template: tokio::sync::OnceCell<()>,
    /// The pool's directory; removed at shutdown, or when the last handle goes.
    root: Mutex<Option<tempfile::TempDir>>,
}

#[derive(Default)]
struct Counters {
    conversions: AtomicU64,
    restarts: AtomicU64,
    recycled: AtomicU64,
    fallbacks: AtomicU64,
}

impl OfficePool {
    /// Creates the pool's directory and, with `start_at_boot`, every instance. Fails when
    /// LibreOffice or Python is missing.
    pub async fn start(config: OfficeConfig) -> Result<Self, OfficeError> {
        let soffice = config.soffice_bin().ok_or_else(|| {
            OfficeError::Unavailable(
                "soffice.bin not found (install libreoffice-writer-nogui and friends, or configure its path)".into(),
            )
        })?;
        if !config.python.is_file() {
            return Err(OfficeError::Unavailable(format!(
                "{} not found (it needs python3-uno)",
                config.python.display()
            )));
        }
        let instances = config.instances.max(1);
        let root = tempfile::Builder::new().prefix("scanpro-office-").tempdir_in(&config.work_dir)?;
        let bridge_script = root.path().join("uno_bridge.py");
        std::fs::write(&bridge_script, BRIDGE_SCRIPT)?;
        let launch = Launch {
            soffice,
            python: config.python.clone(),
            bridge_script,
            template: root.path().join("template"),
            root: root.path().to_owned(),
            startup_timeout: config.startup_timeout,
        };
        let pool = Self {
            inner: Arc::new(Inner {
                slots: Mutex::new((0..instances).map(|_| None).collect()),
                permits: Arc::new(Semaphore::new(instances)),
                stopping: CancellationToken::new(),
                busy: AtomicUsize::new(0),
                counters: Counters::default(),
                config: OfficeConfig { instances, ..config },
                launch,
                template: tokio::sync::OnceCell::new(),
                root: Mutex::new(Some(root)),
            }),
        };
        if pool.inner.config.start_at_boot {
            pool.warm_up().await?;
        }
        Ok(pool)
    }

    /// Converts `input` as `request` asks and writes the result to `output`.
    pub async fn convert(
        &self,
        input: &Path,
        output: &Path,
        request: &ConvertRequest,
    ) -> Result<Converted, OfficeError> {
        if self.inner.stopping.is_cancelled() {
            return Err(OfficeError::ShutDown);
        }
        let source = {
            let input = input.to_owned();
            tokio::task::spawn_blocking(move || detect(&input))
                .await
                .map_err(|e| OfficeError::Failed(e.to_string()))??
        };
        {
            let input = input.to_owned();
            tokio::task::spawn_blocking(move || refuse_local_references(&input, source))
                .await
                .map_err(|e| OfficeError::Failed(e.to_string()))??;
        }
        let plan = Plan::new(source, request)?;
        let job = Job::new(&self.inner.launch.root, input, &plan).await?;
        let result = self.run(&job, &plan).await;
        self.keep_warm();
        let (kind, route, written) = result?;
        deliver(&written, output).await?;
        self.inner.counters.conversions.fetch_add(1, Relaxed);
        Ok(Converted { kind, route })
    }

    pub fn status(&self) -> PoolStatus {
        let idle =
            self.inner.slots().iter_mut().flatten().map(|instance| instance.is_alive()).filter(|alive| *alive).count();
        let busy = self.inner.busy.load(Relaxed);
        let counters = &self.inner.counters;
        PoolStatus {
            instances: self.inner.config.instances,
            alive: idle + busy,
            idle,
            busy,
            conversions: counters.conversions.load(Relaxed),
            restarts: counters.restarts.load(Relaxed),
            recycled: counters.recycled.load(Relaxed),
            fallbacks: counters.fallbacks.load(Relaxed),
        }
    }

    /// Stops taking work, kills every instance (conversions in progress end with `busy`) and
    /// removes the pool's directory with every profile in it.
    pub async fn shutdown(&self) {
        self.inner.stopping.cancel();
        self.inner.permits.close();
        let idle: Vec<Instance> = self.inner.slots().iter_mut().filter_map(Option::take).collect();
        for instance in idle {
            instance.stop().await;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.inner.busy.load(Relaxed) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(self.inner.root.lock().unwrap_or_else(|p| p.into_inner()).take());
    }

    /// Up to two warm attempts, then the cold fallback.
    async fn run(&self, job: &Job, plan: &Plan) -> Result<(DocumentKind, Route, PathBuf), OfficeError> {
        let mut broken = Vec::new();
        let mut refusal = None;
        let mut seen_kind = None;
        for route in [Route::Warm, Route::Retried] {
            match self.warm(job, plan).await? {
                WarmAttempt::Answered(Answer::Converted(kind)) => return Ok((kind, route, job.output.clone())),
                WarmAttempt::Answered(Answer::BadSelection(error)) => return Err(error),
                WarmAttempt::Answered(Answer::Refused { error, kind, message }) => {
                    seen_kind = kind;
                    match (error.as_str(), kind) {
                        ("encrypted", _) => return Err(OfficeError::EncryptedInput),
                        ("wrong_password", _) => return Err(OfficeError::WrongPassword),
                        // LibreOffice decrypts the same way warm or cold (Office's default
                        // password): a package it could not open needs a password.
                        ("unreadable", _) if plan.source == SourceFormat::EncryptedOoxml => {
                            return Err(OfficeError::EncryptedInput);
                        }
                        ("wrong_kind", Some(kind)) => return Err(plan.misfit(kind)),
                        // unreadable, needs_cold, export_failed: a cold process may still manage.
                        _ => refusal = Some((error, message)),
                    }
                    break;
                }
                WarmAttempt::Lost(failure) => {
                    tracing::warn!(%failure, "a LibreOffice instance was lost on a conversion; replacing it");
                    broken.push(failure);
                }
            }
        }
        self.inner.counters.fallbacks.fetch_add(1, Relaxed);
        let cold = Cold {
            soffice: &self.inner.launch.soffice,
            template: &self.inner.launch.template,
            dir: job.dir.path(),
            input: &job.input,
            timeout: self.inner.config.conversion_timeout,
        };
        self.inner.ensure_template().await.map_err(|e| OfficeError::Unavailable(e.to_string()))?;
        let cold_result = self
            .inner
            .stopping
            .run_until_cancelled(cold::convert(&cold, plan, seen_kind))
            .await
            .ok_or(OfficeError::ShutDown)?;
        match cold_result {
            Ok((kind, path)) => Ok((kind, Route::Cold, path)),
            Err(ColdFailure::Refused(error)) => Err(error),
            Err(ColdFailure::Timeout) => Err(OfficeError::Timeout { after: self.inner.config.conversion_timeout }),
            Err(ColdFailure::NoOutput(words)) => Err(self.final_error(refusal, &broken, words)),
        }
    }

    /// Why a document failed warm and cold.
    fn final_error(&self, refusal: Option<(String, String)>, broken: &[Broken], cold_words: String) -> OfficeError {
        match refusal {
            Some((error, message)) if error == "unreadable" => {
                OfficeError::UnsupportedFormat(format!("{message}, warm or in a fresh process"))
            }
            _ if broken.iter().any(|b| matches!(b, Broken::Deadline)) => {
                OfficeError::Timeout { after: self.inner.config.conversion_timeout }
            }
            refusal => {
                let warm: Vec<String> =
                    broken.iter().map(ToString::to_string).chain(refusal.map(|(_, message)| message)).collect();
                OfficeError::Failed(format!("warm: {}; cold: {cold_words}", warm.join("; ")))
            }
        }
    }

    /// One attempt on a warm instance. `Err` only for shutdown.
    async fn warm(&self, job: &Job, plan: &Plan) -> Result<WarmAttempt, OfficeError> {
        let mut lease = self.inner.lease(false).await?;
        let request = BridgeRequest {
            input: &job.input,
            output: &job.output,
            import: plan.import,
            exports: &plan.exports,
            count_pages: plan.pages.is_some(),
            password: plan.options().password.as_deref(),
            update_indexes: plan.options().update_indexes,
        };
        let attempt = async {
            match lease.convert(&request, plan.pages.as_ref(), self.inner.config.conversion_timeout).await {
                Ok(answer) => {
                    lease.recycle_if_worn().await;
                    WarmAttempt::Answered(answer)
                }
                Err(broken) => WarmAttempt::Lost(broken),
            }
        };
        self.inner.stopping.run_until_cancelled(attempt).await.ok_or(OfficeError::ShutDown)
    }

    async fn warm_up(&self) -> Result<(), OfficeError> {
        let mut starts = tokio::task::JoinSet::new();
        for _ in 0..self.inner.config.instances {
            let inner = self.inner.clone();
            starts.spawn(async move {
                let mut lease = inner.lease(true).await.map_err(|e| OfficeError::Unavailable(e.to_string()))?;
                lease.ready().await.map_err(|broken| OfficeError::Unavailable(broken.to_string()))
            });
        }
        while let Some(started) = starts.join_next().await {
            started.map_err(|e| OfficeError::Failed(e.to_string()))??;
        }
        Ok(())
    }

    /// With `start_at_boot`, starts a replacement for an empty slot in the background.
    fn keep_warm(&self) {
        if !self.inner.config.start_at_boot
            || self.inner.stopping.is_cancelled()
            || !self.inner.slots().iter().any(Option::is_none)
        {
            return;
        }
        let Ok(permit) = self.inner.permits.clone().try_acquire_owned() else { return };
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let mut lease = inner.lease_with(permit, true);
            let _ = inner.stopping.run_until_cancelled(lease.ready()).await;
        });
    }
}

impl Inner {
    fn slots(&self) -> MutexGuard<'_, Vec<Option<Instance>>> {
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn lease(self: &Arc<Self>, prefer_empty: bool) -> Result<Lease, OfficeError> {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| OfficeError::ShutDown)?;
        Ok(self.lease_with(permit, prefer_empty))
    }

    /// Takes a slot for `permit`: an idle instance, or (with `prefer_empty`) an empty slot.
    fn lease_with(self: &Arc<Self>, permit: OwnedSemaphorePermit, prefer_empty: bool) -> Lease {
        let mut slots = self.slots();
        let at = slots.iter().position(|slot| slot.is_some() != prefer_empty).unwrap_or(slots.len() - 1);
        let instance = slots.swap_remove(at);
        self.busy.fetch_add(1, Relaxed);
        Lease { inner: self.clone(), instance, in_flight: false, _permit: permit }
    }

    async fn ensure_template(&self) -> Result<(), ProfileError> {
        let template = &self.launch.template;
        let timeout = self.config.startup_timeout;
        self.template.get_or_try_init(|| create_template(&self.launch.soffice, template, timeout)).await.map(|_| ())
    }
}

/// How an attempt on a warm instance ended.
enum WarmAttempt {
    /// The bridge answered, and the instance lives on.
    Answered(Answer),
    /// The instance was lost on the document (and is replaced).
    Lost(Broken),
}

/// A slot held for one conversion. Dropped, it puts the instance back; an instance with a request
/// in flight (a crash, a deadline, a cancelled conversion) or a pool that is stopping gets killed
/// instead, leaving the slot empty.
struct Lease {
    inner: Arc<Inner>,
    instance: Option<Instance>,
    in_flight: bool,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// Makes sure the slot holds a live instance, replacing a dead one.
    async fn ready(&mut self) -> Result<(), Broken> {
        if let Some(instance) = &mut self.instance
            && !instance.is_alive()
        {
            tracing::warn!("an idle LibreOffice instance died; replacing it");
            self.instance = None;
            self.inner.counters.restarts.fetch_add(1, Relaxed);
        }
        if self.instance.is_none() {
            self.inner.ensure_template().await.map_err(StartError::from)?;
            self.instance = Some(Instance::start(&self.inner.launch).await?);
        }
        Ok(())
    }

    async fn convert(
        &mut self,
        request: &BridgeRequest<'_>,
        pages: Option<&scanpro_core::pages::PageSelection>,
        timeout: Duration,
    ) -> Result<Answer, Broken> {
        self.ready().await?;
        let instance = self.instance.as_mut().expect("ready");
        self.in_flight = true;
        let answer = instance.convert(request, pages, Instant::now() + timeout).await?;
        self.in_flight = false;
        instance.conversions += 1;
        Ok(answer)
    }

    /// Replaces the instance once it has converted `recycle_after` documents or grown past
    /// `max_rss_bytes`.
    async fn recycle_if_worn(&mut self) {
        let config = &self.inner.config;
        let worn = self
            .instance
            .as_ref()
            .is_some_and(|i| i.conversions >= config.recycle_after || i.rss_bytes() > config.max_rss_bytes);
        if let Some(instance) = self.instance.take_if(|_| worn) {
            instance.stop().await;
            self.inner.counters.recycled.fetch_add(1, Relaxed);
            self.inner.counters.restarts.fetch_add(1, Relaxed);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut instance = self.instance.take();
        if instance.is_some() && (self.in_flight || self.inner.stopping.is_cancelled()) {
            if self.in_flight {
                self.inner.counters.restarts.fetch_add(1, Relaxed);
            }
            // Dropping an instance kills its process groups.
            instance = None;
        }
        self.inner.slots().push(instance);
        self.inner.busy.fetch_sub(1, Relaxed);
    }
}

/// A conversion's private directory: the copy of the input LibreOffice opens (lock files and
/// all stay in here) and its outputs. Removed when dropped.
struct Job {
    dir: tempfile::TempDir,
    input: PathBuf,
    output: PathBuf,
}

impl Job {
    async fn new(root: &Path, original: &Path, plan: &Plan) -> Result<Self, OfficeError> {
        let dir = tempfile::Builder::new().prefix("job-").tempdir_in(root)?;
        let input = dir.path().join(format!("input.{}", plan.source.extension()));
        tokio::fs::copy(original, &input).await?;
        let output = dir.path().join(format!("output.{}", plan.target.extension()));
        Ok(Self { dir, input, output })
    }
}

/// Moves LibreOffice's output to `to`, refusing an empty one.
async fn deliver(written: &Path, to: &Path) -> Result<(), OfficeError> {
    let size = tokio::fs::metadata(written).await.map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return Err(OfficeError::Failed("LibreOffice reported success but wrote nothing".into()));
    }
    if tokio::fs::rename(written, to).await.is_err() {
        tokio::fs::copy(written, to).await?;
    }
    Ok(())
}

#[cfg(test)]
/// Tests that need LibreOffice.
mod with_engines {
    use super::*;
    use crate::office::plan::TargetFormat;
    use scanpro_testkit::checkers::{pdftotext, stdout};
    use std::ffi::OsStr;

    /// A 1×1 PNG.
    const PIXEL: [u8; 69] = *b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDAT\x08\xd7c\xf8\xcf\xc0\0\0\x03\x01\x01\0\x18\xdd\x8d\xb0\0\0\0\0IEND\xaeB`\x82";

    /// An ODT whose paragraph style has `image` as a linked background: LibreOffice loads it
    /// whatever the document's link-update mode.
    fn odt_with_background(image: &Path) -> Vec<u8> {
        use std::io::Write;
        let content = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.2"><office:automatic-styles><style:style style:name="P1" style:family="paragraph"><style:paragraph-properties><style:background-image xlink:href="{}" xlink:type="simple" xlink:actuate="onLoad"/></style:paragraph-properties></style:style></office:automatic-styles><office:body><office:text><text:p text:style-name="P1">Background from elsewhere</text:p></office:text></office:body></office:document-content>"#,
            image.display()
        );
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file("mimetype", stored).unwrap();
        zip.write_all(b"application/vnd.oasis.opendocument.text").unwrap();
        zip.start_file("META-INF/manifest.xml", zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#).unwrap();
        zip.start_file("content.xml", zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
        zip.finish().unwrap().into_inner()
    }

    fn images_in(pdf: &Path) -> usize {
        let list = stdout("pdfimages", [OsStr::new("-list"), pdf.as_os_str()]);
        list.lines().skip(2).filter(|line| !line.trim().is_empty()).count()
    }

    /// With the scan for local references skipped, LibreOffice still cannot read a file outside
    /// its instance: the sandbox, not the scan, keeps other jobs' files out.
    #[tokio::test]
    async fn linked_files_outside_the_instance_stay_out_of_the_output() {
        let elsewhere = tempfile::tempdir().unwrap();
        let secret = elsewhere.path().join("another-job.png");
        std::fs::write(&secret, PIXEL).unwrap();
        let input = elsewhere.path().join("linked.odt");
        std::fs::write(&input, odt_with_background(&secret)).unwrap();
        assert!(refuse_local_references(&input, SourceFormat::Odt).is_err(), "the scan sees this link");

        let work = tempfile::tempdir().unwrap();
        let config = OfficeConfig { instances: 1, work_dir: work.path().to_owned(), ..OfficeConfig::default() };
        let pool = OfficePool::start(config).await.unwrap();
        let plan = Plan::new(SourceFormat::Odt, &ConvertRequest::new(TargetFormat::Pdf)).unwrap();
        let job = Job::new(&pool.inner.launch.root, &input, &plan).await.unwrap();
        let (_, route, written) = pool.run(&job, &plan).await.unwrap();
        assert_eq!(route, Route::Warm);
        assert!(pdftotext(&written).contains("Background from elsewhere"));
        assert_eq!(images_in(&written), 0, "LibreOffice read a file outside its instance");
        pool.shutdown().await;
    }
}
