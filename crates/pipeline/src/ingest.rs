//! Ingest: uploads into storage, and job requests into the queue.

use crate::Pipeline;
use crate::accounts::{Caller, Limits};
use crate::error::{Error, Result};
use chrono::Utc;
use scanpro_core::job::JobSpec;
use scanpro_core::{ErrorCode, FileId, OwnerId};
use scanpro_queue::LIGHT_CLASS;
use scanpro_store::blobs::ByteStream;
use scanpro_store::{FileRecord, JobRecord, NewJob, StoreError};

impl Pipeline {
    /// Streams an upload into the blob store and records it. Over the size limit or the owner's
    /// storage quota nothing is kept.
    pub async fn upload(&self, caller: &Caller, filename: &str, body: ByteStream<'_>) -> Result<FileRecord> {
        let owner = &caller.owner;
        let limits = self.limits(caller);
        let id = FileId::new();
        let blob_key = format!("files/{id}");
        let room = self.storage_room(owner, &limits).await?;
        let limit = room.map_or(limits.max_upload_bytes, |room| room.min(limits.max_upload_bytes));
        let stored = match self.blobs.put_stream(&blob_key, body, limit).await {
            Err(e) if e.code() == ErrorCode::FileTooLarge && limit < limits.max_upload_bytes => {
                return Err(storage_exceeded(limits.storage_bytes));
            }
            stored => stored?,
        };
        let now = Utc::now();
        let record = FileRecord {
            id,
            owner: owner.clone(),
            filename: safe_filename(filename),
            size: stored.size,
            content_type: scanpro_tools::detect_content_type(&stored.head).to_owned(),
            sha256: stored.sha256,
            blob_key,
            job_id: None,
            created_at: now,
            expires_at: now + self.settings.retention,
        };
        if let Err(e) = self.meta.insert_file(&record).await {
            let _ = self.blobs.delete(&record.blob_key).await;
            return Err(e.into());
        }
        metrics::counter!(scanpro_core::metrics::UPLOAD_BYTES).increment(record.size);
        Ok(record)
    }

    /// Validates a job request and queues it. Returns the job and whether it was created now
    /// (`false`: the same `Idempotency-Key` and body were seen before and the first job is returned).
    pub async fn submit(
        &self,
        caller: &Caller,
        mut spec: JobSpec,
        idempotency_key: Option<String>,
    ) -> Result<(JobRecord, bool)> {
        let owner = &caller.owner;
        let class = self.check_spec(caller, &spec).await?.map_or(LIGHT_CLASS, |engine| engine.as_str());
        let metering = self.metering_for(caller, spec.steps.len());
        let key = &self.settings.secret_key;
        let idempotency = idempotency_key.map(|idempotency_key| (idempotency_key, key.request_hash(&spec)));
        // From here on the passwords exist only sealed, until the job ends.
        let secrets = key.seal_job_secrets(&mut spec, owner.as_str());
        let created = self
            .meta
            .create_job(NewJob {
                owner: owner.clone(),
                spec,
                class: class.into(),
                max_attempts: self.settings.max_attempts,
                retention: self.settings.retention,
                idempotency,
                secrets,
                metering,
            })
            .await;
        let (job, created) = match created {
            Err(StoreError::QuotaExceeded { limit }) => return Err(operations_exceeded(limit)),
            created => created?,
        };
        if created {
            // The row is committed and queued: if the queue cannot be told now, its reconciler
            // dispatches the job later, so the request still succeeds.
            if let Err(e) = self.queue.dispatch(&job).await {
                tracing::warn!(job = %job.id, error = %e, "dispatch failed; the queue's reconciler will dispatch the job");
            }
            self.events.publish(job.id);
        }
        Ok((job, created))
    }

    /// Cancels a job: a queued one at once, a running one as soon as its worker hears.
    pub async fn cancel(&self, owner: &OwnerId, id: scanpro_core::JobId) -> Result<JobRecord> {
        let before = self.meta.job(owner, id).await?;
        let job = self.meta.request_cancel(owner, id).await?;
        self.events.publish(job.id);
        if !before.status.is_terminal() && job.status.is_terminal() {
            self.on_job_ended(job.id);
        }
        Ok(job)
    }

    /// Bytes `owner` may still store; `None`: no quota. Concurrent uploads may together pass
    /// the quota by up to one upload each: the check is a guard, not an accounting.
    async fn storage_room(&self, owner: &OwnerId, limits: &Limits) -> Result<Option<u64>> {
        let quota = limits.storage_bytes;
        if quota == 0 {
            return Ok(None);
        }
        let used = self.meta.stored_bytes(owner).await?;
        if used >= quota {
            return Err(storage_exceeded(quota));
        }
        Ok(Some(quota - used))
    }

