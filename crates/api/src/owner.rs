//! Who is asking. Until accounts exist every caller is a guest identified by the `scanpro_guest`
//! cookie. The server issues that cookie and signs it (HMAC-SHA256 with [`CookieKey`], the same
//! on every replica): a cookie the server did not sign is no identity at all. The owner id is a
//! hash of the cookie's random token, so ids seen in logs or the database cannot be replayed as
//! cookies.
//!
//! A request without a valid cookie starts a new guest (and gets its cookie), and new guests are
//! counted per client address ([`rate_limit`](crate::rate_limit)), so dropping the cookie does not
//! buy a fresh budget: past it a write is refused, and a read is answered as a guest owning
//! nothing, without a cookie. The web app's first read sets the cookie its uploads then share.
//!
//! Writes a browser marks as coming from another site (`Sec-Fetch-Site`, else `Origin` against
//! `Host`) are refused with `403 forbidden` before anything else happens, and get no cookie:
//! another site can neither act with a visitor's cookie nor replace it. Clients that send
//! neither header (curl, scripts) are not browsers acting for someone else and pass.

use crate::error::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use scanpro_core::{ErrorCode, OwnerId};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};

pub const GUEST_COOKIE: &str = "scanpro_guest";
const TOKEN_BYTES: usize = 32;

/// The owner of the current request, put in the request extensions by [`guest_cookie`].
#[derive(Debug, Clone)]
pub struct Owner(pub OwnerId);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Owner {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Owner>()
            .cloned()
            .ok_or_else(|| ApiError::new(ErrorCode::InternalError, "owner middleware missing"))
    }
}

/// The secret that signs guest cookies. Every API replica must hold the same one.
#[derive(Clone)]
pub struct CookieKey(Vec<u8>);

impl CookieKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    /// A key for this process only (tests; cookies die with the process).
    pub fn random() -> Self {
        Self(rand::random::<[u8; 32]>().to_vec())
    }

    fn mac(&self, token: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(GUEST_COOKIE.as_bytes());
        mac.update(b"=");
        mac.update(token.as_bytes());
        mac
    }

    /// The cookie value for `token`: `token.signature`.
    fn sign(&self, token: &str) -> String {
        let signature = URL_SAFE_NO_PAD.encode(self.mac(token).finalize().into_bytes());
        format!("{token}.{signature}")
    }

    /// The token of a cookie value this key signed; `None` for anything else.
    fn verify<'a>(&self, value: &'a str) -> Option<&'a str> {
        let (token, signature) = value.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let well_formed = URL_SAFE_NO_PAD.decode(token).is_ok_and(|bytes| bytes.len() == TOKEN_BYTES);
        // Constant-time comparison: the signature cannot be guessed byte by byte.
        (well_formed && self.mac(token).verify_slice(&signature).is_ok()).then_some(token)
    }
}

impl std::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieKey(***)")
    }
}

pub async fn guest_cookie(State(state): State<crate::AppState>, mut request: Request, next: Next) -> Response {
    let write = is_write(request.method());
    let client = client_address(&request, &state.settings.trusted_proxies);
    if write && let Some(why) = cross_site(request.headers()) {
        return ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "a write from another site is refused ({why}); use this site's own pages or a client without a browser"
            ),
        )
        .into_response();
    }
    let key = &state.settings.cookie_key;
    let existing = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie_values)
        .find_map(|value| key.verify(value).map(str::to_owned));
    let (token, is_new) = match existing {
        Some(token) => (token, false),
        // Another site's requests get no cookie (it would replace the visitor's).
        None if cross_site(request.headers()).is_some() => (new_token(), false),
        None => {
            let admitted = match &state.rate_limit {
                Some(limit) => limit.admit_new_guest(&client).await,
                None => Ok(()),
            };
            match admitted {
                Ok(()) => (new_token(), true),
                Err(refused) if write => return refused,
                // A read past the budget is answered as a guest owning nothing.
                Err(_) => (new_token(), false),
            }
        }
    };
    request.extensions_mut().insert(Owner(owner_of(&token)));
    let mut response = next.run(request).await;
    if is_new {
        let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
        let cookie =
            format!("{GUEST_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}", key.sign(&token));
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why a request is a cross-site one, from what the browser says about it.
fn cross_site(headers: &HeaderMap) -> Option<String> {
    // Browsers set Sec-Fetch-Site themselves and pages cannot forge it; it also sees through a
    // proxy that rewrites `Host`. `same-site` (a sibling subdomain) is another origin too.
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.to_str().unwrap_or_default() {
            "same-origin" | "none" => None,
            other => Some(format!("Sec-Fetch-Site: {other}")),
        };
    }
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or_default();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    match authority {
        Some(authority) if !host.is_empty() && authority.eq_ignore_ascii_case(host) => None,
        _ => Some(format!("Origin: {origin}")),
    }
}

