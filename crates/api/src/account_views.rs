//! The JSON of accounts, sessions, keys and administration. Field names are public API.

use chrono::{DateTime, Utc};
use scanpro_pipeline::accounts::metering::Usage;
use scanpro_pipeline::accounts::sign_in::SignedIn;
use scanpro_store::{ApiKeyRecord, AuditEntry, ToolUsageLine, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct UserView {
    #[schema(format = Uuid)]
    pub id: String,
    pub email: String,
    /// `user` or `admin`.
    pub role: String,
    pub plan: String,
    pub email_verified: bool,
    pub disabled: bool,
    /// Overrides of the plan's limits; absent: the plan's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations_limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_limit: Option<u64>,
    pub created_at: DateTime<Utc>,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            role: u.role.as_str().to_owned(),
            plan: u.plan.clone(),
            email_verified: u.email_verified,
            disabled: u.disabled,
            operations_limit: u.operations_limit,
            storage_limit: u.storage_limit,
            created_at: u.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: i64,
    pub user: UserView,
}

impl From<&SignedIn> for TokenPair {
    fn from(s: &SignedIn) -> Self {
        Self {
            access_token: s.access_token.clone(),
            refresh_token: s.refresh_token.clone(),
            token_type: "Bearer",
            expires_in: s.expires_in,
            user: UserView::from(&s.user),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the emailed link.
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub token: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UsageView {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub operations_used: u64,
    /// Absent: not metered (guests).
    pub operations_limit: Option<u64>,
    pub storage_bytes: u64,
    /// 0: unlimited.
    pub storage_limit: u64,
}

impl From<Usage> for UsageView {
    fn from(u: Usage) -> Self {
        Self {
            period_start: u.period_start,
            period_end: u.period_end,
            operations_used: u.operations_used,
            operations_limit: u.operations_limit,
            storage_bytes: u.storage_bytes,
            storage_limit: u.storage_limit,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    pub name: String,
    /// Default: all of `files:read`, `files:write`, `jobs:read`, `jobs:write`.
    #[schema(value_type = Option<Vec<String>>)]
    pub scopes: Option<Vec<scanpro_core::accounts::Scope>>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The key itself: only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl From<&ApiKeyRecord> for ApiKeyView {
    fn from(k: &ApiKeyRecord) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            key: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKeyView>,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}

/// `PATCH /api/v1/admin/users/{id}`: absent fields stay; `null` limits go back to the plan's.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schema(value_type = Option<String>)]
    pub role: Option<scanpro_core::accounts::Role>,
    pub disabled: Option<bool>,
    pub plan: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub operations_limit: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    pub storage_limit: Option<Option<u64>>,
}

/// A field that is present, `null` or not: `Some(None)` for `null`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolSwitch {
    pub enabled: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ToolSwitches {
    pub tools: Vec<ToolState>,
}

#[derive(Serialize, ToSchema)]
pub struct ToolState {
    pub name: String,
    pub enabled: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub entries: Vec<AuditEntryView>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryView {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub address: Option<String>,
    pub detail: Option<String>,
}

impl From<&AuditEntry> for AuditEntryView {
    fn from(e: &AuditEntry) -> Self {
        Self {
            at: e.at,
            actor: e.actor.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            address: e.address.clone(),
            detail: e.detail.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UsageReport {
    pub accounts: Vec<AccountUsage>,
    pub tools: Vec<ToolUsage>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountUsage {
    pub owner: String,
    pub email: Option<String>,
    /// `YYYY-MM`.
    pub period: String,
    pub operations: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ToolUsage {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub tool: String,
    pub operations: u64,
}

impl From<&ToolUsageLine> for ToolUsage {
    fn from(l: &ToolUsageLine) -> Self {
        Self { day: l.day.clone(), tool: l.tool.clone(), operations: l.operations }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Providers {
    pub providers: Vec<Provider>,
}

#[derive(Serialize, ToSchema)]
pub struct Provider {
    /// What to call it on the sign-in button.
    pub name: String,
    /// Where the browser goes to sign in with it.
    pub login_url: String,
}
