//! Gotenberg's `downloadFrom` field: files fetched from URLs and treated exactly like uploads.
//!
//! Each URL is checked as ScanPro's webhooks are (no loopback, private or other special-purpose
//! address unless `webhook_allow_private_hosts`), the connection goes only to the addresses
//! checked, redirects are not followed, and the file streams into storage under the caller's
//! upload limit. As Gotenberg requires, the answer must be `200` with a `Content-Disposition`
//! naming the file.

use super::form::{Upload, sanitised};
use super::reply::Refusal;
use crate::AppState;
use crate::error::ApiError;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use futures::TryStreamExt;
use scanpro_pipeline::Caller;
use scanpro_pipeline::webhook::{DeliveryError, SystemResolver, Target};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Files one call may download.
const MAX_DOWNLOADS: usize = 32;
const ATTEMPTS: u32 = 4;
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Entry {
    #[serde(default)]
    url: String,
    #[serde(default)]
    extra_http_headers: BTreeMap<String, String>,
    #[serde(default)]
    embedded: bool,
    #[serde(default)]
    field: String,
}

/// Where a downloaded file goes.
pub enum Destination {
    Input,
    Embed,
    /// `watermark` or `stamp`: a bucket ScanPro refuses.
    Refused(String),
}

/// Downloads every entry of `value` (the field's JSON) for `caller`.
pub async fn download_all(
    state: &AppState,
    caller: &Caller,
    value: &str,
    trace: &str,
) -> Result<Vec<(Upload, Destination)>, Refusal> {
    let invalid = |why: String| Refusal::bad_request(format!("Invalid 'downloadFrom' form field value: {why}"));
    let entries: Vec<Entry> = serde_json::from_str(value).map_err(|e| invalid(e.to_string()))?;
    if entries.len() > MAX_DOWNLOADS {
        return Err(invalid(format!("at most {MAX_DOWNLOADS} entries")));
    }
    let allow_private = state.pipeline.settings.webhook_allow_private_hosts;
    let mut downloaded = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        if entry.url.is_empty() {
            return Err(Refusal::bad_request(format!(
                "Invalid 'downloadFrom' form field entry {index}: URL must be set"
            )));
        }
        let target = Target::parse(&entry.url, allow_private).map_err(|_| Refusal::forbidden())?;
        let destination = match (entry.embedded, entry.field.as_str()) {
            (true, _) | (_, "embedded") => Destination::Embed,
            (false, "") => Destination::Input,
            (false, other) => Destination::Refused(other.to_owned()),
        };
        let upload = fetch(state, caller, &target, &entry.extra_http_headers, trace, allow_private).await?;
        downloaded.push((upload, destination));
    }
    Ok(downloaded)
}

async fn fetch(
    state: &AppState,
    caller: &Caller,
    target: &Target,
    extra: &BTreeMap<String, String>,
    trace: &str,
    allow_private: bool,
) -> Result<Upload, Refusal> {
    let url = target.url();
    let unable = |why: String| Refusal::bad_request(format!("Unable to download file from '{url}': {why}"));
    let mut headers = HeaderMap::new();
    for (name, value) in extra {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| unable(e.to_string()))?;
        headers.insert(name, HeaderValue::from_str(value).map_err(|e| unable(e.to_string()))?);
    }
    let mut pause = Duration::from_millis(500);
    let mut attempt = 1;
    let response = loop {
        let client =
            target.pinned_client(&SystemResolver, allow_private, DOWNLOAD_TIMEOUT).await.map_err(|e| match e {
                DeliveryError::Refused(_) => Refusal::forbidden(),
                DeliveryError::Failed(why) => unable(why),
            })?;
        let sent = client
            .get(url.clone())
            .headers(headers.clone())
            .header(header::USER_AGENT, "Gotenberg")
            .header(super::TRACE, trace)
            .send()
            .await;
        match sent {
            Ok(response) => break response,
            Err(e) if attempt >= ATTEMPTS => return Err(unable(e.to_string())),
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
        }
    };
    if response.status() != reqwest::StatusCode::OK {
        return Err(unable(format!("got status: '{}'", response.status())));
    }
    let filename = response
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(disposition_filename)
        .map(|name| sanitised(&name))
        .filter(|name| !name.is_empty())
        .ok_or_else(|| Refusal::bad_request(format!("No 'Content-Disposition' header from '{url}'")))?;
    let body = response.bytes_stream().map_err(std::io::Error::other);
    let stored =
        state.pipeline.upload(caller, &filename, Box::pin(body)).await.map_err(|e| Refusal::from(ApiError::from(e)))?;
    Ok(Upload { name: filename, file: stored.id })
}

/// The file name of a `Content-Disposition` value: `filename*=UTF-8''…` first, then `filename=`.
fn disposition_filename(value: &str) -> Option<String> {
    let parameters: Vec<(String, String)> = value
        .split(';')
        .skip(1)
        .filter_map(|part| part.split_once('='))
        .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let extended = parameters.iter().find(|(key, _)| key == "filename*").and_then(|(_, value)| {
        let encoded = value.split_once("''")?.1;
        Some(percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().into_owned())
    });
    extended.or_else(|| {
        parameters.iter().find(|(key, _)| key == "filename").map(|(_, value)| value.trim_matches('"').to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::disposition_filename;

    #[test]
    fn file_names_come_from_content_disposition() {
        assert_eq!(disposition_filename("attachment; filename=\"a b.pdf\"").as_deref(), Some("a b.pdf"));
        assert_eq!(disposition_filename("attachment; filename=plain.pdf").as_deref(), Some("plain.pdf"));
        assert_eq!(
            disposition_filename("attachment; filename=\"x.pdf\"; filename*=UTF-8''%C3%BCber.pdf").as_deref(),
            Some("über.pdf")
        );
        assert_eq!(disposition_filename("inline"), None);
    }
}
