//! Each owner's sealed webhook signing secret.

use super::Meta;
use crate::error::Result;
use crate::records::millis;
use chrono::Utc;
use scanpro_core::OwnerId;
use sqlx::Row;

impl Meta {
    /// Sets (or replaces) `owner`'s sealed webhook signing secret.
    pub async fn put_webhook_secret(&self, owner: &OwnerId, sealed: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_secrets (owner, secret, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (owner) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at",
        )
        .bind(owner.as_str())
        .bind(sealed)
        .bind(millis(Utc::now()))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// `owner`'s sealed webhook signing secret, if one was made.
    pub async fn webhook_secret(&self, owner: &OwnerId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT secret FROM webhook_secrets WHERE owner = $1")
            .bind(owner.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?)
    }
}
