//! R21 the terminal's own settled batches (its Z reports), for reprinting: `GET
//! /v1/settlements?since=YYYY-MM-DD`, read as the console reads a merchant's (R22), for the
//! session's terminal only.

use super::console::{settlement_of, MAX_HISTORY_DAYS};
use super::session::Session;
use crate::db::bad_row;
use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use jiff::civil::Date;
use softpos::ids::BatchNo;
use softpos::protocol::{SettledBatch, SettlementsResponse};
use std::str::FromStr;

/// Without `since`: the last 30 business days.
const DEFAULT_DAYS: i64 = 30;

impl Store {
    /// `GET /v1/settlements`: the batches the session's terminal settled on business dates
    /// from `since` (default 30 days back) to the host's business date, oldest first, with
    /// both sides' totals, the outcome and the number of discrepancies.
    pub async fn terminal_settlements(
        &self,
        s: &Session,
        since: Option<&str>,
    ) -> ApiResult<SettlementsResponse> {
        let to = Date::from_str(&self.db().business_date().await?).map_err(ApiError::internal)?;
        let from = match since.filter(|d| !d.is_empty()) {
            Some(d) => Date::from_str(d)
                .ok()
                .filter(|_| d.len() == 10)
                .ok_or_else(|| ApiError::bad_request("`since` is a date, YYYY-MM-DD"))?,
            None => to.saturating_sub(jiff::Span::new().days(DEFAULT_DAYS)),
        };
        if i64::from((to - from).get_days()) > MAX_HISTORY_DAYS {
            return Err(ApiError::bad_request("`since` is at most 366 days back"));
        }
        let t = &s.terminal;
        let rows = self
            .db()
            .settled_batches(
                &t.merchant_id,
                &from.to_string(),
                &to.to_string(),
                Some(&t.terminal_id),
            )
            .await?;
        let mut settlements = Vec::with_capacity(rows.len());
        for row in rows {
            let c = settlement_of(row)?;
            settlements.push(SettledBatch {
                batch_no: BatchNo::try_from(c.batch_no)
                    .map_err(|_| bad_row("batches.batch_no", &c.batch_no.to_string()))?,
                business_date: c.business_date,
                outcome: c.outcome,
                discrepancy_count: c.discrepancies.len() as u64,
                terminal_totals: c.terminal_totals,
                host_totals: c.host_totals,
                settled_at: c.settled_at,
            });
        }
        Ok(SettlementsResponse { settlements })
    }
}
