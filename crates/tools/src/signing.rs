//! What the signature tools need from the deployment: the time-stamping authority `digital_sign`
//! asks for RFC 3161 tokens, and the trust store `verify_signatures` judges certificates
//! against. A step gets them in its request, and [`configure`] sets them for the thread running it.

use scanpro_core::{ErrorCode, ToolError};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::Duration;

/// Longest wait for the time-stamping authority.
const TSA_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest answer read from it: a token with its certificates is a few kilobytes.
const MAX_TSA_ANSWER: usize = 64 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSettings {
    /// The RFC 3161 time-stamping authority (`signature_tsa_url`); none: no time stamps.
    pub tsa_url: Option<String>,
    /// Its address, resolved by the worker: a step process cannot resolve names.
    #[serde(default)]
    pub tsa_address: Option<SocketAddr>,
    /// The trusted certificates, PEM (read from `signature_trust_store`).
    pub trust_store_pem: Option<String>,
}

thread_local! {
    /// A step runs on one thread from start to end (a step process's main thread, or a
    /// blocking thread of the worker), so the settings of the step running are the thread's.
    static SETTINGS: RefCell<SigningSettings> = RefCell::new(SigningSettings::default());
}

/// Sets the settings of the steps this thread runs.
pub fn configure(settings: SigningSettings) {
    SETTINGS.with(|current| *current.borrow_mut() = settings);
}

pub(crate) fn settings() -> SigningSettings {
    SETTINGS.with(|current| current.borrow().clone())
}

impl SigningSettings {
    /// These settings as a step of `tool` needs them: the authority for `digital_sign`, the
    /// trust store for `verify_signatures`, nothing for other tools.
    pub fn for_tool(&self, tool: &str) -> Option<Self> {
        match tool {
            "digital_sign" => Some(Self { tsa_url: self.tsa_url.clone(), ..Self::default() }),
            "verify_signatures" => Some(Self { trust_store_pem: self.trust_store_pem.clone(), ..Self::default() }),
            _ => None,
        }
    }

    /// With the authority's address resolved here, for a step process that cannot resolve names.
    pub async fn resolved(mut self) -> Self {
        if let Some(url) = &self.tsa_url {
            self.tsa_address = resolve(url).await;
        }
        self
    }

    /// The TCP port a `digital_sign` step must be allowed to reach.
    pub fn tsa_port(&self) -> Option<u16> {
        self.tsa_address.map(|address| address.port())
    }
}

async fn resolve(url: &str) -> Option<SocketAddr> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_owned();
    let port = parsed.port_or_known_default()?;
    tokio::net::lookup_host((host.as_str(), port)).await.ok()?.next()
}

/// Posts an RFC 3161 request to the configured authority and returns its answer.
pub(crate) fn ask_tsa(url: &str, address: Option<SocketAddr>, request: &[u8]) -> Result<Vec<u8>, ToolError> {
    let unavailable =
        |why: String| ToolError::new(ErrorCode::Unavailable, format!("the time-stamping authority {why}"));
    let mut client =
        reqwest::blocking::Client::builder().timeout(TSA_TIMEOUT).redirect(reqwest::redirect::Policy::none());
    if let (Some(address), Ok(parsed)) = (address, reqwest::Url::parse(url))
        && let Some(host) = parsed.host_str()
    {
        client = client.resolve(host, address);
    }
    let client = client.build().map_err(|e| unavailable(format!("cannot be reached ({e})")))?;
    let response = client
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .body(request.to_vec())
        .send()
        .map_err(|e| unavailable(format!("at {url} cannot be reached ({e})")))?;
    if !response.status().is_success() {
        return Err(unavailable(format!("at {url} answered {}", response.status())));
    }
    // Read no further than the largest answer: a larger one is refused, not held.
    let mut body = Vec::new();
    let limit = u64::try_from(MAX_TSA_ANSWER + 1).unwrap_or(u64::MAX);
    std::io::Read::read_to_end(&mut std::io::Read::take(response, limit), &mut body)
        .map_err(|e| unavailable(format!("answer was cut off ({e})")))?;
    if body.len() > MAX_TSA_ANSWER {
        return Err(unavailable(format!("sent an answer larger than {} KB", MAX_TSA_ANSWER / 1024)));
    }
    Ok(body)
}

/// How many certificates a trust store's PEM text holds, or why it cannot be read.
pub fn count_trusted_certificates(pem: &str) -> Result<usize, String> {
    scanpro_pdf::signatures::certificates_from_pem(pem).map(|certificates| certificates.len())
}