    /// The caller's own limits: tools switched off, jobs queued or running at once, and stored
    /// bytes.
    async fn check_caller_limits(&self, caller: &Caller, spec: &JobSpec) -> Result<()> {
        let disabled = self.meta.disabled_tools().await?;
        if let Some(step) = spec.steps.iter().find(|step| disabled.contains(&step.tool)) {
            return Err(Error::rejected(
                ErrorCode::ToolDisabled,
                format!("the tool {:?} is switched off on this server", step.tool),
            ));
        }
        let owner = &caller.owner;
        let limits = self.limits(caller);
        let max = limits.max_active_jobs;
        if max > 0 && self.meta.active_jobs(owner).await? >= max {
            return Err(Error::rejected(
                ErrorCode::LimitExceeded,
                format!("{max} jobs are already queued or running for you; wait for one to end or cancel one"),
            ));
        }
        self.storage_room(owner, &limits).await?;
        Ok(())
    }

    /// Everything that can be checked before running: limits, input ownership, tools, parameters,
    /// conversions the inputs cannot make. Returns the engine whose workers should run the job.
    async fn check_spec(&self, caller: &Caller, spec: &JobSpec) -> Result<Option<scanpro_tools::Engine>> {
        let owner = &caller.owner;
        let invalid = |message: String| Error::rejected(ErrorCode::InvalidParams, message);
        // Only a first step that opens something else (`url_to_pdf`) runs without input files.
        let needs_inputs =
            spec.steps.first().is_none_or(|first| scanpro_tools::find(&first.tool).is_none_or(|t| t.inputs.min > 0));
        if spec.inputs.is_empty() && needs_inputs {
            return Err(invalid("inputs: give at least one file id".into()));
        }
        if spec.inputs.len() > self.settings.max_inputs {
            return Err(invalid(format!("inputs: at most {} files per job", self.settings.max_inputs)));
        }
        if spec.steps.is_empty() {
            return Err(invalid("steps: give at least one step, e.g. {\"tool\": \"merge\"}".into()));
        }
        if spec.steps.len() > self.settings.max_steps {
            return Err(invalid(format!("steps: at most {} steps per job", self.settings.max_steps)));
        }
        if let Some(url) = &spec.webhook_url {
            self.check_webhook(owner, url).await.map_err(|why| invalid(format!("webhook_url: {why}")))?;
        }
        let mut input_types = Vec::with_capacity(spec.inputs.len());
        for (index, id) in spec.inputs.iter().enumerate() {
            let file = self.meta.file(owner, *id).await.map_err(|e| match e.code() {
                ErrorCode::NotFound => {
                    Error::rejected(ErrorCode::NotFound, format!("inputs[{index}]: file {id} not found"))
                }
                _ => e.into(),
            })?;
            input_types.push(file.content_type);
        }
        let input_types: Vec<&str> = input_types.iter().map(String::as_str).collect();
        let mut engines = Vec::new();
        for (index, step) in spec.steps.iter().enumerate() {
            // Later steps take the previous step's outputs, known only at run time.
            let first = index == 0;
            let named = |mut e: scanpro_core::ToolError| {
                e.message = format!("steps[{index}] ({}): {}", step.tool, e.message);
                Error::Rejected(e)
            };
            scanpro_tools::validate(&step.tool, &step.params, first.then_some(spec.inputs.len())).map_err(named)?;
            let known_types = first.then_some(input_types.as_slice());
            engines.extend(scanpro_tools::step_engine(&step.tool, &step.params, known_types).map_err(named)?);
        }
        self.check_caller_limits(caller, spec).await?;
        Ok(scanpro_tools::job_engine(engines))
    }
}

fn storage_exceeded(quota: u64) -> Error {
    Error::rejected(
        ErrorCode::QuotaExceeded,
        format!(
            "storage quota: you may keep {} MB of files (uploads and outputs) at a time; delete some \
             (DELETE /api/v1/files/{{id}}) or wait for them to expire",
            quota / (1024 * 1024)
        ),
    )
}

fn operations_exceeded(limit: u64) -> Error {
    let resets = crate::accounts::metering::period_end(Utc::now());
    Error::rejected(
        ErrorCode::QuotaExceeded,
        format!(
            "operations quota: your plan allows {limit} operations a month (one per tool step) and this job \
             does not fit in what is left; the count resets at {}",
            resets.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
    )
}

/// The last path component, without control, format (bidirectional overrides and isolates,
/// zero-width characters) or line-separator characters, at most 200 characters: a name shows
/// what it is (`invoice\u{202E}fdp.exe` would read as `invoiceexe.pdf`).
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control() && !is_invisible_format(*c)).take(200).collect();
    let clean = clean.trim().trim_start_matches('.');
    if clean.is_empty() { "file".into() } else { clean.to_owned() }
}

/// Unicode's format characters (general category Cf) and line/paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}' | '\u{0890}'..='\u{0891}'
        | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn filenames_are_made_safe() {
        assert_eq!(super::safe_filename("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(super::safe_filename("\u{2066}a\u{200B}b\u{FEFF}\u{2029}.pdf\u{061C}"), "ab.pdf");
        assert_eq!(super::safe_filename("Ελληνικά 日本語 שלום.pdf"), "Ελληνικά 日本語 שלום.pdf");
        assert_eq!(super::safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(super::safe_filename("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(super::safe_filename("a\nb.pdf"), "ab.pdf");
        assert_eq!(super::safe_filename(""), "file");
        assert_eq!(super::safe_filename(".."), "file");
    }
}
