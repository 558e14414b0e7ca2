//! What happens when a job ends: its secrets are erased, and its webhook is sent.
//!
//! Webhooks: when a job ends, its `webhook_url` receives a POST with a JSON summary
//! (`event`, and the job's `id`, `status`, `error`, `outputs`, `tag`), signed with the owner's
//! secret ([`webhook`](crate::webhook)). Delivery is retried a few times with backoff and never
//! holds up the worker. A target found internal is refused when the job is created, and again
//! at each attempt (its name may resolve elsewhere by then).

use crate::Pipeline;
use crate::error::Result;
use crate::secrets::{REDACTED, had_secrets};
use crate::webhook::{self, Delivery, DeliveryError, SystemResolver, Target, WebhookTargetError};
use scanpro_core::{JobId, OwnerId};
use scanpro_store::{JobRecord, StoreError};
use serde_json::json;
use std::time::Duration;

const ATTEMPTS: u32 = 4;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a job's webhook is refused when the job is created, or was not delivered when it ended.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebhookError {
    #[error(transparent)]
    Target(#[from] WebhookTargetError),
    #[error(transparent)]
    SigningKey(#[from] SigningKeyError),
    /// The job or its outputs could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The target was refused at delivery: retrying cannot help.
    #[error("{url} refused: {why}")]
    Refused { url: String, why: String },
    /// Every attempt failed; the last one's reason.
    #[error(transparent)]
    Undelivered(DeliveryError),
}

/// Why there is no key to sign an owner's deliveries with; the message says how to get one.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SigningKeyError {
    #[error("deliveries are signed: create your signing secret first with POST /api/v1/webhook-secret")]
    Missing,
    #[error(
        "your signing secret was made under another secret_key of this server; create a new one with \
         POST /api/v1/webhook-secret"
    )]
    OtherSecretKey,
    #[error("your signing secret is unreadable; create a new one")]
    Unreadable,
    #[error("could not read your signing secret: {0}")]
    Store(#[from] StoreError),
}

impl Pipeline {
    /// In the background: erases the ended job's secrets and sends its webhook, if it has one.
    pub fn on_job_ended(&self, id: JobId) {
        let pipeline = self.clone();
        tokio::spawn(async move {
            if let Err(e) = pipeline.after_end(id).await {
                tracing::warn!(job = %id, error = %e, "webhook not delivered");
            }
        });
    }

    async fn after_end(&self, id: JobId) -> Result<(), WebhookError> {
        let job = self.meta.job_by_id(id).await?;
        if !job.status.is_terminal() {
            return Ok(());
        }
        // Before the secrets go: erasing them ends with a checkpoint of SQLite's log, which
        // must come after the job's last write.
        if let Err(e) = self.settle_operations(&job).await {
            tracing::error!(job = %id, error = %e, "could not settle the job's operations");
        }
        self.erase_secrets(&job).await;
        self.send_webhook(&job).await
    }

    /// Makes (or replaces) `owner`'s webhook signing secret and returns it: the only time it is
    /// shown. It is stored sealed with `secret_key`.
    pub async fn rotate_webhook_secret(&self, owner: &OwnerId) -> Result<String> {
        let secret = webhook::new_secret();
        let sealed = self.settings.secret_key.seal(secret.as_bytes(), &webhook_context(owner));
        self.meta.put_webhook_secret(owner, &sealed).await?;
        Ok(secret)
    }

    /// The HMAC key of `owner`'s signing secret.
    async fn webhook_signing_key(&self, owner: &OwnerId) -> Result<Vec<u8>, SigningKeyError> {
        let sealed = self.meta.webhook_secret(owner).await?.ok_or(SigningKeyError::Missing)?;
        let opened = self
            .settings
            .secret_key
            .open(&sealed, &webhook_context(owner))
            .map_err(|_| SigningKeyError::OtherSecretKey)?;
        let secret = String::from_utf8(opened).unwrap_or_default();
        webhook::secret_key_bytes(&secret).ok_or(SigningKeyError::Unreadable)
    }

    /// At job creation: the URL's form, its host (resolved now; every address must be public
    /// unless `webhook_allow_private_hosts`), and a signing secret to sign deliveries with.
    pub(crate) async fn check_webhook(&self, owner: &OwnerId, url: &str) -> Result<(), WebhookError> {
        let allow_private = self.settings.webhook_allow_private_hosts;
        let target = Target::parse(url, allow_private)?;
        target.checked_addresses(&SystemResolver, allow_private).await?;
        self.webhook_signing_key(owner).await?;
        Ok(())
    }

    async fn send_webhook(&self, job: &JobRecord) -> Result<(), WebhookError> {
        let Some(url) = job.spec.webhook_url.as_deref() else { return Ok(()) };
        let allow_private = self.settings.webhook_allow_private_hosts;
        let target = Target::parse(url, allow_private)?;
        let key = self.webhook_signing_key(&job.owner).await?;
        let outputs = self.meta.job_outputs(job.id).await?;
        let body = json!({
            "event": "job.finished",
            "job": {
                "id": job.id,
                "status": job.status.as_str(),
                "error": job.error.as_ref().map(|e| json!({"code": e.code, "message": e.message})),
                "outputs": outputs.iter().map(|f| json!({
                    "id": f.id, "filename": f.filename, "size": f.size, "content_type": f.content_type,
                    "url": format!("/api/v1/files/{}/content", f.id),
                })).collect::<Vec<_>>(),
                "tag": job.spec.tag,
            }
        });
        let delivery = Delivery {
            target: &target,
            id: format!("msg_{}", job.id.0.simple()),
            body: serde_json::to_vec(&body).expect("the summary serializes"),
            key: &key,
            allow_private,
            timeout: TIMEOUT,
        };
        let mut attempt = 1;
        loop {
            match delivery.attempt(&SystemResolver).await {
                Ok(()) => return Ok(()),
                Err(DeliveryError::Refused(why)) => return Err(WebhookError::Refused { url: url.to_owned(), why }),
                Err(failed) if attempt == ATTEMPTS => return Err(WebhookError::Undelivered(failed)),
                Err(_) => {}
            }
            tokio::time::sleep(Duration::from_secs(2u64.pow(attempt))).await;
            attempt += 1;
        }
    }

    /// The sealed secrets go with the job's final state change; this makes sure, scrubs specs
    /// stored by older builds (which kept passwords in them), and leaves no copy in SQLite's log.
    async fn erase_secrets(&self, job: &JobRecord) {
        let mut spec = job.spec.clone();
        let mut legacy = false;
        for step in &mut spec.steps {
            if let serde_json::Value::Object(params) = &mut step.params {
                for key in scanpro_core::params::SECRET_PARAMS {
                    if let Some(value) = params.get_mut(*key).filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
                        && *value != REDACTED
                    {
                        *value = json!(REDACTED);
                        legacy = true;
                    }
                }
            }
        }
        if legacy && let Err(e) = self.meta.rewrite_spec(job.id, &spec).await {
            tracing::warn!(job = %job.id, error = %e, "could not erase secrets");
        }
        if legacy || had_secrets(&job.spec) || job.secrets.is_some() {
            match self.meta.erase_secrets(job.id).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(job = %job.id, "erased secrets may stay in the write-ahead log until its next checkpoint")
                }
                Err(e) => tracing::warn!(job = %job.id, error = %e, "could not erase secrets"),
            }
        }
    }
}

fn webhook_context(owner: &OwnerId) -> String {
    format!("webhook-secret:{}", owner.as_str())
}
