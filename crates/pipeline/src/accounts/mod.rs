//! Accounts: who a caller is, what they may do, and what they may spend.
//!
//! # Layout
//! - here: [`AccountSettings`] and [`Plan`]s, [`Caller`] (the one answer to "who is asking"),
//!   and [`Pipeline::authenticate`], which turns a presented credential into a caller. Every
//!   credential is checked against the database on every request: a sign-out, a password
//!   change, a disabled account or a changed role holds at once on every replica.
//! - [`passwords`]: the password policy and Argon2id hashes.
//! - [`tokens`]: access tokens (JWT with `kid`, rotatable keys) and opaque secrets.
//! - [`sign_in`]: register, sign in and out, refresh (rotation with reuse detection), email
//!   verification, password reset and change, account deletion.
//! - [`api_keys`]: keys with scopes, shown once, stored hashed.
//! - [`metering`]: monthly operations counted atomically at job creation, given back for steps
//!   that did not succeed through no fault of the caller; usage.
//! - [`admin`]: users, usage reports, tool switches, audited job reads, the audit log.
//! - [`oidc`]: single sign-on with OpenID Connect (authorization code + PKCE).
//! - [`mail`]: emails out over SMTP, or into the log.

pub mod admin;
pub mod api_keys;
pub mod mail;
pub mod metering;
pub mod oidc;
pub mod passwords;
pub mod sign_in;
pub mod tokens;

use crate::Pipeline;
use crate::error::{Error, Result};
use chrono::Utc;
use scanpro_core::accounts::{Role, Scope};
use scanpro_core::{ApiKeyId, ErrorCode, OwnerId, SessionId};
use scanpro_store::{AuditEntry, UserRecord};
use std::collections::BTreeMap;

pub use mail::Mailer;
pub use tokens::TokenKeys;

/// What an account may use each month and keep.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Tool steps that succeed, per calendar month (UTC); 0: unlimited.
    pub operations_per_month: u64,
    /// Megabytes of files (uploads and outputs) kept at a time; 0: unlimited.
    pub storage_mb: u64,
    /// Largest upload, per file.
    pub max_upload_mb: u64,
    /// Jobs queued or running at once; 0: unlimited.
    pub max_active_jobs: u64,
}

impl Default for Plan {
    fn default() -> Self {
        Self { operations_per_month: 500, storage_mb: 5 * 1024, max_upload_mb: 200, max_active_jobs: 10 }
    }
}

#[derive(Debug, Clone)]
pub struct AccountSettings {
    pub token_keys: TokenKeys,
    pub access_token_lifetime: chrono::Duration,
    /// A sign-in (its refresh tokens and web cookie) lasts this long at most.
    pub session_lifetime: chrono::Duration,
    pub plans: BTreeMap<String, Plan>,
    /// The plan of new accounts; one of `plans`.
    pub default_plan: String,
    /// New accounts must follow the emailed link before signing in (on when mail goes out).
    pub verify_email: bool,
    /// The address users reach the web app at, for links in emails.
    pub public_url: String,
    pub mailer: Mailer,
    /// Single sign-on, when an OpenID Connect provider is configured.
    pub oidc: Option<oidc::OidcSettings>,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            token_keys: TokenKeys::random(),
            access_token_lifetime: chrono::Duration::minutes(15),
            session_lifetime: chrono::Duration::days(30),
            plans: BTreeMap::from([("free".to_owned(), Plan::default())]),
            default_plan: "free".into(),
            verify_email: false,
            public_url: "http://127.0.0.1:8080".into(),
            mailer: Mailer::Log,
            oidc: None,
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The signed guest cookie of a browser without an account.
    Guest,
    /// An access token or the web session cookie of a sign-in.
    Session(SessionId),
    /// An API key, limited to its scopes.
    ApiKey { id: ApiKeyId, scopes: Vec<Scope> },
}

/// Who is asking, what they may do and what they may spend.
#[derive(Debug, Clone)]
pub struct Caller {
    pub owner: OwnerId,
    pub role: Role,
    pub credential: Credential,
    /// The account, for signed-in callers and API keys.
    pub user: Option<UserRecord>,
}

impl Caller {
    pub fn guest(owner: OwnerId) -> Self {
        Self { owner, role: Role::Guest, credential: Credential::Guest, user: None }
    }

    /// Whether the credential allows `scope` (only API keys are limited).
    pub fn may(&self, scope: Scope) -> bool {
        match &self.credential {
            Credential::ApiKey { scopes, .. } => scopes.contains(&scope),
            _ => true,
        }
    }

    /// The account, or `401` for guests.
    pub fn account(&self) -> Result<&UserRecord> {
        self.user.as_ref().ok_or_else(|| {
            Error::rejected(ErrorCode::Unauthorized, "sign in first: this needs an account (POST /api/v1/auth/login)")
        })
    }

    /// The account of a sign-in (not an API key), or why not.
    pub fn signed_in(&self) -> Result<(&UserRecord, SessionId)> {
        let user = self.account()?;
        match self.credential {
            Credential::Session(session) => Ok((user, session)),
            _ => Err(Error::rejected(
                ErrorCode::Forbidden,
                "API keys cannot manage accounts or keys; sign in with your password",
            )),
        }
    }

