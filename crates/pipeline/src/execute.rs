//! Execute: run a claimed job to the end.
//!
//! Inputs are fetched into a private work dir named after the job *and the attempt*, each step
//! writes into its own dir, and the last step's outputs are stored and committed in one
//! transaction that succeeds only while this worker still holds the lease. A worker that lost its
//! lease (it was presumed dead and the job re-queued) therefore never commits a second set of
//! outputs. Meanwhile a heartbeat renews the lease and picks up cancellation; stopping the steps
//! drops the running step, which kills its process group.

use crate::Pipeline;
use crate::steps::StepRequest;
use chrono::Utc;
use scanpro_core::job::{JobSpec, Progress, StepState, StepStatus};
use scanpro_core::metrics::{JOBS_ENDED, STEP_SECONDS};
use scanpro_core::{ErrorCode, FileId, ToolError};
use scanpro_process::progress::{PageProgress, ProgressFn};
use scanpro_store::{FileRecord, JobRecord, StoreError};
use scanpro_tools::{Input, Output};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a job attempt ended, from this worker's point of view.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded,
    Failed(ToolError),
    Cancelled,
    /// A transient failure: the job is queued again after a backoff.
    Retrying(ToolError),
    /// The lease was lost (the job was handed to someone else) or the result could not be committed.
    Abandoned,
}

impl Pipeline {
    /// Runs a job this worker has claimed, until it succeeds, fails, is cancelled or is taken back.
    pub async fn execute(&self, job: &JobRecord, worker: &str) -> Result<Outcome, StoreError> {
        let mut work = WorkDir::create(&self.settings.work_dir, job)?;
        // The lease is renewed until the result is committed, storing outputs included.
        let mut lease = LeaseKeeper::start(self.clone(), job.id, worker.to_owned());
        let mut steps = job.steps.clone();
        let result = tokio::select! {
            result = self.run_steps(job, worker, work.path(), &mut steps) => Some(result),
            interrupt = lease.interrupted() => match interrupt {
                Interrupt::Lost => None,
                Interrupt::Cancelled => Some(Err(ToolError::new(ErrorCode::Cancelled, "cancelled while running"))),
            },
        };
        let outcome = match result {
            None => Outcome::Abandoned,
            Some(Ok(outputs)) => self.commit_outputs(job, worker, &steps, outputs).await?,
            Some(Err(error)) => {
                // The links to the inputs go before the job is seen to end: a client that deletes
                // an upload once its job failed or was cancelled frees the bytes.
                work.remove().await;
                self.record_failure(job, worker, &mut steps, error).await?
            }
        };
        drop(lease);
        self.events.publish(job.id);
        if matches!(outcome, Outcome::Succeeded | Outcome::Failed(_) | Outcome::Cancelled) {
            let status = match outcome {
                Outcome::Succeeded => "succeeded",
                Outcome::Failed(_) => "failed",
                _ => "cancelled",
            };
            let tool = job.spec.steps.first().map(|s| s.tool.clone()).unwrap_or_default();
            metrics::counter!(JOBS_ENDED, "tool" => tool, "status" => status).increment(1);
            self.on_job_ended(job.id);
        }
        Ok(outcome)
    }

