//! Secrets at rest. Passwords in step parameters (`protect`, `unlock`, `pdf_to_image`, …) and
//! webhook signing secrets never reach the database readable: the stored job spec holds
//! [`REDACTED`] in their place, and the values go into a column of their own, sealed
//! (XChaCha20-Poly1305) with a key derived from the `secret_key` setting, which lives only in
//! memory and configuration. A job's sealed secrets are erased when it ends.
//!
//! The idempotency `request_hash` covers the passwords too (a repeated key with another password
//! is a conflict), so it is an HMAC under the same setting: without the key no one can test
//! guesses against it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use scanpro_core::job::JobSpec;
use scanpro_core::params::SECRET_PARAMS;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;

/// What the stored spec holds where a secret parameter was.
pub const REDACTED: &str = "***";
/// The shortest `secret_key` accepted: 32 characters carry 256 bits when random base64.
pub const MIN_SECRET_KEY_CHARS: usize = 32;
/// Prefix of a sealed value: the format can change without misreading old values.
const SEALED_V1: &str = "v1.";
const NONCE_BYTES: usize = 24;

/// The keys derived from `secret_key`: one seals, one hashes. Shared by every process of a
/// deployment; `scanpro serve` without the setting makes a random one held only in memory.
#[derive(Clone)]
pub struct SecretKey {
    seal: [u8; 32],
    hash: [u8; 32],
}

/// A sealed value could not be opened: it was sealed under another `secret_key`, or altered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sealed with another secret_key, or altered")]
pub struct Unreadable;

/// Secret parameter values lifted out of a spec: step index → parameter name → value.
pub type StepSecrets = BTreeMap<usize, BTreeMap<String, String>>;

impl SecretKey {
    /// Derives the keys from the setting's text (checked elsewhere to be long enough).
    pub fn from_setting(text: &str) -> Self {
        Self { seal: derive(text.as_bytes(), b"scanpro seal v1"), hash: derive(text.as_bytes(), b"scanpro hash v1") }
    }

    /// A fresh key, for a single process that keeps it only in memory.
    pub fn random() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self { seal: derive(&bytes, b"scanpro seal v1"), hash: derive(&bytes, b"scanpro hash v1") }
    }

    /// `plaintext` encrypted and authenticated; `context` (not stored) must be given again to
    /// open it, so a value cannot be moved to another owner or purpose.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let cipher = XChaCha20Poly1305::new_from_slice(&self.seal).expect("32-byte key");
        let nonce = XNonce::generate();
        let sealed = cipher
            .encrypt(&nonce, Payload { msg: plaintext, aad: context.as_bytes() })
            .expect("small values always encrypt");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_V1}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, Unreadable> {
        let encoded = sealed.strip_prefix(SEALED_V1).ok_or(Unreadable)?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| Unreadable)?;
        if bytes.len() < NONCE_BYTES {
            return Err(Unreadable);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| Unreadable)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&self.seal).expect("32-byte key");
        cipher.decrypt(&nonce, Payload { msg: ciphertext, aad: context.as_bytes() }).map_err(|_| Unreadable)
    }

    /// The hash of a job request that tells a replay from a misuse of its `Idempotency-Key`.
    pub fn request_hash(&self, spec: &JobSpec) -> String {
        let body = serde_json::to_vec(spec).expect("a job spec serializes");
        hex::encode(hmac(&self.hash, &body))
    }

    /// Lifts the non-empty secret parameters out of `spec` (leaving [`REDACTED`]) and seals them
    /// for `owner`; `None` when the spec holds none.
    pub fn seal_job_secrets(&self, spec: &mut JobSpec, owner: &str) -> Option<String> {
        let mut secrets = StepSecrets::new();
        for (index, step) in spec.steps.iter_mut().enumerate() {
            let serde_json::Value::Object(params) = &mut step.params else { continue };
            for key in SECRET_PARAMS {
                if let Some(serde_json::Value::String(value)) = params.get_mut(*key)
                    && !value.is_empty()
                {
                    let value = std::mem::replace(value, REDACTED.to_owned());
                    secrets.entry(index).or_default().insert((*key).to_owned(), value);
                }
            }
        }
        if secrets.is_empty() {
            return None;
        }
        let plaintext = serde_json::to_vec(&secrets).expect("secrets serialize");
        Some(self.seal(&plaintext, &job_context(owner)))
    }

    /// `spec` with the secrets sealed by [`SecretKey::seal_job_secrets`] put back.
    pub fn open_job_secrets(&self, spec: &JobSpec, sealed: &str, owner: &str) -> Result<JobSpec, Unreadable> {
        let plaintext = self.open(sealed, &job_context(owner))?;
        let secrets: StepSecrets = serde_json::from_slice(&plaintext).map_err(|_| Unreadable)?;
        let mut spec = spec.clone();
        for (index, values) in secrets {
            let Some(serde_json::Value::Object(params)) = spec.steps.get_mut(index).map(|step| &mut step.params) else {
                return Err(Unreadable);
            };
            for (key, value) in values {
                params.insert(key, serde_json::Value::String(value));
            }
        }
        Ok(spec)
    }
}

