//! Administration: users, usage, tool switches, support reads of any job, the audit log.
//! Every use case here checks the admin role first and records what it changed.

use super::Caller;
use crate::Pipeline;
use crate::error::{Error, Result};
use chrono::{Duration, Utc};
use scanpro_core::accounts::Role;
use scanpro_core::{ErrorCode, JobId, UserId};
use scanpro_store::{AuditEntry, JobRecord, ToolUsageLine, UsageLine, UserRecord};

/// The largest limit an administrator may set (exact in JSON numbers and in the database).
const MAX_LIMIT: u64 = 1 << 53;

/// Changes an administrator makes to an account; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub plan: Option<String>,
    /// `Some(None)`: back to the plan's.
    pub operations_limit: Option<Option<u64>>,
    pub storage_limit: Option<Option<u64>>,
}

impl Pipeline {
    pub async fn admin_users(&self, caller: &Caller, search: &str, limit: i64, offset: i64) -> Result<Vec<UserRecord>> {
        caller.admin()?;
        Ok(self.meta.users(search, limit.clamp(1, 500), offset.max(0)).await?)
    }

    pub async fn admin_user(&self, caller: &Caller, id: UserId) -> Result<UserRecord> {
        caller.admin()?;
        self.meta.user(id).await.map_err(|e| not_found(e.into(), "user"))
    }

    /// Applies `changes`. Disabling ends the account's sign-ins; the last active admin cannot
    /// demote or disable themselves out of the role.
    pub async fn admin_update_user(&self, caller: &Caller, id: UserId, changes: UserChanges) -> Result<UserRecord> {
        let admin = caller.admin()?;
        let mut user = self.meta.user(id).await.map_err(|e| not_found(e.into(), "user"))?;
        if let Some(plan) = &changes.plan
            && !self.accounts().plans.contains_key(plan)
        {
            let known: Vec<&str> = self.accounts().plans.keys().map(String::as_str).collect();
            return Err(Error::rejected(
                ErrorCode::InvalidParams,
                format!("plan: {plan:?} is not a plan; plans are {}", known.join(", ")),
            ));
        }
        let too_large = |limit: &Option<Option<u64>>| limit.flatten().is_some_and(|n| n > MAX_LIMIT);
        if too_large(&changes.operations_limit) || too_large(&changes.storage_limit) {
            return Err(Error::rejected(
                ErrorCode::InvalidParams,
                format!("limits: at most {MAX_LIMIT}; 0 is unlimited"),
            ));
        }
        if changes.role == Some(Role::Guest) {
            return Err(Error::rejected(ErrorCode::InvalidParams, "role: an account is a user or an admin"));
        }
        let loses_admin = user.role == Role::Admin
            && !user.disabled
            && (changes.role.is_some_and(|r| r != Role::Admin) || changes.disabled == Some(true));
        if loses_admin && self.meta.count_admins().await? <= 1 {
            return Err(Error::rejected(
                ErrorCode::Conflict,
                "this is the last active admin; make another admin first",
            ));
        }
        user.role = changes.role.unwrap_or(user.role);
        user.disabled = changes.disabled.unwrap_or(user.disabled);
        user.plan = changes.plan.unwrap_or(user.plan);
        user.operations_limit = changes.operations_limit.unwrap_or(user.operations_limit);
        user.storage_limit = changes.storage_limit.unwrap_or(user.storage_limit);
        self.meta.save_user(&user).await?;
        if user.disabled {
            self.meta.revoke_sessions_of(user.id).await?;
        }
        let detail = format!(
            "role={} disabled={} plan={} operations_limit={:?} storage_limit={:?}",
            user.role, user.disabled, user.plan, user.operations_limit, user.storage_limit
        );
        tracing::info!(admin = %admin.id, user = %user.id, "account changed by an admin");
        self.audit(&caller.actor(), "admin_user_updated", Some(format!("user:{}", user.id)), None, Some(detail)).await;
        Ok(user)
    }

    pub async fn admin_delete_user(&self, caller: &Caller, id: UserId) -> Result<()> {
        let admin = caller.admin()?;
        if admin.id == id {
            return Err(Error::rejected(ErrorCode::Conflict, "delete your own account with DELETE /api/v1/me"));
        }
        let user = self.meta.user(id).await.map_err(|e| not_found(e.into(), "user"))?;
        self.delete_user_and_everything(&user).await?;
        self.audit(&caller.actor(), "admin_user_deleted", Some(format!("user:{id}")), None, Some(user.email)).await;
        Ok(())
    }

    /// Operations per account and month, from `months` months ago.
    pub async fn admin_usage(&self, caller: &Caller, months: u32) -> Result<Vec<UsageLine>> {
        caller.admin()?;
        let from = Utc::now() - Duration::days(31 * i64::from(months.min(120)));
        Ok(self.meta.usage_report(&super::metering::period_of(from)).await?)
    }

    /// Succeeded operations per day and tool over the last `days` days, for one account or all.
    pub async fn admin_tool_usage(
        &self,
        caller: &Caller,
        user: Option<UserId>,
        days: u32,
    ) -> Result<Vec<ToolUsageLine>> {
        caller.admin()?;
        let from = (Utc::now() - Duration::days(i64::from(days.min(3660)))).format("%Y-%m-%d").to_string();
        let owner = user.map(scanpro_core::OwnerId::user);
        Ok(self.meta.tool_usage(owner.as_ref(), &from).await?)
    }

    pub async fn admin_audit_log(&self, caller: &Caller, limit: i64) -> Result<Vec<AuditEntry>> {
        caller.admin()?;
        Ok(self.meta.audit_log(None, limit.clamp(1, 1000)).await?)
    }

    /// Switches a tool on or off for everyone.
    pub async fn admin_switch_tool(&self, caller: &Caller, tool: &str, enabled: bool) -> Result<()> {
        caller.admin()?;
        if scanpro_tools::find(tool).is_none() {
            return Err(Error::rejected(ErrorCode::NotFound, format!("no tool named {tool:?}; see GET /api/v1/tools")));
        }
        self.meta.set_tool_enabled(tool, enabled, &caller.actor()).await?;
        let action = if enabled { "admin_tool_enabled" } else { "admin_tool_disabled" };
        self.audit(&caller.actor(), action, Some(format!("tool:{tool}")), None, None).await;
        Ok(())
    }

    /// Any job, for support; each read is recorded in the audit log.
    pub async fn admin_job(&self, caller: &Caller, id: JobId) -> Result<JobRecord> {
        caller.admin()?;
        let job = self.meta.job_by_id(id).await.map_err(|e| not_found(e.into(), "job"))?;
        self.audit(&caller.actor(), "admin_job_read", Some(format!("job:{id}")), None, Some(job.owner.to_string()))
            .await;
        Ok(job)
    }

    /// Every tool and whether it is switched on.
    pub async fn admin_tools(&self, caller: &Caller) -> Result<Vec<(&'static str, bool)>> {
        caller.admin()?;
        let disabled = self.meta.disabled_tools().await?;
        Ok(scanpro_tools::catalogue()
            .into_iter()
            .map(|tool| (tool.name, !disabled.iter().any(|d| d == tool.name)))
            .collect())
    }

    /// Tools an administrator switched off.
    pub async fn disabled_tools(&self) -> Result<Vec<String>> {
        Ok(self.meta.disabled_tools().await?)
    }
}

fn not_found(e: Error, what: &str) -> Error {
    match e.code() {
        ErrorCode::NotFound => Error::rejected(ErrorCode::NotFound, format!("{what} not found")),
        _ => e,
    }
}