    async fn run_steps(
        &self,
        job: &JobRecord,
        worker: &str,
        work: &Path,
        steps: &mut [StepState],
    ) -> Result<Vec<Output>, ToolError> {
        let with_secrets = self.spec_with_secrets(job)?;
        let mut files = self.fetch_inputs(job, work).await?;
        let mut outputs = Vec::new();
        let total = steps.len();
        for (index, spec) in with_secrets.steps.iter().enumerate() {
            steps[index].status = StepStatus::Running;
            #[expect(clippy::cast_possible_truncation, reason = "index < total, so below 100")]
            let progress = Progress { percent: (index * 100 / total) as u8, ..Default::default() };
            self.report_progress(job, worker, steps, progress).await;
            let out_dir = work.join(format!("step-{index}"));
            tokio::fs::create_dir_all(&out_dir).await.map_err(internal)?;
            let input_names: Vec<String> = files.iter().map(|file| file.filename.clone()).collect();
            let request = StepRequest {
                tool: spec.tool.clone(),
                params: spec.params.clone(),
                inputs: files,
                out_dir,
                large_input_bytes: Some(self.settings.large_input_bytes),
                job: Some(job.id.to_string()),
                signing: match self.settings.signing.for_tool(&spec.tool) {
                    Some(signing) => Some(signing.resolved().await),
                    None => None,
                },
            };
            let (pages_sender, mut pages) = tokio::sync::watch::channel(None::<PageProgress>);
            let progress: ProgressFn = Arc::new(move |done| {
                pages_sender.send_replace(Some(done));
            });
            let running = self.steps.run(request, progress);
            tokio::pin!(running);
            let started = std::time::Instant::now();
            let result = loop {
                tokio::select! {
                    result = &mut running => {
                        let outcome = if result.is_ok() { "succeeded" } else { "failed" };
                        metrics::histogram!(STEP_SECONDS, "tool" => spec.tool.clone(), "outcome" => outcome)
                            .record(started.elapsed().as_secs_f64());
                        break result?;
                    }
                    Ok(()) = pages.changed() => {
                        let Some(done) = *pages.borrow_and_update() else { continue };
                        let progress = step_progress(index, total, done);
                        self.report_progress(job, worker, steps, progress).await;
                    }
                }
            };
            if result.outputs.is_empty() {
                return Err(ToolError::internal(format!("{} produced no output", spec.tool)));
            }
            let max = self.settings.max_outputs_per_job;
            if result.outputs.len() > max {
                return Err(too_many_outputs(&spec.tool, result.outputs.len(), max));
            }
            steps[index].status = StepStatus::Succeeded;
            steps[index].report = result.report;
            files = next_inputs(&input_names, &result.outputs);
            outputs = result.outputs;
        }
        Ok(outputs)
    }

    /// The job's spec with its sealed secrets put back, for the steps only: it is never stored.
    fn spec_with_secrets(&self, job: &JobRecord) -> Result<JobSpec, ToolError> {
        let Some(sealed) = &job.secrets else { return Ok(job.spec.clone()) };
        self.settings.secret_key.open_job_secrets(&job.spec, sealed, job.owner.as_str()).map_err(|_| {
            ToolError::new(
                ErrorCode::Conflict,
                "the passwords of this job can no longer be read: the server's secret_key changed since it was \
                 submitted (a `scanpro serve` without a configured secret_key makes a new one at each start); \
                 submit the job again",
            )
        })
    }

    async fn fetch_inputs(&self, job: &JobRecord, work: &Path) -> Result<Vec<Input>, ToolError> {
        let dir = work.join("inputs");
        tokio::fs::create_dir_all(&dir).await.map_err(internal)?;
        let mut files = Vec::with_capacity(job.spec.inputs.len());
        for (index, id) in job.spec.inputs.iter().enumerate() {
            let record = self.meta.file(&job.owner, *id).await.map_err(|e| match e.code() {
                ErrorCode::NotFound => {
                    ToolError::new(ErrorCode::NotFound, format!("input file {id} was deleted before the job ran"))
                }
                _ => ToolError::new(ErrorCode::Unavailable, format!("could not read input {id}: {e}")),
            })?;
            let path = dir.join(index.to_string());
            self.blobs
                .fetch_to(&record.blob_key, &path)
                .await
                .map_err(|e| ToolError::new(ErrorCode::Unavailable, e.to_string()))?;
            files.push(Input { path, filename: record.filename });
        }
        Ok(files)
    }

    async fn report_progress(&self, job: &JobRecord, worker: &str, steps: &[StepState], progress: Progress) {
        if let Err(e) = self.meta.save_progress(job.id, worker, steps, progress).await {
            tracing::warn!(job = %job.id, error = %e, "could not save progress");
        }
        self.events.publish(job.id);
    }

    /// Stores the outputs and commits them with the job's success, once. Outputs stored by an
    /// attempt that cannot commit are deleted again.
    async fn commit_outputs(
        &self,
        job: &JobRecord,
        worker: &str,
        steps: &[StepState],
        outputs: Vec<Output>,
    ) -> Result<Outcome, StoreError> {
        let now = Utc::now();
        let mut records = Vec::with_capacity(outputs.len());
        let mut committed = false;
        let stored = async {
            for output in outputs {
                let id = FileId::new();
                let blob_key = format!("files/{id}");
                let stored = self.blobs.put_file(&blob_key, &output.path).await?;
                records.push(FileRecord {
                    id,
                    owner: job.owner.clone(),
                    filename: output.filename,
                    size: stored.size,
                    content_type: output.content_type,
                    sha256: stored.sha256,
                    blob_key,
                    job_id: Some(job.id),
                    created_at: now,
                    expires_at: now + self.settings.retention,
                });
            }
            committed = self.meta.finish_succeeded(job.id, worker, steps, &records).await?;
            Ok::<_, StoreError>(())
        }
        .await;
        if !committed {
            for record in &records {
                let _ = self.blobs.delete(&record.blob_key).await;
            }
        }
        stored?;
        Ok(if committed { Outcome::Succeeded } else { Outcome::Abandoned })
    }