/// Whether a stored spec had secrets lifted out of it.
pub fn had_secrets(spec: &JobSpec) -> bool {
    spec.steps
        .iter()
        .any(|step| SECRET_PARAMS.iter().any(|key| step.params.get(*key).and_then(|v| v.as_str()) == Some(REDACTED)))
}

/// A step's parameters as job views show them: passwords, request headers and cookie values as
/// [`REDACTED`], and no user name or password in a URL. Whoever may read the job (its owner, an
/// administrator, an event stream) sees what was asked, never a credential.
pub fn shown_params(params: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let Value::Object(params) = params else { return params.clone() };
    let mask = |value: &mut Value| *value = Value::String(REDACTED.to_owned());
    let mut shown = params.clone();
    for (key, value) in &mut shown {
        match (key.as_str(), value) {
            (key, value) if SECRET_PARAMS.contains(&key) && value.as_str().is_none_or(|text| !text.is_empty()) => {
                mask(value);
            }
            ("extra_headers", Value::Object(headers)) => headers.values_mut().for_each(mask),
            ("cookies", Value::Array(cookies)) => {
                for cookie in cookies.iter_mut().filter_map(Value::as_object_mut) {
                    if let Some(value) = cookie.get_mut("value") {
                        mask(value);
                    }
                }
            }
            ("url", Value::String(text)) => {
                if let Ok(mut url) = reqwest::Url::parse(text)
                    && (!url.username().is_empty() || url.password().is_some())
                {
                    let _ = url.set_username("");
                    let _ = url.set_password(None);
                    *text = url.to_string();
                }
            }
            _ => {}
        }
    }
    Value::Object(shown)
}

fn job_context(owner: &str) -> String {
    format!("job-secrets:{owner}")
}

impl Default for SecretKey {
    fn default() -> Self {
        Self::random()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        // Not a guarantee (copies may exist), but the key does not outlive its holder on purpose.
        self.seal.fill(0);
        self.hash.fill(0);
    }
}

pub(crate) fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// One key per purpose out of the setting (HMAC as the PRF of a one-block HKDF-Expand).
fn derive(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    hmac(secret, purpose)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scanpro_core::job::StepSpec;
    use serde_json::json;

    fn spec() -> JobSpec {
        JobSpec {
            inputs: vec![],
            steps: vec![
                StepSpec { tool: "rotate".into(), params: json!({"angle": 90}) },
                StepSpec {
                    tool: "protect".into(),
                    params: json!({"owner_password": "owner secret", "user_password": "user secret"}),
                },
                StepSpec { tool: "unlock".into(), params: json!({"password": ""}) },
            ],
            webhook_url: None,
            tag: None,
        }
    }

    #[test]
    fn secrets_are_lifted_sealed_and_put_back() {
        let key = SecretKey::from_setting("0123456789abcdef0123456789abcdef");
        let original = spec();
        let mut stored = original.clone();
        let sealed = key.seal_job_secrets(&mut stored, "guest:a").expect("has secrets");
        // Spaces never occur in the sealed text's base64, so a match would be the plaintext.
        assert!(!sealed.contains(" secret") && !serde_json::to_string(&stored).unwrap().contains(" secret"));
        assert_eq!(stored.steps[1].params, json!({"owner_password": "***", "user_password": "***"}));
        assert_eq!(stored.steps[2].params, json!({"password": ""}), "an empty password is no secret");
        assert!(had_secrets(&stored) && !had_secrets(&original));
        assert_eq!(key.open_job_secrets(&stored, &sealed, "guest:a").unwrap(), original);
        assert_eq!(key.open_job_secrets(&stored, &sealed, "guest:b"), Err(Unreadable), "bound to its owner");
        let other = SecretKey::from_setting("another key of thirty-two chars!!");
        assert_eq!(other.open_job_secrets(&stored, &sealed, "guest:a"), Err(Unreadable));
        assert_ne!(key.seal(b"x", "c"), key.seal(b"x", "c"), "a fresh nonce each time");
    }

    #[test]
    fn the_request_hash_needs_the_key() {
        let key = SecretKey::from_setting("0123456789abcdef0123456789abcdef");
        let same = SecretKey::from_setting("0123456789abcdef0123456789abcdef");
        assert_eq!(key.request_hash(&spec()), same.request_hash(&spec()));
        assert_ne!(key.request_hash(&spec()), SecretKey::random().request_hash(&spec()));
        let mut other_password = spec();
        other_password.steps[1].params["user_password"] = json!("guess");
        assert_ne!(key.request_hash(&spec()), key.request_hash(&other_password));
    }

    #[test]
    fn shown_params_hide_every_credential() {
        let asked = json!({
            "url": "https://user:secret@example.com/page?q=1",
            "password": "open-me",
            "extra_headers": {"Authorization": "Bearer token-1"},
            "cookies": [{"name": "session", "value": "cookie-1", "domain": "example.com"}],
            "angle": 90
        });
        let shown = super::shown_params(&asked);
        assert_eq!(
            shown,
            json!({
                "url": "https://example.com/page?q=1",
                "password": "***",
                "extra_headers": {"Authorization": "***"},
                "cookies": [{"name": "session", "value": "***", "domain": "example.com"}],
                "angle": 90
            })
        );
        // An empty password is shown as given: there is nothing to hide.
        assert_eq!(super::shown_params(&json!({"user_password": ""})), json!({"user_password": ""}));
    }
}
