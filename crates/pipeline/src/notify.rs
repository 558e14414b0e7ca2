//! What happens when a job ends: secrets in its parameters are erased, and its webhook is sent.
//!
//! Webhooks: when a job ends, its `webhook_url` receives a POST with a JSON summary
//! (`event`, and the job's `id`, `status`, `error`, `outputs`, `tag`). Delivery is retried a few
//! times with backoff and never holds up the worker. Hosts that resolve to loopback, private,
//! link-local or otherwise internal addresses are refused (unless `webhook_allow_private_hosts`),
//! and redirects are not followed, so a webhook cannot be aimed at the server's own network.

use crate::Pipeline;
use scanpro_core::JobId;
use serde_json::json;
use std::time::Duration;

const ATTEMPTS: u32 = 4;
const TIMEOUT: Duration = Duration::from_secs(10);

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

    async fn after_end(&self, id: JobId) -> Result<(), String> {
        let job = self.meta.job_by_id(id).await.map_err(|e| e.to_string())?;
        self.erase_secrets(&job).await;
        self.send_webhook(&job).await
    }

    async fn send_webhook(&self, job: &scanpro_store::JobRecord) -> Result<(), String> {
        let id = job.id;
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
        if !self.settings.webhook_allow_private_hosts {
            refuse_internal_host(&url).await?;
        }
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
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

impl Pipeline {
    /// Passwords in step parameters are needed until the job ends, and kept no longer.
    async fn erase_secrets(&self, job: &scanpro_store::JobRecord) {
        let mut spec = job.spec.clone();
        let mut erased = false;
        for step in &mut spec.steps {
            if let serde_json::Value::Object(params) = &mut step.params {
                for key in scanpro_core::params::SECRET_PARAMS {
                    if let Some(value) = params.get_mut(*key) {
                        *value = json!("***");
                        erased = true;
                    }
                }
            }
        }
        if erased && job.status.is_terminal() {
            if let Err(e) = self.meta.rewrite_spec(job.id, &spec).await {
                tracing::warn!(job = %job.id, error = %e, "could not erase secrets");
            }
        }
    }
}

/// A webhook URL must be absolute http(s) with a host; literal internal addresses are refused
/// at once unless `allow_private`.
pub fn check_webhook_url(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.len() > 2048 {
        return Err("longer than 2048 characters".into());
    }
    let literal = parsed.host_str().and_then(|h| h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().ok());
    if !allow_private && (literal.is_some_and(is_internal) || parsed.host_str() == Some("localhost")) {
        return Err("points at an internal address".into());
    }
    Ok(())
}

async fn refuse_internal_host(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let host = parsed.host_str().ok_or("no host")?;
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addresses =
        tokio::net::lookup_host((host.trim_matches(['[', ']']), port)).await.map_err(|e| format!("{host}: {e}"))?;
    for address in addresses {
        if is_internal(address.ip()) {
            return Err(format!("{host} resolves to the internal address {}", address.ip()));
        }
    }
    Ok(())
}

fn is_internal(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
        }
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(v4.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_webhook_url;

    #[test]
    fn internal_and_odd_urls_are_refused() {
        assert!(check_webhook_url("https://hooks.example.com/x", false).is_ok());
        for bad in [
            "ftp://x/y",
            "http://127.0.0.1/x",
            "http://169.254.169.254/latest",
            "http://[::1]/",
            "http://10.0.0.8/",
            "http://localhost:9/",
        ] {
            assert!(check_webhook_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_webhook_url("http://127.0.0.1:9/hook", true).is_ok());
    }
}
