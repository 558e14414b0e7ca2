//! Webhook targets and signed deliveries.
//!
//! A target is refused when its host is, or resolves to, any special-purpose address (the IANA
//! IPv4 and IPv6 special-purpose registries: loopback, private, shared, link-local, multicast,
//! documentation, benchmarking, reserved, and IPv6 forms that carry an IPv4 address). The check
//! runs when the job is created and again before each delivery attempt, and the connection goes
//! only to the addresses that attempt checked: a name that re-resolves elsewhere in between (DNS
//! rebinding) gains nothing. Proxies from the environment and redirects are not followed.
//! `webhook_allow_private_hosts` lifts the address check (hooks inside one's own network).
//!
//! Deliveries follow the Standard Webhooks specification: headers `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `{id}.{timestamp}.{body}`, keyed with the owner's secret (shown once as `whsec_<base64>`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use scanpro_core::addresses::{is_local_name, is_special_purpose};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

/// Prefix of a signing secret as shown to its owner.
pub const SECRET_PREFIX: &str = "whsec_";
const SECRET_BYTES: usize = 32;
const MAX_URL_LEN: usize = 2048;
/// How long a name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A webhook URL that passed the checks of its form.
#[derive(Debug, Clone)]
pub struct Target {
    url: reqwest::Url,
}

/// Resolves host names; the system resolver in production.
pub trait Resolve: Send + Sync {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>>;
}

/// `getaddrinfo` through tokio: `/etc/hosts`, then DNS.
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// Why a URL is not a webhook target: its form, or the addresses its host stands for.
#[derive(Debug, thiserror::Error)]
pub enum WebhookTargetError {
    #[error("longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("not a URL: {0}")]
    NotUrl(#[source] UrlError),
    #[error("must be an http:// or https:// URL")]
    NotHttp,
    #[error("{0} is an internal or special-purpose address")]
    InternalAddress(IpAddr),
    /// The host is `localhost` or one of its subdomains.
    #[error("{0} names this machine")]
    ThisMachine(String),
    #[error("{0} has no address")]
    NoAddress(String),
    #[error("{host} does not resolve ({source})")]
    Unresolved { host: String, source: std::io::Error },
    #[error("{host} did not resolve within {} s", RESOLVE_TIMEOUT.as_secs())]
    ResolveTimeout { host: String },
    /// One of the addresses the host resolves to is internal.
    #[error("{host} resolves to {address}, an internal or special-purpose address")]
    ResolvesInternal { host: String, address: IpAddr },
}

/// Why a URL does not parse.
pub type UrlError = <reqwest::Url as std::str::FromStr>::Err;

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The target is not allowed (any more): retrying cannot help.
    #[error("refused: {0}")]
    Refused(String),
    /// The receiver could not be reached or did not answer 2xx.
    #[error("{0}")]
    Failed(String),
}

impl Target {
    /// Checks the form: absolute http(s), a host, not too long; with `allow_private` off, the
    /// host must not name an internal address or `localhost` (in any spelling).
    pub fn parse(url: &str, allow_private: bool) -> Result<Self, WebhookTargetError> {
        if url.len() > MAX_URL_LEN {
            return Err(WebhookTargetError::TooLong);
        }
        let url = reqwest::Url::parse(url).map_err(WebhookTargetError::NotUrl)?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(WebhookTargetError::NotHttp);
        }
        let target = Self { url };
        if !allow_private {
            if let Some(ip) = target.literal() {
                if is_special_purpose(ip) {
                    return Err(WebhookTargetError::InternalAddress(ip));
                }
            } else if is_local_name(target.host()) {
                return Err(WebhookTargetError::ThisMachine(target.host().to_owned()));
            }
        }
        Ok(target)
    }

    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// The host as written (normalised by URL parsing; IPv6 without brackets).
    fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']')
    }

    fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(80)
    }

    fn literal(&self) -> Option<IpAddr> {
        // URL parsing already turned every IPv4 spelling (`2130706433`, `0x7f.1`) into dotted form.
        self.host().parse().ok()
    }

    /// Every address the host stands for, each checked (unless `allow_private`): one
    /// special-purpose address refuses the whole target.
    pub async fn checked_addresses(
        &self,
        resolver: &dyn Resolve,
        allow_private: bool,
    ) -> Result<Vec<SocketAddr>, WebhookTargetError> {
        let port = self.port();
        let addresses = match self.literal() {
            Some(ip) => vec![SocketAddr::new(ip, port)],
            None => {
                let host = self.host();
                match tokio::time::timeout(RESOLVE_TIMEOUT, resolver.lookup(host, port)).await {
                    Ok(Ok(found)) if !found.is_empty() => found,
                    Ok(Ok(_)) => return Err(WebhookTargetError::NoAddress(host.to_owned())),
                    Ok(Err(source)) => return Err(WebhookTargetError::Unresolved { host: host.to_owned(), source }),
                    Err(_) => return Err(WebhookTargetError::ResolveTimeout { host: host.to_owned() }),
                }
            }
        };
        if !allow_private && let Some(internal) = addresses.iter().find(|a| is_special_purpose(a.ip())) {
            return Err(WebhookTargetError::ResolvesInternal { host: self.host().to_owned(), address: internal.ip() });
        }
        Ok(addresses)
    }
}