/// The `scanpro_guest` values of a `Cookie` header.
fn cookie_values(cookie_header: &str) -> impl Iterator<Item = &str> {
    cookie_header.split(';').filter_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == GUEST_COOKIE).then_some(value)
    })
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not one of the trusted proxies.
fn client_address(request: &Request, trusted: &[IpNet]) -> String {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return "unknown".into();
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer.ip();
    if is_trusted(&client) {
        let forwarded = request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> =
            forwarded.flat_map(|v| v.split(',')).filter_map(|hop| hop.trim().parse().ok()).collect();
        for hop in hops.into_iter().rev() {
            client = hop;
            if !is_trusted(&hop) {
                break;
            }
        }
    }
    client.to_string()
}

/// A `trusted_proxies` entry that is neither an address nor a network; the source is why it is
/// not an address.
#[derive(Debug, thiserror::Error)]
#[error("trusted_proxies: {entry:?} is neither an address nor a network like 10.0.0.0/8")]
pub struct TrustedProxyError {
    pub entry: String,
    #[source]
    source: std::net::AddrParseError,
}

/// Parses `trusted_proxies` entries: addresses (`10.0.0.7`) or networks (`10.0.0.0/8`).
pub fn parse_trusted_proxies(entries: &[String]) -> Result<Vec<IpNet>, TrustedProxyError> {
    entries
        .iter()
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|source| TrustedProxyError { entry: entry.clone(), source })
        })
        .collect()
}

/// A fresh secret for [`CookieKey::new`]: 32 random bytes in hex.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; TOKEN_BYTES]>())
}

fn owner_of(token: &str) -> OwnerId {
    OwnerId::guest(&hex::encode(&Sha256::digest(token.as_bytes())[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cookies_this_key_signed_are_identities() {
        let key = CookieKey::random();
        let token = new_token();
        let cookie = key.sign(&token);
        assert_eq!(key.verify(&cookie), Some(token.as_str()));
        // A made-up token, a token with a forged or missing signature, another key's cookie.
        assert_eq!(key.verify(&new_token()), None);
        assert_eq!(key.verify(&format!("{token}.{}", URL_SAFE_NO_PAD.encode([0u8; 32]))), None);
        assert_eq!(key.verify(&format!("{token}.")), None);
        assert_eq!(CookieKey::random().verify(&cookie), None);
        assert_eq!(key.verify(&CookieKey::new(b"same secret").sign(&token)), None);
        assert_eq!(CookieKey::new(b"same secret").verify(&CookieKey::new(b"same secret").sign(&token)), Some(&*token));
        assert_ne!(owner_of(&token), owner_of(&new_token()));
        let header = format!("a=b; {GUEST_COOKIE}={cookie}");
        let values: Vec<&str> = cookie_values(&header).collect();
        assert_eq!(values, [cookie.as_str()]);
    }

    #[test]
    fn browsers_writing_from_another_site_are_told_apart() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        assert_eq!(cross_site(&headers(&[])), None, "curl sends neither header");
        assert_eq!(cross_site(&headers(&[("sec-fetch-site", "same-origin"), ("origin", "http://elsewhere")])), None);
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])).is_some());
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])).is_some());
        assert_eq!(cross_site(&headers(&[("origin", "https://scan.example"), ("host", "scan.example")])), None);
        assert!(cross_site(&headers(&[("origin", "https://evil.example"), ("host", "scan.example")])).is_some());
        assert!(cross_site(&headers(&[("origin", "null"), ("host", "scan.example")])).is_some());
    }

    #[test]
    fn the_client_behind_trusted_proxies_is_found() {
        let trusted = parse_trusted_proxies(&["10.0.0.0/8".into(), "192.168.1.5".into()]).unwrap();
        let request = |peer: &str, forwarded: &str| {
            let mut request = Request::new(axum::body::Body::empty());
            request.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
            if !forwarded.is_empty() {
                request.headers_mut().insert("x-forwarded-for", HeaderValue::from_str(forwarded).unwrap());
            }
            request
        };
        assert_eq!(client_address(&request("203.0.113.9:5000", "1.2.3.4"), &trusted), "203.0.113.9", "untrusted peer");
        assert_eq!(client_address(&request("10.1.2.3:5000", "6.6.6.6, 1.2.3.4, 10.9.9.9"), &trusted), "1.2.3.4");
        assert_eq!(client_address(&request("192.168.1.5:80", ""), &trusted), "192.168.1.5");
        assert!(parse_trusted_proxies(&["not an address".into()]).is_err());
    }
}
