//! API keys: made by a signed-in account, shown once, stored hashed, limited to scopes.

use super::{Caller, tokens};
use crate::Pipeline;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use scanpro_core::accounts::Scope;
use scanpro_core::{ApiKeyId, ErrorCode};
use scanpro_store::ApiKeyRecord;

pub const KEY_PREFIX: &str = "sk_";
/// Characters of a key kept to tell it apart in lists: `sk_` and 8 of the secret.
const SHOWN_CHARS: usize = KEY_PREFIX.len() + 8;
const MAX_KEYS: usize = 50;

/// A new key; `key` is the only time the secret is seen.
pub struct NewApiKey {
    pub record: ApiKeyRecord,
    pub key: String,
}

impl Pipeline {
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        name: &str,
        scopes: Option<Vec<Scope>>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<NewApiKey> {
        let (user, _) = caller.signed_in()?;
        let invalid = |why: &str| Error::rejected(ErrorCode::InvalidParams, why.to_owned());
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(invalid("name: give the key a name of 1 to 100 characters"));
        }
        if expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(invalid("expires_at: give a time in the future"));
        }
        let mut scopes = scopes.unwrap_or_else(|| Scope::ALL.to_vec());
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(invalid("scopes: give at least one of files:read, files:write, jobs:read, jobs:write"));
        }
        if self.meta.api_keys_of(user.id).await?.len() >= MAX_KEYS {
            return Err(Error::rejected(
                ErrorCode::LimitExceeded,
                format!("an account may hold {MAX_KEYS} keys; revoke one first"),
            ));
        }
        let (key, hash) = tokens::new_secret(KEY_PREFIX);
        let record = ApiKeyRecord {
            id: ApiKeyId::new(),
            user_id: user.id,
            name: name.to_owned(),
            prefix: key[..SHOWN_CHARS].to_owned(),
            scopes,
            created_at: Utc::now(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
        };
        self.meta.insert_api_key(&record, &hash).await?;
        self.audit(
            &caller.actor(),
            "api_key_created",
            Some(format!("key:{}", record.id)),
            None,
            Some(record.name.clone()),
        )
        .await;
        Ok(NewApiKey { record, key })
    }

    pub async fn api_keys(&self, caller: &Caller) -> Result<Vec<ApiKeyRecord>> {
        let (user, _) = caller.signed_in()?;
        Ok(self.meta.api_keys_of(user.id).await?)
    }

    /// Revokes one of the caller's keys: it stops working at once.
    pub async fn revoke_api_key(&self, caller: &Caller, id: ApiKeyId) -> Result<()> {
        let (user, _) = caller.signed_in()?;
        self.meta.revoke_api_key(user.id, id).await.map_err(|e| match e.code() {
            ErrorCode::NotFound => Error::rejected(ErrorCode::NotFound, "API key not found"),
            _ => e.into(),
        })?;
        self.audit(&caller.actor(), "api_key_revoked", Some(format!("key:{id}")), None, None).await;
        Ok(())
    }
}