    async fn record_failure(
        &self,
        job: &JobRecord,
        worker: &str,
        steps: &mut [StepState],
        error: ToolError,
    ) -> Result<Outcome, StoreError> {
        for step in steps.iter_mut() {
            step.status = match step.status {
                StepStatus::Running => StepStatus::Failed,
                StepStatus::Pending => StepStatus::Skipped,
                done => done,
            };
        }
        if error.code.is_retryable() && job.attempts < job.max_attempts {
            let backoff = chrono::Duration::seconds(1 << job.attempts.min(8));
            let held = self.meta.retry_later(job.id, worker, &error, backoff).await?;
            return Ok(if held { Outcome::Retrying(error) } else { Outcome::Abandoned });
        }
        if !self.meta.finish_failed(job.id, worker, steps, &error).await? {
            return Ok(Outcome::Abandoned);
        }
        Ok(if error.code == ErrorCode::Cancelled { Outcome::Cancelled } else { Outcome::Failed(error) })
    }
}

/// Progress of a job in step `index` of `steps`, that step being `done.done` pages into
/// `done.total`.
fn step_progress(index: usize, steps: usize, done: PageProgress) -> Progress {
    let within = u64::from(done.done.min(done.total)) * 100 / u64::from(done.total.max(1));
    let percent = (index as u64 * 100 + within) / steps as u64;
    Progress { percent: percent.min(100) as u8, pages_done: Some(done.done), pages_total: Some(done.total) }
}

/// A job's outputs are bounded: each becomes a stored file and an entry of the job view.
fn too_many_outputs(tool: &str, count: usize, max: usize) -> ToolError {
    ToolError::new(
        ErrorCode::ResourceLimit,
        format!(
            "{tool} would make {count} files; each step of a job may make at most {max} (max_outputs_per_job): ask for fewer parts"
        ),
    )
}

fn internal(e: std::io::Error) -> ToolError {
    ToolError::internal(format!("work directory: {e}"))
}

/// Why the lease keeper interrupts a running job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interrupt {
    /// The job was taken back (presumed dead, re-queued): stop without recording anything.
    Lost,
    Cancelled,
}

/// Renews a job's lease in the background until dropped, and reports cancellation or loss.
/// A cancel arrives as a notice (made in this process, or relayed from an API process) and is
/// acted on at once; without notices the next heartbeat (a third of the lease) sees it.
struct LeaseKeeper {
    interrupt: tokio::sync::watch::Receiver<Option<Interrupt>>,
    task: tokio::task::JoinHandle<()>,
}

impl LeaseKeeper {
    fn start(pipeline: Pipeline, job: scanpro_core::JobId, worker: String) -> Self {
        let (sender, interrupt) = tokio::sync::watch::channel(None);
        let task = tokio::spawn(async move {
            let mut notices = pipeline.events.subscribe();
            let mut tick = tokio::time::interval(pipeline.heartbeat_interval());
            tick.tick().await;
            loop {
                // The tick renews the lease; a notice (this job's own progress reports too) only
                // needs the row read, which leaves the database's one writer to others.
                let renew = tokio::select! {
                    _ = tick.tick() => true,
                    Ok(changed) = notices.recv() => if changed != job { continue } else { false },
                };
                let beat = if renew {
                    pipeline.meta.heartbeat(job, &worker, pipeline.settings.lease).await
                } else {
                    pipeline.meta.lease_state(job, &worker).await
                };
                match beat {
                    Ok(beat) if !beat.still_held => {
                        let _ = sender.send(Some(Interrupt::Lost));
                        return;
                    }
                    Ok(beat) if beat.cancel_requested => {
                        let _ = sender.send(Some(Interrupt::Cancelled));
                    }
                    Ok(_) if !renew => {}
                    Ok(_) => {
                        // The queue's delivery must not look abandoned either (Redis: idle time).
                        if let Err(e) = pipeline.queue.touch(job).await {
                            tracing::warn!(%job, error = %e, "could not renew the queue delivery");
                        }
                    }
                    // A database blip: keep working; the lease has room for a missed beat.
                    Err(e) => tracing::warn!(%job, error = %e, "heartbeat failed"),
                }
            }
        });
        Self { interrupt, task }
    }

