//! Guests: browsers without an account, known by the `scanpro_guest` cookie. The server
//! issues that cookie and signs it (HMAC-SHA256 with [`CookieKey`], the same on every replica):
//! a cookie the server did not sign is no identity at all. The owner id is a hash of the
//! cookie's random token, so ids seen in logs or the database cannot be replayed as cookies.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use scanpro_core::OwnerId;
use sha2::{Digest, Sha256};

pub const GUEST_COOKIE: &str = "scanpro_guest";
const TOKEN_BYTES: usize = 32;

/// The secret that signs the server's cookies (guests, single sign-on in progress). Every API
/// replica must hold the same one.
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

    /// The MAC of cookie `name` holding `token`: a value signed for one cookie is no other's.
    fn mac(&self, name: &str, token: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(name.as_bytes());
        mac.update(b"=");
        mac.update(token.as_bytes());
        mac
    }

    /// The value of cookie `name` carrying `token` (URL-safe characters): `token.signature`.
    pub(crate) fn seal(&self, name: &str, token: &str) -> String {
        let signature = URL_SAFE_NO_PAD.encode(self.mac(name, token).finalize().into_bytes());
        format!("{token}.{signature}")
    }

    /// The token of a value of cookie `name` this key signed; `None` for anything else.
    pub(crate) fn open<'a>(&self, name: &str, value: &'a str) -> Option<&'a str> {
        let (token, signature) = value.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        // Constant-time comparison: the signature cannot be guessed byte by byte.
        self.mac(name, token).verify_slice(&signature).is_ok().then_some(token)
    }

    /// The guest cookie's value for `token`.
    pub(crate) fn sign(&self, token: &str) -> String {
        self.seal(GUEST_COOKIE, token)
    }

    /// The token of a guest cookie this key signed; `None` for anything else.
    pub(crate) fn verify<'a>(&self, value: &'a str) -> Option<&'a str> {
        let token = self.open(GUEST_COOKIE, value)?;
        URL_SAFE_NO_PAD.decode(token).is_ok_and(|bytes| bytes.len() == TOKEN_BYTES).then_some(token)
    }
}

impl std::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieKey(***)")
    }
}

/// The values of the cookies called `wanted` in a `Cookie` header.
pub(crate) fn cookie_values<'a>(cookie_header: &'a str, wanted: &'a str) -> impl Iterator<Item = &'a str> {
    cookie_header.split(';').filter_map(move |pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == wanted).then_some(value)
    })
}

/// A fresh secret for [`CookieKey::new`]: 32 random bytes in hex.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub(crate) fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; TOKEN_BYTES]>())
}

pub(crate) fn owner_of(token: &str) -> OwnerId {
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
        let values: Vec<&str> = cookie_values(&header, GUEST_COOKIE).collect();
        assert_eq!(values, [cookie.as_str()]);
    }
}
