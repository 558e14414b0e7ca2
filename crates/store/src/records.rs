//! Records as the rest of ScanPro sees them, and the flat rows they are stored as.

use crate::error::StoreError;
use chrono::{DateTime, TimeZone, Utc};
use scanpro_core::accounts::{Role, Scope};
use scanpro_core::job::{JobSpec, JobStatus, Progress, StepState};
use scanpro_core::{ApiKeyId, ErrorCode, FileId, JobId, OwnerId, SessionId, ToolError, UserId};
use serde::Serialize;

/// A stored file: an upload, or an output of a job (`job_id` set).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileRecord {
    pub id: FileId,
    #[serde(skip)]
    pub owner: OwnerId,
    pub filename: String,
    pub size: u64,
    /// Detected from the bytes, never from the name.
    pub content_type: String,
    pub sha256: String,
    #[serde(skip)]
    pub blob_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<JobId>,
    pub created_at: DateTime<Utc>,
    /// The sweeper deletes the file (row and bytes) after this instant.
    pub expires_at: DateTime<Utc>,
}

/// A job and everything the API reports about it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: JobId,
    pub owner: OwnerId,
    pub status: JobStatus,
    /// Queue class: which kind of worker runs it (`light` for the Rust-native tools).
    pub class: String,
    pub spec: JobSpec,
    pub steps: Vec<StepState>,
    pub progress: Progress,
    /// Deliveries so far; a job that reaches `max_attempts` without finishing is dead-lettered.
    pub attempts: u32,
    pub max_attempts: u32,
    pub error: Option<ToolError>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The worker holding the job while `running`, until `lease_until` unless heartbeated.
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    /// A queued job is not handed out before this instant (retry backoff).
    pub run_after: DateTime<Utc>,
    pub cancel_requested: bool,
    /// The spec's secret parameters, sealed (see `scanpro_pipeline::secrets`); `None` once the
    /// job ended, or when it had none.
    pub secrets: Option<String>,
}

pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[derive(sqlx::FromRow)]
pub(crate) struct FileRow {
    id: String,
    owner: String,
    filename: String,
    size: i64,
    content_type: String,
    sha256: String,
    blob_key: String,
    job_id: Option<String>,
    created_at: i64,
    expires_at: i64,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

impl TryFrom<FileRow> for FileRecord {
    type Error = StoreError;
    fn try_from(r: FileRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id.parse().map_err(|e| corrupt("file id", e))?,
            owner: OwnerId(r.owner),
            filename: r.filename,
            size: r.size as u64,
            content_type: r.content_type,
            sha256: r.sha256,
            blob_key: r.blob_key,
            job_id: r.job_id.map(|j| j.parse()).transpose().map_err(|e| corrupt("job id", e))?,
            created_at: from_millis(r.created_at),
            expires_at: from_millis(r.expires_at),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct JobRow {
    id: String,
    owner: String,
    status: String,
    class: String,
    spec: String,
    steps: String,
    progress: String,
    attempts: i64,
    max_attempts: i64,
    error_code: Option<String>,
    error_message: Option<String>,
    idempotency_key: Option<String>,
    request_hash: Option<String>,
    created_at: i64,
    updated_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    expires_at: i64,
    lease_owner: Option<String>,
    lease_until: Option<i64>,
    run_after: i64,
    cancel_requested: i64,
    secrets: Option<String>,
}

impl TryFrom<JobRow> for JobRecord {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self, StoreError> {
        let error = match r.error_code {
            Some(code) => {
                let code: ErrorCode =
                    serde_json::from_value(serde_json::Value::String(code)).unwrap_or(ErrorCode::InternalError);
                Some(ToolError::new(code, r.error_message.unwrap_or_default()))
            }
            None => None,
        };
        Ok(Self {
            id: r.id.parse().map_err(|e| corrupt("job id", e))?,
            owner: OwnerId(r.owner),
            status: r.status.parse().map_err(|e| corrupt("job status", e))?,
            class: r.class,
            spec: serde_json::from_str(&r.spec).map_err(|e| corrupt("job spec", e))?,
            steps: serde_json::from_str(&r.steps).map_err(|e| corrupt("job steps", e))?,
            progress: serde_json::from_str(&r.progress).map_err(|e| corrupt("job progress", e))?,
            attempts: u32::try_from(r.attempts).map_err(|e| corrupt("job attempts", e))?,
            max_attempts: u32::try_from(r.max_attempts).map_err(|e| corrupt("job max_attempts", e))?,
            error,
            idempotency_key: r.idempotency_key,
            request_hash: r.request_hash,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
            started_at: r.started_at.map(from_millis),
            finished_at: r.finished_at.map(from_millis),
            expires_at: from_millis(r.expires_at),
            lease_owner: r.lease_owner,
            lease_until: r.lease_until.map(from_millis),
            run_after: from_millis(r.run_after),
            cancel_requested: r.cancel_requested != 0,
            secrets: r.secrets,
        })
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: UserId,
    /// Lower-cased.
    pub email: String,
    /// Argon2id, PHC string; `None` for accounts that only sign in through single sign-on.
    pub password_hash: Option<String>,
    pub role: Role,
    pub plan: String,
    pub email_verified: bool,
    pub disabled: bool,
    /// Overrides of the plan's monthly operations and stored bytes.
    pub operations_limit: Option<u64>,
    pub storage_limit: Option<u64>,
    /// `issuer sub` of the OpenID Connect identity, for accounts made or linked by SSO.
    pub oidc_subject: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRecord {
    pub fn owner(&self) -> OwnerId {
        OwnerId::user(self.id)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    email: String,
    password_hash: Option<String>,
    role: String,
    plan: String,
    email_verified: i64,
    disabled: i64,
    operations_limit: Option<i64>,
    storage_limit: Option<i64>,
    oidc_subject: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id.parse().map_err(|e| corrupt("user id", e))?,
            email: r.email,
            password_hash: r.password_hash,
            role: r.role.parse().map_err(|e| corrupt("user role", e))?,
            plan: r.plan,
            email_verified: r.email_verified != 0,
            disabled: r.disabled != 0,
            operations_limit: r.operations_limit.map(|n| n.max(0) as u64),
            storage_limit: r.storage_limit.map(|n| n.max(0) as u64),
            oidc_subject: r.oidc_subject,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        })
    }
}

/// A sign-in: its refresh tokens and web cookie live as long as it does.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub user_id: UserId,
    /// Hash of the web cookie's secret, for sessions a browser holds.
    pub cookie_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An API key, without its secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    /// The key's first characters, to tell keys apart in lists.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ApiKeyRow {
    id: String,
    user_id: String,
    name: String,
    prefix: String,
    scopes: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<ApiKeyRow> for ApiKeyRecord {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id.parse().map_err(|e| corrupt("api key id", e))?,
            user_id: r.user_id.parse().map_err(|e| corrupt("api key user", e))?,
            name: r.name,
            prefix: r.prefix,
            scopes: serde_json::from_str(&r.scopes).map_err(|e| corrupt("api key scopes", e))?,
            created_at: from_millis(r.created_at),
            expires_at: r.expires_at.map(from_millis),
            last_used_at: r.last_used_at.map(from_millis),
            revoked_at: r.revoked_at.map(from_millis),
        })
    }
}

/// Something worth knowing later: who did what to whom, from where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// `user:<id>`, `key:<id>`, `cli`, or the email tried by a failed sign-in.
    pub actor: String,
    /// `sign_in`, `sign_in_failed`, `api_key_created`, `admin_user_updated`, `admin_job_read`…
    pub action: String,
    pub target: Option<String>,
    pub address: Option<String>,
    pub detail: Option<String>,
}
