//! Webhooks: when a job ends, its `webhook_url` receives a POST with a JSON summary
//! (`event`, and the job's `id`, `status`, `error`, `outputs`, `tag`). Delivery is retried a few
//! times with backoff and never holds up the worker.

use crate::Pipeline;
use scanpro_core::JobId;
use serde_json::json;
use std::time::Duration;

const ATTEMPTS: u32 = 4;
const TIMEOUT: Duration = Duration::from_secs(10);

impl Pipeline {
    /// Sends the job's webhook in the background, if it has one and has ended.
    pub fn send_webhook(&self, id: JobId) {
        let pipeline = self.clone();
        tokio::spawn(async move {
            if let Err(e) = pipeline.deliver_webhook(id).await {
                tracing::warn!(job = %id, error = %e, "webhook not delivered");
            }
        });
    }

    async fn deliver_webhook(&self, id: JobId) -> Result<(), String> {
        let job = self.meta.job_by_id(id).await.map_err(|e| e.to_string())?;
        let Some(url) = job.spec.webhook_url.clone().filter(|_| job.status.is_terminal()) else { return Ok(()) };
        let outputs = self.meta.job_outputs(id).await.map_err(|e| e.to_string())?;
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
        let client = reqwest::Client::builder().timeout(TIMEOUT).build().map_err(|e| e.to_string())?;
        let mut last_error = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(2u64.pow(attempt))).await;
            }
            match client.post(&url).header("x-scanpro-job-id", job.id.to_string()).json(&body).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => last_error = format!("{url} answered {}", response.status()),
                Err(e) => last_error = format!("{url}: {e}"),
            }
        }
        Err(last_error)
    }
}

/// A webhook URL must be absolute http(s) with a host.
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    match (parsed.scheme(), parsed.host_str()) {
        ("http" | "https", Some(_)) if url.len() <= 2048 => Ok(()),
        ("http" | "https", Some(_)) => Err("longer than 2048 characters".into()),
        _ => Err("must be an http:// or https:// URL".into()),
    }
}
