//! Who is asking, checked once per request by [`identify`] before any handler runs.
//!
//! Credentials, in this order:
//! 1. `X-API-Key: sk_…` or `Authorization: Bearer sk_…`: an API key, limited to its scopes.
//! 2. `Authorization: Bearer <JWT>`: an access token from `/api/v1/auth/login`.
//! 3. The `scanpro_session` cookie the web app gets at sign-in (HttpOnly).
//! 4. The signed `scanpro_guest` cookie ([`guests`]), only while `guest_access` is on; a
//!    request without one starts a new guest (counted per client address).
//!
//! A credential sent in a header that does not hold answers `401` (never falls back to a
//! guest), except on public routes, which answer as if it were not there; a stale session
//! cookie is dropped and the request goes on as a guest. Handlers take
//! [`Auth`] (any caller, else `401`), [`Owner`] (its owner id) or [`MaybeAuth`].
//!
//! Writes a browser marks as coming from another site (`Sec-Fetch-Site`, else `Origin`
//! against `Host`) are refused with `403 forbidden` before anything else, and get no cookie:
//! another site can neither act with a visitor's cookies nor replace them ([`client`]).
//!
//! What each route asks of its caller ([`access_of`]) is one table, enforced here before the
//! body is read: public, the caller's own things (API keys by scope), the account itself, or
//! administrators.

pub mod client;
pub mod guests;

use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use scanpro_core::accounts::{Role, Scope};
use scanpro_core::{ErrorCode, OwnerId};
use scanpro_pipeline::Caller;
use scanpro_pipeline::accounts::{Credential, Presented};

pub use client::{TrustedProxyError, parse_trusted_proxies};
pub use guests::{CookieKey, GUEST_COOKIE, new_secret};

pub const SESSION_COOKIE: &str = "scanpro_session";

/// The caller of the current request.
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

/// The caller, when the request has one (public routes).
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Caller>);

/// The owner of what the current request reads or makes.
#[derive(Debug, Clone)]
pub struct Owner(pub OwnerId);

/// The client's address (behind trusted proxies), for rate limits and the audit log.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Auth>().cloned().ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "sign in (POST /api/v1/auth/login) or send an API key (X-API-Key: sk_…)",
            )
        })
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for MaybeAuth {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<Auth>().map(|auth| auth.0.clone())))
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Owner {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        Auth::from_request_parts(parts, state).await.map(|Auth(caller)| Self(caller.owner))
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ClientAddress>().cloned().unwrap_or(Self("unknown".into())))
    }
}

/// The middleware: finds the caller, refuses cross-site writes and scopes a key lacks.
pub async fn identify(State(state): State<crate::AppState>, mut request: Request, next: Next) -> Response {
    let write = client::is_write(request.method());
    if write && let Some(why) = client::cross_site(request.headers()) {
        return ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "a write from another site is refused ({why}); use this site's own pages or a client without a browser"
            ),
        )
        .into_response();
    }
    let address = client::client_address(&request, &state.settings.trusted_proxies);
    request.extensions_mut().insert(ClientAddress(address.clone()));
    let pipeline = &state.pipeline;
    // A public route (sign-in, refresh) answers whatever credential came along: a client whose
    // token expired must still reach `/auth/refresh`.
    let public = access(&request) == Some(Access::Public);
    let mut stale_session = false;
    let basic = basic_key(request.headers());
    let presented = match &basic {
        Some(key) => Some(Ok(Presented::ApiKey(key))),
        None => presented_in_headers(request.headers()),
    };
    let caller = match presented {
        Some(Ok(presented)) => match pipeline.authenticate(presented).await {
            Ok(caller) => Some(caller),
            Err(_) if public => None,
            Err(e) => return ApiError::from(e).into_response(),
        },
        Some(Err(_)) if public => None,
        Some(Err(refused)) => return refused.into_response(),
        None => match cookie(request.headers(), SESSION_COOKIE) {
            Some(secret) => match pipeline.authenticate(Presented::SessionCookie(&secret)).await {
                Ok(caller) => Some(caller),
                Err(e) if e.code() == ErrorCode::Unauthorized || public => {
                    stale_session = e.code() == ErrorCode::Unauthorized;
                    None
                }
                Err(e) => return ApiError::from(e).into_response(),
            },
            None => None,
        },
    };
    let mut new_guest = None;
    let caller = match caller {
        Some(caller) => Some(caller),
        None if state.settings.guest_access => match guest(&state, request.headers(), &address, write).await {
            Ok((caller, token)) => {
                new_guest = token;
                Some(caller)
            }
            Err(refused) => return refused,
        },
        None => None,
    };
    if let Some(refused) = refusal(caller.as_ref(), &request) {
        return refused.into_response();
    }
    if let Some(caller) = caller {
        request.extensions_mut().insert(Auth(caller));
    }
    let mut response = next.run(request).await;
    let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
    if let Some(token) = new_guest {
        let value = state.settings.cookie_key.sign(&token);
        set_cookie(
            &mut response,
            &format!("{GUEST_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}"),
        );
    }
    if stale_session && !response.headers().contains_key(header::SET_COOKIE) {
        set_cookie(&mut response, &session_cookie("", 0, state.settings.secure_cookies));
    }
    response
}