    /// The account of an administrator signed in (not through an API key), or `403`.
    pub fn admin(&self) -> Result<&UserRecord> {
        let (user, _) = self.signed_in()?;
        if self.role != Role::Admin {
            return Err(Error::rejected(ErrorCode::Forbidden, "this needs the admin role"));
        }
        Ok(user)
    }

    /// How the audit log names this caller.
    pub fn actor(&self) -> String {
        match (&self.credential, &self.user) {
            (Credential::ApiKey { id, .. }, _) => format!("key:{id}"),
            (_, Some(user)) => format!("user:{}", user.id),
            _ => self.owner.to_string(),
        }
    }
}

/// A credential as it arrived, before it is checked.
#[derive(Debug, Clone, Copy)]
pub enum Presented<'a> {
    AccessToken(&'a str),
    ApiKey(&'a str),
    SessionCookie(&'a str),
}

impl Pipeline {
    /// The caller a credential proves, or `401 unauthorized` (`403 account_disabled` for a
    /// disabled account's valid credential).
    pub async fn authenticate(&self, presented: Presented<'_>) -> Result<Caller> {
        let now = Utc::now();
        let unauthorized = |why: &str| Error::rejected(ErrorCode::Unauthorized, why.to_owned());
        let (user, credential) = match presented {
            Presented::AccessToken(token) => {
                let claims = self.accounts().token_keys.verify(token).map_err(|e| unauthorized(&e.to_string()))?;
                let (session, user) = self
                    .meta
                    .live_session(claims.sid, now)
                    .await?
                    .filter(|(_, user)| user.id == claims.sub)
                    .ok_or_else(|| unauthorized("this sign-in has ended; sign in again"))?;
                (user, Credential::Session(session.id))
            }
            Presented::SessionCookie(secret) => {
                let (session, user) = self
                    .meta
                    .live_session_by_cookie(&tokens::hash_secret(secret), now)
                    .await?
                    .ok_or_else(|| unauthorized("this sign-in has ended; sign in again"))?;
                (user, Credential::Session(session.id))
            }
            Presented::ApiKey(secret) => {
                let key = self
                    .meta
                    .api_key_by_hash(&tokens::hash_secret(secret))
                    .await?
                    .ok_or_else(|| unauthorized("unknown API key"))?;
                if key.revoked_at.is_some() {
                    return Err(unauthorized("this API key was revoked"));
                }
                if key.expires_at.is_some_and(|at| at <= now) {
                    return Err(unauthorized("this API key expired"));
                }
                let user = self.meta.user(key.user_id).await.map_err(|_| unauthorized("unknown API key"))?;
                if let Err(e) = self.meta.touch_api_key(key.id, now).await {
                    tracing::warn!(error = %e, "could not note an API key's last use");
                }
                (user, Credential::ApiKey { id: key.id, scopes: key.scopes })
            }
        };
        if user.disabled {
            return Err(Error::rejected(
                ErrorCode::AccountDisabled,
                "this account is disabled; contact the administrator",
            ));
        }
        Ok(Caller { owner: user.owner(), role: user.role, credential, user: Some(user) })
    }

    pub(crate) fn accounts(&self) -> &AccountSettings {
        &self.settings.accounts
    }

    /// Appends to the audit log; a failure is logged, never fails the request it records.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<String>,
        address: Option<&str>,
        detail: Option<String>,
    ) {
        let entry = AuditEntry {
            at: Utc::now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            target,
            address: address.map(str::to_owned),
            detail,
        };
        if let Err(e) = self.meta.append_audit(&entry).await {
            tracing::error!(error = %e, action, "could not write the audit log");
        }
    }

    /// What `user` may spend: its plan's limits, with its own overrides.
    pub fn limits_of(&self, user: &UserRecord) -> Limits {
        let accounts = self.accounts();
        let plan = accounts.plans.get(&user.plan).or_else(|| accounts.plans.get(&accounts.default_plan));
        let plan = plan.cloned().unwrap_or_default();
        const MB: u64 = 1024 * 1024;
        Limits {
            operations_per_month: Some(user.operations_limit.unwrap_or(plan.operations_per_month)),
            storage_bytes: user.storage_limit.unwrap_or(plan.storage_mb.saturating_mul(MB)),
            max_upload_bytes: plan.max_upload_mb.saturating_mul(MB).min(self.settings.max_upload_bytes),
            max_active_jobs: plan.max_active_jobs,
        }
    }

    /// What `caller` may spend: an account's plan, or the guests' settings.
    pub fn limits(&self, caller: &Caller) -> Limits {
        match &caller.user {
            Some(user) => self.limits_of(user),
            None => Limits {
                operations_per_month: None,
                storage_bytes: self.settings.guest_storage_bytes,
                max_upload_bytes: self.settings.max_upload_bytes,
                max_active_jobs: self.settings.max_active_jobs,
            },
        }
    }
}

/// What an owner may spend; 0 is unlimited for the counts and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `None`: not metered (guests, limited by rate and storage instead).
    pub operations_per_month: Option<u64>,
    pub storage_bytes: u64,
    pub max_upload_bytes: u64,
    pub max_active_jobs: u64,
}