    async fn interrupted(&mut self) -> Interrupt {
        let seen = self.interrupt.wait_for(Option::is_some).await.map(|value| *value);
        match seen {
            Ok(Some(interrupt)) => interrupt,
            _ => std::future::pending().await,
        }
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A job attempt's scratch directory (`{job id}-{attempt}`), removed when the attempt ends
/// however it ends; its inputs are hard links to the stored blobs where the storage allows.
struct WorkDir(Option<PathBuf>);

impl WorkDir {
    fn create(root: &Path, job: &JobRecord) -> Result<Self, StoreError> {
        let path = root.join(format!("{}-{}", job.id, job.attempts));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(Self(Some(path)))
    }

    fn path(&self) -> &Path {
        self.0.as_deref().expect("the work dir is removed only at the end")
    }

    /// Removes the dir now (the sweep takes what is left if that fails).
    async fn remove(&mut self) {
        if let Some(path) = self.0.take()
            && let Err(e) = remove_work_dir(path.clone()).await
        {
            tracing::warn!(dir = %path.display(), error = %e, "could not remove a work dir; the sweep will");
        }
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// Removes a work dir. A step process killed a moment ago may still be adding a file to it
/// (`remove_dir_all` then fails with "directory not empty"), so a failure is tried again for a
/// while.
pub(crate) async fn remove_work_dir(path: PathBuf) -> std::io::Result<()> {
    const TRIES: u32 = 20;
    tokio::task::spawn_blocking(move || {
        for tried in 1.. {
            match std::fs::remove_dir_all(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound && tried < TRIES => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => return Ok(()),
            }
        }
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}

/// The next step's inputs. A step that made each output from one input, named after it
/// (`scan_ocr.pdf` from `scan.pdf`), passes the input's name on with the output's extension, so
/// a chain's suffixes do not pile up: `scan.pdf` through OCR and compression comes out as
/// `scan_compressed.pdf`, not `scan_ocr_compressed.pdf`. Other outputs (a comparison of two
/// files, extracted attachments, parts of a split) keep their own names.
fn next_inputs(input_names: &[String], outputs: &[Output]) -> Vec<Input> {
    let stem = |name: &str| Path::new(name).file_stem().unwrap_or_default().to_string_lossy().into_owned();
    let named_after = |input: &String, output: &Output| {
        let (input, output) = (stem(input), stem(&output.filename));
        output == input || output.starts_with(&format!("{input}_"))
    };
    let keeps_names = input_names.len() == outputs.len()
        && input_names.iter().zip(outputs).all(|(input, output)| named_after(input, output));
    outputs
        .iter()
        .enumerate()
        .map(|(index, output)| {
            let mut next = Input::from(output.clone());
            if keeps_names {
                let input = stem(&input_names[index]);
                next.filename = match Path::new(&output.filename).extension() {
                    Some(extension) => format!("{input}.{}", extension.to_string_lossy()),
                    None => input,
                };
            }
            next
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(filename: &str) -> Output {
        Output {
            path: PathBuf::from("/out").join(filename),
            filename: filename.into(),
            content_type: "application/pdf".into(),
        }
    }

    #[test]
    fn chained_steps_keep_the_input_names() {
        let next = next_inputs(&["scan.pdf".into()], &[output("scan_ocr.pdf")]);
        assert_eq!(next[0].filename, "scan.pdf");
        assert_eq!(next[0].path, PathBuf::from("/out/scan_ocr.pdf"));
        let converted = next_inputs(&["report.docx".into()], &[output("report.pdf")]);
        assert_eq!(converted[0].filename, "report.pdf");
        // A comparison of two files, and extracted attachments, are not named after one input.
        let compared =
            next_inputs(&["old.pdf".into(), "new.pdf".into()], &[output("old_vs_new.pdf"), output("old_vs_new.json")]);
        assert_eq!(compared[0].filename, "old_vs_new.pdf");
        let extracted = next_inputs(&["report.pdf".into()], &[output("invoice.xml")]);
        assert_eq!(extracted[0].filename, "invoice.xml");
        // A split's parts keep their own names.
        let parts = next_inputs(&["book.pdf".into()], &[output("book_1-2.pdf"), output("book_3-4.pdf")]);
        assert_eq!(parts.iter().map(|p| p.filename.as_str()).collect::<Vec<_>>(), ["book_1-2.pdf", "book_3-4.pdf"]);
    }
}