/// The guest of the request's cookie; without one, a new guest (`Some(token)` to set) when
/// the address may start one. Past that budget a write is refused, and a read is answered as
/// a guest owning nothing.
async fn guest(
    state: &crate::AppState,
    headers: &HeaderMap,
    address: &str,
    write: bool,
) -> Result<(Caller, Option<String>), Response> {
    let key = &state.settings.cookie_key;
    let existing = cookies(headers, GUEST_COOKIE).find_map(|value| key.verify(&value).map(str::to_owned));
    let (token, is_new) = match existing {
        Some(token) => (token, false),
        // Another site's requests get no cookie (it would replace the visitor's).
        None if client::cross_site(headers).is_some() => (guests::new_token(), false),
        None => {
            let admitted = match &state.rate_limit {
                Some(limit) => limit.admit_new_guest(address).await,
                None => Ok(()),
            };
            match admitted {
                Ok(()) => (guests::new_token(), true),
                Err(refused) if write => return Err(refused),
                Err(_) => (guests::new_token(), false),
            }
        }
    };
    let caller = Caller::guest(guests::owner_of(&token));
    Ok((caller, is_new.then_some(token)))
}

/// The credential a request carries in its headers; `Err` for a header that holds none.
/// An API key sent as the password of HTTP Basic authentication (what Gotenberg's clients send;
/// the user name is not read).
fn basic_key(headers: &HeaderMap) -> Option<String> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (_, password) = String::from_utf8(decoded).ok()?.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned()))?;
    Some(password)
}

fn presented_in_headers(headers: &HeaderMap) -> Option<Result<Presented<'_>, ApiError>> {
    let malformed = |why: &str| Err(ApiError::new(ErrorCode::Unauthorized, why.to_owned()));
    if let Some(key) = headers.get("x-api-key") {
        return Some(match key.to_str() {
            Ok(key) => Ok(Presented::ApiKey(key.trim())),
            Err(_) => malformed("X-API-Key: not a key"),
        });
    }
    let authorization = headers.get(header::AUTHORIZATION)?;
    let value = authorization.to_str().unwrap_or_default().trim();
    let Some((scheme, credential)) = value.split_once(' ') else {
        return Some(malformed("Authorization: expected `Bearer <token>`"));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Some(malformed(
            "Authorization: only the Bearer scheme (or Basic with an API key as the password) is accepted",
        ));
    }
    let credential = credential.trim();
    Some(Ok(if credential.starts_with(scanpro_pipeline::accounts::api_keys::KEY_PREFIX) {
        Presented::ApiKey(credential)
    } else {
        Presented::AccessToken(credential)
    }))
}

