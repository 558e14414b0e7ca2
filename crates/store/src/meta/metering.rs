//! Operations counted against monthly quotas, usage reports, tool switches and the audit log.

use super::Meta;
use crate::error::{Result, StoreError};
use crate::records::{AuditEntry, from_millis, millis};
use chrono::{DateTime, Utc};
use scanpro_core::{JobId, OwnerId};
use sqlx::Row;

/// Operations counted for a job when it was created: `operations` in `period` (`YYYY-MM`),
/// allowed while the period's total stays within `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metering {
    pub period: String,
    pub operations: u64,
    pub limit: u64,
}

/// One line of the usage report: an owner's operations in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageLine {
    pub owner: OwnerId,
    pub email: Option<String>,
    pub period: String,
    pub operations: u64,
}

/// One line of the per-tool report: operations that succeeded on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolUsageLine {
    pub day: String,
    pub tool: String,
    pub operations: u64,
}

/// Counts `metering.operations` for `owner` unless that would pass the limit; run inside the
/// job's own transaction so the count and the job commit together.
pub(crate) async fn reserve_operations(
    executor: &mut sqlx::AnyConnection,
    owner: &OwnerId,
    metering: &Metering,
) -> Result<()> {
    sqlx::query("INSERT INTO metering (owner, period, operations) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
        .bind(owner.as_str())
        .bind(&metering.period)
        .execute(&mut *executor)
        .await?;
    // One conditional update: the row lock orders concurrent creations, and each sees the
    // count the one before it left.
    let reserved = sqlx::query(
        "UPDATE metering SET operations = operations + $3 WHERE owner = $1 AND period = $2 AND operations + $3 <= $4",
    )
    .bind(owner.as_str())
    .bind(&metering.period)
    .bind(metering.operations as i64)
    .bind(metering.limit as i64)
    .execute(&mut *executor)
    .await?;
    if reserved.rows_affected() == 0 {
        return Err(StoreError::QuotaExceeded { limit: metering.limit });
    }
    Ok(())
}

impl Meta {
    /// Operations counted for `owner` in `period`.
    pub async fn operations_used(&self, owner: &OwnerId, period: &str) -> Result<u64> {
        let row = sqlx::query("SELECT operations FROM metering WHERE owner = $1 AND period = $2")
            .bind(owner.as_str())
            .bind(period)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?.unwrap_or(0).max(0) as u64)
    }

    /// Settles an ended job's count once: `unspent` of its operations go back to its owner's
    /// period. Returns how many went back (0 when the job was not metered or already settled).
    pub async fn settle_job_operations(&self, job: JobId, unspent: u64) -> Result<u64> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query("SELECT owner, metered_period, metered_operations FROM jobs WHERE id = $1")
            .bind(job.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(0) };
        let (owner, period, counted): (String, Option<String>, Option<i64>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let (Some(period), Some(counted)) = (period, counted.filter(|n| *n > 0)) else { return Ok(0) };
        let back = unspent.min(counted as u64);
        let settled = sqlx::query("UPDATE jobs SET metered_operations = 0 WHERE id = $1 AND metered_operations = $2")
            .bind(job.to_string())
            .bind(counted)
            .execute(&mut *tx)
            .await?;
        if settled.rows_affected() == 0 {
            return Ok(0);
        }
        sqlx::query("UPDATE metering SET operations = operations - $3 WHERE owner = $1 AND period = $2")
            .bind(owner)
            .bind(period)
            .bind(back as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(back)
    }

    /// Adds operations that succeeded to the per-tool report.
    pub async fn record_tool_usage(&self, owner: &OwnerId, day: &str, tool: &str, operations: u64) -> Result<()> {
        sqlx::query(
            "INSERT INTO tool_usage (owner, day, tool, operations) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (owner, day, tool) DO UPDATE SET operations = tool_usage.operations + excluded.operations",
        )
        .bind(owner.as_str())
        .bind(day)
        .bind(tool)
        .bind(operations as i64)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Operations per owner and period, from `from_period` on (`YYYY-MM`), with account emails.
    pub async fn usage_report(&self, from_period: &str) -> Result<Vec<UsageLine>> {
        let rows = sqlx::query(
            "SELECT m.owner, u.email, m.period, m.operations FROM metering m \
             LEFT JOIN users u ON m.owner = 'user:' || u.id \
             WHERE m.period >= $1 ORDER BY m.period, m.owner",
        )
        .bind(from_period)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UsageLine {
                    owner: OwnerId(row.try_get(0)?),
                    email: row.try_get(1)?,
                    period: row.try_get(2)?,
                    operations: row.try_get::<i64, _>(3)?.max(0) as u64,
                })
            })
            .collect()
    }

    /// Succeeded operations per day and tool since `from_day` (`YYYY-MM-DD`), for one owner or all.
    pub async fn tool_usage(&self, owner: Option<&OwnerId>, from_day: &str) -> Result<Vec<ToolUsageLine>> {
        let rows = sqlx::query(
            "SELECT day, tool, CAST(SUM(operations) AS BIGINT) FROM tool_usage WHERE day >= $1 AND ($2 = '' OR owner = $2) \
             GROUP BY day, tool ORDER BY day, tool",
        )
        .bind(from_day)
        .bind(owner.map(OwnerId::as_str).unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ToolUsageLine {
                    day: row.try_get(0)?,
                    tool: row.try_get(1)?,
                    operations: row.try_get::<i64, _>(2)?.max(0) as u64,
                })
            })
            .collect()
    }

    pub async fn set_tool_enabled(&self, tool: &str, enabled: bool, by: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO tool_switches (tool, enabled, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tool) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        )
        .bind(tool)
        .bind(i64::from(enabled))
        .bind(millis(Utc::now()))
        .bind(by)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Tools an administrator switched off.
    pub async fn disabled_tools(&self) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT tool FROM tool_switches WHERE enabled = 0 ORDER BY tool").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, target, address, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(millis(entry.at))
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(entry.target.clone())
        .bind(entry.address.clone())
        .bind(entry.detail.clone())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The newest audit entries before `before` (all when `None`), newest first.
    pub async fn audit_log(&self, before: Option<DateTime<Utc>>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, actor, action, target, address, detail FROM audit_log WHERE at < $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(before.map_or(i64::MAX, millis))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    at: from_millis(row.try_get(0)?),
                    actor: row.try_get(1)?,
                    action: row.try_get(2)?,
                    target: row.try_get(3)?,
                    address: row.try_get(4)?,
                    detail: row.try_get(5)?,
                })
            })
            .collect()
    }
}
