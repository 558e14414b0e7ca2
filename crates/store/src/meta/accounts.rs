//! Accounts: users, their sessions and refresh tokens, API keys and emailed links. Secrets are
//! only ever stored as hashes; the callers hash.

use super::Meta;
use crate::error::{Result, StoreError};
use crate::records::{ApiKeyRecord, ApiKeyRow, SessionRecord, UserRecord, UserRow, from_millis, millis};
use chrono::{DateTime, Utc};
use scanpro_core::{ApiKeyId, OwnerId, SessionId, UserId};
use sqlx::Row;

/// The columns of a [`UserRow`]; macros so queries stay `&'static str`.
macro_rules! user_columns {
    () => {
        "id, email, password_hash, role, plan, email_verified, disabled, operations_limit, storage_limit, \
         oidc_subject, created_at, updated_at"
    };
}
/// A live session joined with its account, selected by the condition given.
macro_rules! live_session_where {
    ($condition:literal) => {
        concat!(
            "SELECT s.id AS session_id, s.cookie_hash, s.created_at AS session_created, \
             s.expires_at AS session_expires, u.id, u.email, u.password_hash, u.role, u.plan, u.email_verified, \
             u.disabled, u.operations_limit, u.storage_limit, u.oidc_subject, u.created_at, u.updated_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE ",
            $condition,
            " AND s.revoked_at IS NULL AND s.expires_at > $2"
        )
    };
}
macro_rules! api_key_columns {
    () => {
        "id, user_id, name, prefix, scopes, created_at, expires_at, last_used_at, revoked_at"
    };
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Not seen before: now spent; the session it belongs to.
    Fresh(SessionId),
    /// Already spent: someone holds a copy. The session it belongs to (to revoke).
    Replayed(SessionId),
    Unknown,
}