/// What a route asks of its caller. The handlers' use cases check again; this table makes the
/// answer the same whatever the body holds, and is what the authorization tests read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, with or without credentials.
    Public,
    /// The caller's own files and jobs (guests included); an API key needs these scopes.
    Owned(&'static [Scope]),
    /// The account itself; `keys`: API keys may call it too.
    Account { keys: bool },
    /// Administrators signed in (not through an API key).
    Admin,
}

/// The access rule of a route (as axum matched it).
pub fn access_of(method: &Method, route: &str) -> Access {
    use Scope::*;
    // Gotenberg's conversions: uploads and a job, like a one-shot tool call.
    if route.starts_with("/forms/") {
        return Access::Owned(&[FilesWrite, JobsWrite]);
    }
    let Some(path) = route.strip_prefix("/api/v1") else { return Access::Public };
    if path.starts_with("/admin/") {
        return Access::Admin;
    }
    match (method.as_str(), path) {
        ("GET" | "HEAD", "/tools" | "/tools/{tool}" | "/openapi.json")
        | ("POST", "/auth/register" | "/auth/login" | "/auth/refresh" | "/auth/verify")
        | ("POST", "/auth/password/forgot" | "/auth/password/reset")
        | ("GET", "/auth/providers" | "/auth/oidc/login" | "/auth/oidc/callback") => Access::Public,
        ("GET" | "HEAD", "/files/{id}" | "/files/{id}/content") => Access::Owned(&[FilesRead]),
        ("POST", "/files") | ("DELETE", "/files/{id}") => Access::Owned(&[FilesWrite]),
        ("GET" | "HEAD", "/jobs" | "/jobs/{id}" | "/jobs/{id}/events") => Access::Owned(&[JobsRead]),
        ("GET" | "HEAD", "/jobs/{id}/outputs.zip") => Access::Owned(&[JobsRead, FilesRead]),
        ("POST", "/jobs" | "/jobs/{id}/cancel" | "/webhook-secret") => Access::Owned(&[JobsWrite]),
        ("POST", "/tools/{tool}") => Access::Owned(&[FilesWrite, JobsWrite]),
        ("GET" | "HEAD", "/me" | "/me/usage") => Access::Account { keys: true },
        // Everything else (sign-out, passwords, keys, deleting the account) needs a sign-in.
        _ => Access::Account { keys: false },
    }
}

/// The access rule of the request's route, once axum matched one.
fn access(request: &Request) -> Option<Access> {
    let route = request.extensions().get::<MatchedPath>()?;
    Some(access_of(request.method(), route.as_str()))
}

/// Why `caller` may not use the matched route, if it may not.
fn refusal(caller: Option<&Caller>, request: &Request) -> Option<ApiError> {
    let access = access(request)?;
    let is_key = matches!(caller.map(|c| &c.credential), Some(Credential::ApiKey { .. }));
    let account = caller.filter(|c| c.user.is_some());
    let unauthorized = || {
        ApiError::new(ErrorCode::Unauthorized, "sign in (POST /api/v1/auth/login) or send an API key (X-API-Key: sk_…)")
    };
    match access {
        Access::Public => None,
        Access::Owned(scopes) => match caller {
            None => Some(unauthorized()),
            Some(caller) => scopes
                .iter()
                .find(|scope| !caller.may(**scope))
                .map(|missing| ApiError::new(ErrorCode::Forbidden, format!("this API key lacks the scope {missing}"))),
        },
        Access::Account { .. } | Access::Admin if account.is_none() => Some(unauthorized()),
        Access::Account { keys: false } | Access::Admin if is_key => Some(ApiError::new(
            ErrorCode::Forbidden,
            "API keys cannot manage accounts, keys or the server; sign in with your password",
        )),
        Access::Admin if account.is_some_and(|c| c.role != Role::Admin) => {
            Some(ApiError::new(ErrorCode::Forbidden, "this needs the admin role"))
        }
        _ => None,
    }
}

fn cookies<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = String> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(move |header| guests::cookie_values(header, name).map(str::to_owned).collect::<Vec<_>>())
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    cookies(headers, name).next()
}

/// The `Set-Cookie` value of the web session cookie; an empty value with age 0 removes it.
pub fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

pub fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}
