//! Ingest: uploads into storage, and job requests into the queue.

use crate::Pipeline;
use crate::error::{Error, Result};
use chrono::Utc;
use scanpro_core::job::JobSpec;
use scanpro_core::{ErrorCode, FileId, OwnerId};
use scanpro_queue::LIGHT_CLASS;
use scanpro_store::blobs::ByteStream;
use scanpro_store::{FileRecord, JobRecord, NewJob};

impl Pipeline {
    /// Streams an upload into the blob store and records it. Over the size limit nothing is kept.
    pub async fn upload(&self, owner: &OwnerId, filename: &str, body: ByteStream<'_>) -> Result<FileRecord> {
        let id = FileId::new();
        let blob_key = format!("files/{id}");
        let stored = self.blobs.put_stream(&blob_key, body, self.settings.max_upload_bytes).await?;
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
        Ok(record)
    }

    /// Validates a job request and queues it. Returns the job and whether it was created now
    /// (`false`: the same `Idempotency-Key` and body were seen before and the first job is returned).
    pub async fn submit(
        &self,
        owner: &OwnerId,
        mut spec: JobSpec,
        idempotency_key: Option<String>,
    ) -> Result<(JobRecord, bool)> {
        self.check_spec(owner, &spec).await?;
        let class = scanpro_tools::job_engine(spec.steps.iter().map(|step| step.tool.as_str()))
            .map_or(LIGHT_CLASS, |engine| engine.as_str());
        let key = &self.settings.secret_key;
        let idempotency = idempotency_key.map(|idempotency_key| (idempotency_key, key.request_hash(&spec)));
        // From here on the passwords exist only sealed, until the job ends.
        let secrets = key.seal_job_secrets(&mut spec, owner.as_str());
        let (job, created) = self
            .meta
            .create_job(NewJob {
                owner: owner.clone(),
                spec,
                class: class.into(),
                max_attempts: self.settings.max_attempts,
                retention: self.settings.retention,
                idempotency,
                secrets,
            })
            .await?;
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

    /// Everything that can be checked before running: limits, input ownership, tools, parameters.
    async fn check_spec(&self, owner: &OwnerId, spec: &JobSpec) -> Result<()> {
        let invalid = |message: String| Error::rejected(ErrorCode::InvalidParams, message);
        if spec.inputs.is_empty() {
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
        for (index, id) in spec.inputs.iter().enumerate() {
            self.meta.file(owner, *id).await.map_err(|e| match e.code() {
                ErrorCode::NotFound => {
                    Error::rejected(ErrorCode::NotFound, format!("inputs[{index}]: file {id} not found"))
                }
                _ => e.into(),
            })?;
        }
        for (index, step) in spec.steps.iter().enumerate() {
            // Later steps take the previous step's outputs, whose number is known only at run time.
            let input_count = if index == 0 { Some(spec.inputs.len()) } else { None };
            scanpro_tools::validate(&step.tool, &step.params, input_count).map_err(|mut e| {
                e.message = format!("steps[{index}] ({}): {}", step.tool, e.message);
                Error::Rejected(e)
            })?;
        }
        Ok(())
    }
}

/// The last path component, without control characters, at most 200 characters.
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim().trim_start_matches('.');
    if clean.is_empty() { "file".into() } else { clean.to_owned() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn filenames_are_made_safe() {
        assert_eq!(super::safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(super::safe_filename("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(super::safe_filename("a\nb.pdf"), "ab.pdf");
        assert_eq!(super::safe_filename(""), "file");
        assert_eq!(super::safe_filename(".."), "file");
    }
}
