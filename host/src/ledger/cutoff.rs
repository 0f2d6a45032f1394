//! R15 cut-off \[日切\]: the business day ends for every merchant at once.

use crate::error::{ApiError, ApiResult};
use crate::store::{now_ms, CutoffClock, CutoffReport, Store};
use jiff::civil::Date;
use std::str::FromStr;

impl Store {
    /// R15 cut-off: closes every open batch that has transactions (`closed_by_host`, a new
    /// batch opens), ends every session, and moves the business date on.
    ///
    /// `scheduled`: run only when the business date has reached today's local date (a manual
    /// run earlier the same day already closed it). The `cutoffs` row for the closed date is
    /// inserted first and only the process whose insert lands does the work, so several hosts
    /// on one PostgreSQL close each day once. Sales lock their batch row, so none is booked into
    /// a batch while it is being closed.
    pub async fn cutoff(&self, clock: &CutoffClock, scheduled: bool) -> ApiResult<CutoffReport> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let current = tx.lock_business_date().await?;
        let today = jiff::Timestamp::now().to_zoned(clock.tz.clone()).date();
        let current_date = Date::from_str(&current).map_err(ApiError::internal)?;
        let not_now = |business_date| CutoffReport {
            closed_date: None,
            closed_batches: 0,
            business_date,
        };
        if scheduled && current_date > today {
            tx.rollback().await?;
            return Ok(not_now(current));
        }
        if !tx.claim_cutoff(&current, now).await? {
            tx.rollback().await?;
            return Ok(not_now(current));
        }
        // The day after the one closed, or later when the host missed cut-offs while down.
        let next = current_date
            .tomorrow()
            .map_err(ApiError::internal)?
            .max(clock.business_date_now())
            .to_string();
        // Each terminal whose batch closed gets the next one, open on the new date; batches
        // left open (no transactions) belong to the new day too.
        let successors = tx.close_open_batches(now).await?;
        tx.open_batches(&successors, &next, now).await?;
        let closed = u64::try_from(successors.len()).unwrap_or(u64::MAX);
        tx.finish_cutoff(&current, &next, closed, now).await?;
        tx.commit().await?;
        Ok(CutoffReport {
            closed_date: Some(current),
            closed_batches: closed,
            business_date: next,
        })
    }

    /// Whether the business date is behind the clock: the host was down at a cut-off time.
    /// A business date that is not a date is an error, not a "no".
    pub async fn cutoff_overdue(&self, clock: &CutoffClock) -> ApiResult<bool> {
        let current = self.db().business_date().await?;
        let current = Date::from_str(&current).map_err(ApiError::internal)?;
        Ok(current < clock.business_date_now())
    }
}
