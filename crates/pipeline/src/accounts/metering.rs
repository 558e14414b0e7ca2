//! Monthly operations. A job's steps are counted when it is created, in the same transaction,
//! so concurrent creations never pass the quota. When it ends, steps that did not succeed are
//! given back, except a step that failed on its input (the caller's fault: a broken file, a
//! wrong password), which stays counted.

use super::Caller;
use crate::Pipeline;
use crate::error::Result;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use scanpro_core::job::{JobStatus, StepStatus};
use scanpro_store::{JobRecord, Metering};

/// `YYYY-MM` of `at` (UTC): the period operations are counted in.
pub fn period_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m").to_string()
}

/// When the period holding `at` ends and the next one starts.
pub fn period_end(at: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if at.month() == 12 { (at.year() + 1, 1) } else { (at.year(), at.month() + 1) };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single().unwrap_or(at)
}

/// `GET /api/v1/me/usage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub operations_used: u64,
    pub operations_limit: Option<u64>,
    pub storage_bytes: u64,
    pub storage_limit: u64,
}

impl Pipeline {
    /// What a new job of `steps` steps counts against the caller's quota; `None`: not metered.
    pub(crate) fn metering_for(&self, caller: &Caller, steps: usize) -> Option<Metering> {
        // 0 is unlimited, as for every other limit.
        let limit = self.limits(caller).operations_per_month.filter(|limit| *limit > 0)?;
        Some(Metering { period: period_of(Utc::now()), operations: steps as u64, limit })
    }

    pub async fn usage(&self, caller: &Caller) -> Result<Usage> {
        let now = Utc::now();
        let limits = self.limits(caller);
        let start = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now);
        Ok(Usage {
            period_start: start,
            period_end: period_end(now),
            operations_used: self.meta.operations_used(&caller.owner, &period_of(now)).await?,
            operations_limit: limits.operations_per_month,
            storage_bytes: self.meta.stored_bytes(&caller.owner).await?,
            storage_limit: limits.storage_bytes,
        })
    }

    /// Settles an ended job's operations: gives back those of steps that did not succeed
    /// (except one that failed on its input), and adds the succeeded ones to the report.
    pub(crate) async fn settle_operations(&self, job: &JobRecord) -> Result<()> {
        let succeeded = job.steps.iter().filter(|s| s.status == StepStatus::Succeeded).count() as u64;
        let charged_failure = job.status == JobStatus::Failed
            && job
                .error
                .as_ref()
                .is_some_and(|e| e.code.is_client_error() && e.code != scanpro_core::ErrorCode::Cancelled);
        let kept = succeeded + u64::from(charged_failure);
        let unspent = (job.steps.len() as u64).saturating_sub(kept);
        self.meta.settle_job_operations(job.id, unspent).await?;
        if succeeded > 0 {
            let day = job.finished_at.unwrap_or_else(Utc::now).format("%Y-%m-%d").to_string();
            for step in job.steps.iter().filter(|s| s.status == StepStatus::Succeeded) {
                self.meta.record_tool_usage(&job.owner, &day, &step.tool, 1).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_calendar_months_in_utc() {
        let at = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(period_of(at), "2026-12");
        assert_eq!(period_end(at), Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        let at = Utc.with_ymd_and_hms(2026, 2, 3, 0, 0, 0).unwrap();
        assert_eq!(period_end(at), Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
    }
}