impl Meta {
    /// Adds an account; `StoreError::Conflict` when the email (or SSO identity) is taken.
    pub async fn insert_user(&self, user: &UserRecord) -> Result<()> {
        let query = sqlx::query(
            "INSERT INTO users (email, password_hash, role, plan, email_verified, disabled, operations_limit, \
             storage_limit, oidc_subject, updated_at, id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
        );
        let inserted = bind_user(query, user).bind(millis(user.created_at)).execute(&self.writer).await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Conflict("an account with this email already exists".into()));
        }
        Ok(())
    }

    /// Writes every field of `user` back (the row must exist).
    pub async fn save_user(&self, user: &UserRecord) -> Result<()> {
        let query = sqlx::query(
            "UPDATE users SET email = $1, password_hash = $2, role = $3, plan = $4, email_verified = $5, \
             disabled = $6, operations_limit = $7, storage_limit = $8, oidc_subject = $9, updated_at = $10 \
             WHERE id = $11",
        );
        let updated = bind_user(query, &UserRecord { updated_at: chrono::Utc::now(), ..user.clone() })
            .execute(&self.writer)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn user(&self, id: UserId) -> Result<UserRecord> {
        let query = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
        self.user_where(query, &id.to_string()).await?.ok_or(StoreError::NotFound)
    }

    /// The account of `email` (compared lower-cased).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        let query = concat!("SELECT ", user_columns!(), " FROM users WHERE email = $1");
        self.user_where(query, &email.to_lowercase()).await
    }

    /// The account signed in with the OpenID Connect identity `subject` (`issuer sub`).
    pub async fn user_by_oidc_subject(&self, subject: &str) -> Result<Option<UserRecord>> {
        let query = concat!("SELECT ", user_columns!(), " FROM users WHERE oidc_subject = $1");
        self.user_where(query, subject).await
    }

    async fn user_where(&self, query: &'static str, value: &str) -> Result<Option<UserRecord>> {
        let row: Option<UserRow> = sqlx::query_as(query).bind(value).fetch_optional(&self.pool).await?;
        row.map(TryInto::try_into).transpose()
    }

    /// Accounts whose email contains `search` (all when empty), newest first.
    pub async fn users(&self, search: &str, limit: i64, offset: i64) -> Result<Vec<UserRecord>> {
        let pattern =
            format!("%{}%", search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let rows: Vec<UserRow> = sqlx::query_as(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE email LIKE $1 ESCAPE '\\' ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
        ))
        .bind(pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn count_admins(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>(0)? as u64)
    }

    /// Removes the account and every credential of it (sessions, refresh tokens, keys, links).
    /// Its files and jobs are the pipeline's to remove (they have blobs).
    pub async fn delete_user(&self, id: UserId) -> Result<()> {
        let id = id.to_string();
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        for query in [
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM api_keys WHERE user_id = $1",
            "DELETE FROM email_tokens WHERE user_id = $1",
        ] {
            sqlx::query(query).bind(&id).execute(&mut *tx).await?;
        }
        for query in ["DELETE FROM metering WHERE owner = $1", "DELETE FROM webhook_secrets WHERE owner = $1"] {
            sqlx::query(query).bind(format!("user:{id}")).execute(&mut *tx).await?;
        }
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1").bind(&id).execute(&mut *tx).await?;
        tx.commit().await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn insert_session(&self, session: &SessionRecord, refresh_hash: &str) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, cookie_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.id.to_string())
        .bind(session.user_id.to_string())
        .bind(session.cookie_hash.clone())
        .bind(millis(session.created_at))
        .bind(millis(session.expires_at))
        .execute(&mut *tx)
        .await?;
        insert_refresh_token(&mut *tx, refresh_hash, session.id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A session still in force (not revoked, not expired), and its account.
    pub async fn live_session(&self, id: SessionId, now: DateTime<Utc>) -> Result<Option<(SessionRecord, UserRecord)>> {
        self.session_where(live_session_where!("s.id = $1"), &id.to_string(), now).await
    }

    /// The live session of a web cookie, by the cookie secret's hash.
    pub async fn live_session_by_cookie(
        &self,
        cookie_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(SessionRecord, UserRecord)>> {
        self.session_where(live_session_where!("s.cookie_hash = $1"), cookie_hash, now).await
    }

    async fn session_where(
        &self,
        query: &'static str,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(SessionRecord, UserRecord)>> {
        let row = sqlx::query(query).bind(value).bind(millis(now)).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        use sqlx::FromRow;
        let user: UserRecord = UserRow::from_row(&row)?.try_into()?;
        let session = SessionRecord {
            id: row
                .try_get::<String, _>("session_id")?
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("session id: {e}")))?,
            user_id: user.id,
            cookie_hash: row.try_get("cookie_hash")?,
            created_at: from_millis(row.try_get("session_created")?),
            expires_at: from_millis(row.try_get("session_expires")?),
        };
        Ok(Some((session, user)))
    }

    pub async fn revoke_session(&self, id: SessionId) -> Result<()> {
        self.stamp_now("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", id.to_string()).await
    }

    /// Ends every session of the account (password change, reset, disabling).
    pub async fn revoke_sessions_of(&self, user: UserId) -> Result<()> {
        self.stamp_now(
            "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            user.to_string(),
        )
        .await
    }

    /// Spends a refresh token: at most one presenter ever finds it [`RefreshUse::Fresh`].
    pub async fn use_refresh_token(&self, hash: &str) -> Result<RefreshUse> {
        let spent = sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL")
            .bind(hash)
            .bind(millis(Utc::now()))
            .execute(&self.writer)
            .await?;
        let row = sqlx::query("SELECT session_id FROM refresh_tokens WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.writer)
            .await?;
        let Some(row) = row else { return Ok(RefreshUse::Unknown) };
        let session: SessionId =
            row.try_get::<String, _>(0)?.parse().map_err(|e| StoreError::Corrupt(format!("session id: {e}")))?;
        Ok(if spent.rows_affected() == 1 { RefreshUse::Fresh(session) } else { RefreshUse::Replayed(session) })
    }

    pub async fn add_refresh_token(&self, hash: &str, session: SessionId) -> Result<()> {
        insert_refresh_token(&self.writer, hash, session).await
    }

    pub async fn insert_api_key(&self, key: &ApiKeyRecord, hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, hash, scopes, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key.id.to_string())
        .bind(key.user_id.to_string())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(hash)
        .bind(super::json(&key.scopes))
        .bind(millis(key.created_at))
        .bind(key.expires_at.map(millis))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The key with this hash, revoked and expired ones included (the caller says why it fails).
    pub async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>> {
        let row: Option<ApiKeyRow> =
            sqlx::query_as(concat!("SELECT ", api_key_columns!(), " FROM api_keys WHERE hash = $1"))
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        row.map(TryInto::try_into).transpose()
    }

    /// Notes that the key was used, at most once a minute per key.
    pub async fn touch_api_key(&self, id: ApiKeyId, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(id.to_string())
        .bind(millis(now))
        .bind(millis(now) - 60_000)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The account's keys that are not revoked, newest first.
    pub async fn api_keys_of(&self, user: UserId) -> Result<Vec<ApiKeyRecord>> {
        let rows: Vec<ApiKeyRow> = sqlx::query_as(concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC"
        ))
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Revokes the account's key; `NotFound` for another account's or an unknown key.
    pub async fn revoke_api_key(&self, user: UserId, id: ApiKeyId) -> Result<()> {
        let revoked =
            sqlx::query("UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL")
                .bind(id.to_string())
                .bind(user.to_string())
                .bind(millis(Utc::now()))
                .execute(&self.writer)
                .await?;
        if revoked.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn insert_email_token(
        &self,
        hash: &str,
        user: UserId,
        purpose: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO email_tokens (hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(user.to_string())
        .bind(purpose)
        .bind(millis(Utc::now()))
        .bind(millis(expires_at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The account of an emailed link for `purpose` still good at `now`, without spending it.
    pub async fn email_token_user(&self, hash: &str, purpose: &str, now: DateTime<Utc>) -> Result<Option<UserId>> {
        let row = sqlx::query(
            "SELECT user_id FROM email_tokens WHERE hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(hash)
        .bind(purpose)
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| row.try_get::<String, _>(0)?.parse().map_err(|e| StoreError::Corrupt(format!("user id: {e}"))))
            .transpose()
    }

    /// Spends every emailed link of the account still open.
    pub async fn spend_email_tokens_of(&self, user: UserId) -> Result<()> {
        self.stamp_now("UPDATE email_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL", user.to_string())
            .await
    }

    /// Revokes every key of the account.
    pub async fn revoke_api_keys_of(&self, user: UserId) -> Result<()> {
        self.stamp_now(
            "UPDATE api_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            user.to_string(),
        )
        .await
    }

    /// Runs an update that stamps rows of `key` ($1) with the time now ($2): revocations, spent
    /// links.
    async fn stamp_now(&self, query: &'static str, key: String) -> Result<()> {
        sqlx::query(query).bind(key).bind(millis(Utc::now())).execute(&self.writer).await?;
        Ok(())
    }

    /// Spends an emailed link for `purpose`: its account, once, while it has not expired.
    pub async fn use_email_token(&self, hash: &str, purpose: &str, now: DateTime<Utc>) -> Result<Option<UserId>> {
        // One conditional update: of racing presenters, one spends it.
        let spent = sqlx::query(
            "UPDATE email_tokens SET used_at = $3 WHERE hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(hash)
        .bind(purpose)
        .bind(millis(now))
        .execute(&self.writer)
        .await?;
        if spent.rows_affected() == 0 {
            return Ok(None);
        }
        let row =
            sqlx::query("SELECT user_id FROM email_tokens WHERE hash = $1").bind(hash).fetch_one(&self.writer).await?;
        Ok(Some(row.try_get::<String, _>(0)?.parse().map_err(|e| StoreError::Corrupt(format!("user id: {e}")))?))
    }

    /// Gives `from`'s files and jobs to `to` (a guest who signs in keeps what the browser made).
    /// Jobs holding sealed secrets stay: their secrets are bound to the owner they were sealed for.
    pub async fn transfer_owner(&self, from: &OwnerId, to: &OwnerId) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE files SET owner = $2 WHERE owner = $1")
            .bind(from.as_str())
            .bind(to.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE jobs SET owner = $2 WHERE owner = $1 AND secrets IS NULL")
            .bind(from.as_str())
            .bind(to.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` of the owner's files, for removing them all.
    pub async fn files_of(&self, owner: &OwnerId, limit: i64) -> Result<Vec<crate::FileRecord>> {
        let rows: Vec<crate::records::FileRow> = sqlx::query_as("SELECT * FROM files WHERE owner = $1 LIMIT $2")
            .bind(owner.as_str())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Removes the owner's ended jobs now and marks the rest (being cancelled) expired, so the
    /// sweeper removes them as soon as they end.
    pub async fn forget_jobs_of(&self, owner: &OwnerId) -> Result<()> {
        sqlx::query("DELETE FROM jobs WHERE owner = $1 AND status IN ('succeeded', 'failed', 'cancelled')")
            .bind(owner.as_str())
            .execute(&self.writer)
            .await?;
        sqlx::query("UPDATE jobs SET expires_at = 0 WHERE owner = $1")
            .bind(owner.as_str())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The owner's queued and running jobs.
    pub async fn active_job_ids(&self, owner: &OwnerId) -> Result<Vec<scanpro_core::JobId>> {
        let rows = sqlx::query("SELECT id FROM jobs WHERE owner = $1 AND status IN ('queued', 'running')")
            .bind(owner.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0)?.parse().map_err(|e| StoreError::Corrupt(format!("job id: {e}"))))
            .collect()
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds `$1`…`$11` of a user row: its fields in column order, then `updated_at` and `id`.
fn bind_user<'q>(query: AnyQuery<'q>, user: &UserRecord) -> AnyQuery<'q> {
    query
        .bind(user.email.clone())
        .bind(user.password_hash.clone())
        .bind(user.role.as_str())
        .bind(user.plan.clone())
        .bind(i64::from(user.email_verified))
        .bind(i64::from(user.disabled))
        .bind(user.operations_limit.map(|n| n as i64))
        .bind(user.storage_limit.map(|n| n as i64))
        .bind(user.oidc_subject.clone())
        .bind(millis(user.updated_at))
        .bind(user.id.to_string())
}

async fn insert_refresh_token<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    hash: &str,
    session: SessionId,
) -> Result<()> {
    sqlx::query("INSERT INTO refresh_tokens (hash, session_id, created_at) VALUES ($1, $2, $3)")
        .bind(hash)
        .bind(session.to_string())
        .bind(millis(Utc::now()))
        .execute(executor)
        .await?;
    Ok(())
}
