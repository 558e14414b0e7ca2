//! Credentials ScanPro hands out.
//!
//! - Access tokens: JWTs (HS256) that live 15 minutes, naming the account (`sub`) and the
//!   session (`sid`); the header's `kid` names the key that signed them. Verification takes only
//!   HS256 with a known `kid`, this issuer and audience: `alg: none`, RS256 and tokens of other
//!   keys fail. Several keys may verify while the first signs, so keys rotate without signing
//!   anyone out.
//! - Opaque secrets (refresh tokens `rt_…`, API keys `sk_…`, web session cookies, emailed
//!   links): 32 random bytes, stored only as their SHA-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use scanpro_core::{SessionId, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "scanpro";
pub const AUDIENCE: &str = "scanpro-api";
/// Shortest accepted signing secret.
pub const MIN_KEY_CHARS: usize = 32;

/// The keys access tokens are signed and verified with.
#[derive(Clone)]
pub struct TokenKeys {
    /// `(kid, secret)`; the first signs, all verify.
    keys: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.iter().map(|(kid, _)| kid)).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("jwt_keys: each key needs at least {MIN_KEY_CHARS} characters")]
pub struct ShortKey;

impl TokenKeys {
    /// Keys from secrets, the signing one first. A key's `kid` is derived from its secret.
    pub fn new(secrets: &[String]) -> Result<Self, ShortKey> {
        if secrets.is_empty() || secrets.iter().any(|s| s.chars().count() < MIN_KEY_CHARS) {
            return Err(ShortKey);
        }
        let keys = secrets
            .iter()
            .map(|secret| (hex::encode(&Sha256::digest(secret.as_bytes())[..6]), secret.as_bytes().to_vec()))
            .collect();
        Ok(Self { keys })
    }

    /// One key derived from another secret of the deployment (the cookie secret), for setups
    /// that give no `jwt_keys`.
    pub fn derived_from(secret: &str) -> Self {
        let derived = hex::encode(Sha256::digest(format!("scanpro access tokens\n{secret}")));
        Self::new(&[derived]).expect("64 characters")
    }

    /// A key for this process only (tests; tokens die with the process).
    pub fn random() -> Self {
        Self::new(&[hex::encode(rand::random::<[u8; 32]>())]).expect("64 characters")
    }

    pub fn sign(&self, claims: &AccessClaims) -> String {
        let (kid, secret) = &self.keys[0];
        let header = Header { kid: Some(kid.clone()), ..Header::new(Algorithm::HS256) };
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).expect("HS256 signs any claims")
    }

    /// The claims of a token one of these keys signed, still valid at `now`.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenProblem> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenProblem::Malformed)?;
        if header.alg != Algorithm::HS256 {
            return Err(TokenProblem::Algorithm);
        }
        let kid = header.kid.ok_or(TokenProblem::UnknownKey)?;
        let (_, secret) = self.keys.iter().find(|(known, _)| *known == kid).ok_or(TokenProblem::UnknownKey)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        jsonwebtoken::decode::<AccessClaims>(token, &DecodingKey::from_secret(secret), &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenProblem::Expired,
                _ => TokenProblem::Invalid,
            })
    }
}

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: UserId,
    pub sid: SessionId,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl AccessClaims {
    pub fn new(user: UserId, session: SessionId, now: DateTime<Utc>, lifetime: chrono::Duration) -> Self {
        Self {
            sub: user,
            sid: session,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now.timestamp(),
            exp: (now + lifetime).timestamp(),
        }
    }
}

/// Why an access token is refused (all answer `401 unauthorized`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    #[error("the access token is not a JWT")]
    Malformed,
    #[error("the access token is not signed with HS256")]
    Algorithm,
    #[error("the access token was signed with a key this server does not know")]
    UnknownKey,
    #[error("the access token expired; get a new one from /api/v1/auth/refresh")]
    Expired,
    #[error("the access token's signature, issuer or audience is wrong")]
    Invalid,
}

/// A new opaque secret `{prefix}{43 characters}` and the hash to store for it.
pub fn new_secret(prefix: &str) -> (String, String) {
    let secret = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// What is stored for an opaque secret. SHA-256 suffices: the secret has 256 random bits.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(lifetime: chrono::Duration) -> AccessClaims {
        AccessClaims::new(UserId::new(), SessionId::new(), Utc::now(), lifetime)
    }

    fn forge(header: &str, claims: &AccessClaims, signature: &str) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
        format!("{}.{body}.{signature}", URL_SAFE_NO_PAD.encode(header))
    }

    #[test]
    fn only_tokens_of_known_keys_with_hs256_verify() {
        let keys = TokenKeys::random();
        let good = claims(chrono::Duration::minutes(15));
        assert_eq!(keys.verify(&keys.sign(&good)).unwrap(), good);
        assert_eq!(TokenKeys::random().verify(&keys.sign(&good)), Err(TokenProblem::UnknownKey));
        let kid = &keys.keys[0].0;
        let none = forge(&format!(r#"{{"alg":"none","kid":"{kid}"}}"#), &good, "");
        assert_eq!(keys.verify(&none), Err(TokenProblem::Malformed), "alg none is no algorithm");
        let rs = forge(&format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#), &good, "c2ln");
        assert_eq!(keys.verify(&rs), Err(TokenProblem::Algorithm));
        let expired = claims(chrono::Duration::minutes(-5));
        assert_eq!(keys.verify(&keys.sign(&expired)), Err(TokenProblem::Expired));
        let mut other_audience = good.clone();
        other_audience.aud = "another-service".into();
        assert_eq!(keys.verify(&keys.sign(&other_audience)), Err(TokenProblem::Invalid));
        let mut other_issuer = good.clone();
        other_issuer.iss = "elsewhere".into();
        assert_eq!(keys.verify(&keys.sign(&other_issuer)), Err(TokenProblem::Invalid));
        let signed = keys.sign(&good);
        let tampered = signed.replacen('.', ".e", 1);
        assert!(keys.verify(&tampered).is_err());
    }

    #[test]
    fn rotated_keys_still_verify_what_they_signed() {
        let (old, new) = ("o".repeat(40), "n".repeat(40));
        let before = TokenKeys::new(std::slice::from_ref(&old)).unwrap();
        let after = TokenKeys::new(&[new.clone(), old]).unwrap();
        let token = before.sign(&claims(chrono::Duration::minutes(15)));
        assert!(after.verify(&token).is_ok(), "signed by the old key, still listed");
        assert!(TokenKeys::new(&[new]).unwrap().verify(&token).is_err(), "dropped key");
        assert_eq!(TokenKeys::new(&["short".into()]).unwrap_err(), ShortKey);
    }

    #[test]
    fn secrets_are_prefixed_and_hashed() {
        let (secret, hash) = new_secret("sk_");
        assert!(secret.starts_with("sk_") && secret.len() == 46);
        assert_eq!(hash_secret(&secret), hash);
        assert_ne!(new_secret("sk_").0, secret);
    }
}
