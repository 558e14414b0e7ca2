//! Remote requests of a page, made by ScanPro rather than the browser, where the configuration
//! allows them at all (`chromium_allow_remote`).
//!
//! Each request's host is resolved here and every address it stands for checked: one loopback,
//! private, link-local or otherwise special-purpose address refuses the request (unless
//! `chromium_allow_private_hosts`), and the connection goes only to the addresses checked, so a
//! name that re-resolves elsewhere in between gains nothing. Redirects are handed back to the
//! browser, whose next request is checked the same way: every hop is.

use super::options::{Cookie, ExtraHeader};
use futures::StreamExt;
use scanpro_core::addresses::{is_local_name, is_special_purpose};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The largest remote response a page may load.
const MAX_RESPONSE_BYTES: usize = 64 << 20;
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);
/// Response headers handed to the browser; the rest (cookies included) stay here.
const KEPT_HEADERS: &[&str] = &["content-type", "location", "content-language", "last-modified", "cache-control"];

/// An answer to a page's request.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Fetched {
    pub(crate) fn not_found() -> Self {
        Self { status: 404, headers: vec![("Content-Type".into(), "text/plain".into())], body: b"Not Found".to_vec() }
    }
}

/// Fetches remote resources for pages.
#[derive(Debug, Clone)]
pub struct RemoteFetcher {
    pub allow_private: bool,
    pub timeout: Duration,
}

impl RemoteFetcher {
    /// Checks `url`'s host without fetching anything: the refusal a `url_to_pdf` gets at once.
    pub async fn check(&self, url: &reqwest::Url) -> Result<Vec<SocketAddr>, String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{}: URLs are not fetched; only http and https", url.scheme()));
        }
        let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let port = url.port_or_known_default().unwrap_or(80);
        let addresses = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) if !self.allow_private && is_local_name(host) => return Err(format!("{host} names this machine")),
            Err(_) => match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await {
                Ok(Ok(found)) => found.collect(),
                Ok(Err(e)) => return Err(format!("{host} does not resolve ({e})")),
                Err(_) => return Err(format!("{host} did not resolve within {} s", RESOLVE_TIMEOUT.as_secs())),
            },
        };
        if addresses.is_empty() {
            return Err(format!("{host} has no address"));
        }
        if !self.allow_private
            && let Some(internal) = addresses.iter().find(|a| is_special_purpose(a.ip()))
        {
            return Err(format!("{host} is or resolves to {}, an internal or special-purpose address", internal.ip()));
        }
        Ok(addresses)
    }

    /// One request, to the checked addresses only; a redirect is returned, not followed.
    pub async fn fetch(
        &self,
        url: &reqwest::Url,
        extra_headers: &[ExtraHeader],
        cookies: &[Cookie],
    ) -> Result<Fetched, String> {
        let addresses = self.check(url).await?;
        let mut client =
            reqwest::Client::builder().timeout(self.timeout).redirect(reqwest::redirect::Policy::none()).no_proxy();
        if let Some(host) = url.host_str().filter(|h| h.parse::<IpAddr>().is_err()) {
            client = client.resolve_to_addrs(host, &addresses);
        }
        let client = client.build().map_err(|e| e.to_string())?;
        let mut request = client.get(url.clone());
        for header in extra_headers.iter().filter(|h| h.scope.as_ref().is_none_or(|s| s.is_match(url.as_str()))) {
            request = request.header(&header.name, &header.value);
        }
        let host = url.host_str().unwrap_or_default();
        let sent: Vec<String> = cookies
            .iter()
            .filter(|c| c.applies_to(host, url.path()))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        if !sent.is_empty() {
            request = request.header(reqwest::header::COOKIE, sent.join("; "));
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| KEPT_HEADERS.contains(&name.as_str()))
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(format!("larger than {} MB", MAX_RESPONSE_BYTES >> 20));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { status, headers, body })
    }
}
