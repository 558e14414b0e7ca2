//! Who is asking. Until accounts exist every caller is a guest identified by the `scanpro_guest`
//! cookie, which the server sets when it is absent or malformed. The owner id is a hash of the
//! cookie's random token, so ids seen in logs or the database cannot be replayed as cookies.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use scanpro_core::OwnerId;
use sha2::{Digest, Sha256};

pub const GUEST_COOKIE: &str = "scanpro_guest";
const TOKEN_BYTES: usize = 32;

/// The owner of the current request, put in the request extensions by [`guest_cookie`].
#[derive(Debug, Clone)]
pub struct Owner(pub OwnerId);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Owner {
    type Rejection = crate::ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Owner>()
            .cloned()
            .ok_or_else(|| crate::ApiError::new(scanpro_core::ErrorCode::InternalError, "owner middleware missing"))
    }
}

pub async fn guest_cookie(State(state): State<crate::AppState>, mut request: Request, next: Next) -> Response {
    let existing = request.headers().get_all(header::COOKIE).iter().find_map(|v| guest_token(v.to_str().ok()?));
    let (token, is_new) = match existing {
        Some(token) => (token, false),
        None => (new_token(), true),
    };
    request.extensions_mut().insert(Owner(owner_of(&token)));
    let mut response = next.run(request).await;
    if is_new {
        let secure = if state.settings.secure_cookies { "; Secure" } else { "" };
        let cookie = format!("{GUEST_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

fn guest_token(cookie_header: &str) -> Option<String> {
    cookie_header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value).ok()?;
        (name == GUEST_COOKIE && decoded.len() == TOKEN_BYTES).then(|| value.to_owned())
    })
}

fn new_token() -> String {
    let bytes: [u8; TOKEN_BYTES] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn owner_of(token: &str) -> OwnerId {
    OwnerId::guest(&hex::encode(&Sha256::digest(token.as_bytes())[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_are_accepted() {
        let token = new_token();
        assert_eq!(guest_token(&format!("a=b; {GUEST_COOKIE}={token}")), Some(token.clone()));
        assert_eq!(guest_token(&format!("{GUEST_COOKIE}=short")), None);
        assert_eq!(guest_token("other=x"), None);
        assert_ne!(owner_of(&token), owner_of(&new_token()));
    }
}
