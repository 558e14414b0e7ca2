//! Where a request comes from: the client's address behind trusted proxies, and whether a
//! browser sent it from another site.

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, Method, header};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

pub(crate) fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why a request is a cross-site one, from what the browser says about it.
pub(crate) fn cross_site(headers: &HeaderMap) -> Option<String> {
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

/// The client's address: the peer's, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not one of the trusted proxies.
pub(crate) fn client_address(request: &Request, trusted: &[IpNet]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