impl Target {
    /// A client for one request to this target: the host resolved and checked again (unless
    /// `allow_private`), the connection made only to the addresses checked, no redirect followed
    /// and no proxy from the environment used.
    pub async fn pinned_client(
        &self,
        resolver: &dyn Resolve,
        allow_private: bool,
        timeout: Duration,
    ) -> Result<reqwest::Client, DeliveryError> {
        let addresses = self
            .checked_addresses(resolver, allow_private)
            .await
            .map_err(|refused| DeliveryError::Refused(refused.to_string()))?;
        let mut client =
            reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none()).no_proxy();
        if self.literal().is_none() {
            client = client.resolve_to_addrs(self.host(), &addresses);
        }
        client.build().map_err(|e| DeliveryError::Failed(e.to_string()))
    }
}

/// A new signing secret: what its owner is shown (`whsec_…`) and the key bytes.
pub fn new_secret() -> String {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The HMAC key of a secret shown as `whsec_<base64>`.
pub fn secret_key_bytes(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok().filter(|key| !key.is_empty())
}

/// The `webhook-signature` value of one delivery attempt.
pub fn signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!("v1,{}", STANDARD.encode(crate::secrets::hmac(key, &signed)))
}

/// One message to send, possibly several times.
pub struct Delivery<'a> {
    pub target: &'a Target,
    /// `webhook-id`: the same for every attempt, so receivers can drop duplicates.
    pub id: String,
    pub body: Vec<u8>,
    /// The owner's signing key.
    pub key: &'a [u8],
    pub allow_private: bool,
    pub timeout: Duration,
}

impl Delivery<'_> {
    /// One attempt: resolve and check the host again, connect only to the checked addresses,
    /// POST the signed body; a 2xx answer is success.
    pub async fn attempt(&self, resolver: &dyn Resolve) -> Result<(), DeliveryError> {
        let target = self.target;
        let client = target.pinned_client(resolver, self.allow_private, self.timeout).await?;
        let timestamp = chrono::Utc::now().timestamp();
        let url = target.url();
        let response = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &self.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature(self.key, &self.id, timestamp, &self.body))
            .body(self.body.clone())
            .send()
            .await
            .map_err(|e| DeliveryError::Failed(format!("{url}: {e}")))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Failed(format!("{url} answered {}", response.status())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_purpose_ranges() {
        for internal in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.9",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::808:808",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:0:4136:e378::1",
            "2001:2::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2002:808:808::1",
            "2620:4f:8000::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            let ip: IpAddr = internal.parse().unwrap();
            assert!(is_special_purpose(ip), "{internal} passed");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "198.20.0.1",
            "::ffff:8.8.8.8",
            "2001:4860::8888",
            "2a00:1450::1",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(!is_special_purpose(ip), "{public} refused");
        }
    }

    #[test]
    fn odd_spellings_of_internal_hosts_are_refused() {
        assert!(Target::parse("https://hooks.example.com/x", false).is_ok());
        for bad in [
            "ftp://x/y",
            "http://localhost/",
            "http://localhost./",
            "http://LocalHost.:8080/",
            "http://api.localhost/",
            "http://[::127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://0/",
            "http://198.18.0.1/",
            "http://[fd00::1]:8080/",
        ] {
            assert!(Target::parse(bad, false).is_err(), "{bad}");
        }
        assert!(Target::parse("http://127.0.0.1:9/hook", true).is_ok());
        assert!(Target::parse("http://localhost./hook", true).is_ok());
    }

    #[test]
    fn refusals_say_why() {
        let why = |url: &str| Target::parse(url, false).unwrap_err().to_string();
        assert_eq!(why("ftp://x/y"), "must be an http:// or https:// URL");
        assert_eq!(why("http://LocalHost./"), "localhost. names this machine");
        assert_eq!(why("http://0x7f.1/"), "127.0.0.1 is an internal or special-purpose address");
        assert!(why("hooks.example.com").starts_with("not a URL: "), "{}", why("hooks.example.com"));
        let error = Target::parse("http://[::1", false).unwrap_err();
        assert!(matches!(error, WebhookTargetError::NotUrl(_)) && std::error::Error::source(&error).is_some());
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The specification's own example (standard-webhooks, spec/standard-webhooks.md).
        let key = secret_key_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let secret = new_secret();
        assert_eq!(secret_key_bytes(&secret).unwrap().len(), SECRET_BYTES);
    }
}
