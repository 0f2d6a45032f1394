//! R22: the SQL of the console's pictures, one set-based statement each: the net amount per
//! business day and terminal, and the approved sales per hour. Both name the merchant.

use super::Db;
use crate::error::ApiResult;
use sqlx::Row;

/// The net amount (sales + completions − voids − refunds, approved only; R20's holds and
/// their releases move no money) of one terminal on one business date, in minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyNetRow {
    /// `YYYY-MM-DD`: the business date of the transactions' batch.
    pub business_date: String,
    /// 8 characters.
    pub terminal_id: String,
    /// ISO 4217.
    pub currency: String,
    /// Minor units; negative when refunds and voids outweigh the sales.
    pub net_amount: i64,
}

/// The approved sales of one hour and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourSalesRow {
    /// Whole hours since the start of the range.
    pub slot: i64,
    /// ISO 4217.
    pub currency: String,
    /// Approved sales.
    pub count: i64,
    /// Their amount, minor units.
    pub amount: i64,
}

impl Db {
    /// The merchant's net amount per business date `from..=to` and terminal, by date then
    /// terminal; a terminal without approved transactions on a date has no row for it. A
    /// checkout lane's (R23) counts for its checkout terminal, one bar for the web shop.
    pub async fn daily_nets(
        &self,
        merchant_id: &str,
        from: &str,
        to: &str,
    ) -> ApiResult<Vec<DailyNetRow>> {
        let rows = sqlx::query(
            "SELECT b.business_date, COALESCE(p.terminal_id, t.terminal_id) AS terminal_id, \
             t.currency, \
             CAST(SUM(CASE WHEN x.kind IN ('sale', 'completion') THEN x.amount \
               WHEN x.kind IN ('void', 'refund', 'completion_void') THEN -x.amount \
               ELSE 0 END) AS BIGINT) AS net_amount \
             FROM transactions x \
             JOIN batches b ON b.merchant_id = x.merchant_id AND b.id = x.batch_id \
             JOIN terminals t ON t.merchant_id = x.merchant_id AND t.id = x.terminal_ref \
             LEFT JOIN terminals p ON p.merchant_id = t.merchant_id AND p.id = t.lane_of \
             WHERE x.merchant_id = $1 AND x.status = 'approved' \
             AND b.business_date >= $2 AND b.business_date <= $3 \
             GROUP BY b.business_date, COALESCE(p.terminal_id, t.terminal_id), t.currency \
             ORDER BY b.business_date, COALESCE(p.terminal_id, t.terminal_id), t.currency",
        )
        .bind(merchant_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DailyNetRow {
                    business_date: row.try_get("business_date")?,
                    terminal_id: row.try_get("terminal_id")?,
                    currency: row.try_get("currency")?,
                    net_amount: row.try_get("net_amount")?,
                })
            })
            .collect()
    }

    /// The merchant's approved sales booked in `start..end` (ms since the epoch), per whole
    /// hour since `start` and currency.
    pub async fn hourly_sales(
        &self,
        merchant_id: &str,
        start: i64,
        end: i64,
    ) -> ApiResult<Vec<HourSalesRow>> {
        let rows = sqlx::query(
            "SELECT CAST((x.created_at - $2) / 3600000 AS BIGINT) AS slot, t.currency, \
             COUNT(*) AS n, CAST(SUM(x.amount) AS BIGINT) AS amount \
             FROM transactions x \
             JOIN terminals t ON t.merchant_id = x.merchant_id AND t.id = x.terminal_ref \
             WHERE x.merchant_id = $1 AND x.kind = 'sale' AND x.status = 'approved' \
             AND x.created_at >= $2 AND x.created_at < $3 \
             GROUP BY CAST((x.created_at - $2) / 3600000 AS BIGINT), t.currency \
             ORDER BY slot, t.currency",
        )
        .bind(merchant_id)
        .bind(start)
        .bind(end)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(HourSalesRow {
                    slot: row.try_get("slot")?,
                    currency: row.try_get("currency")?,
                    count: row.try_get("n")?,
                    amount: row.try_get("amount")?,
                })
            })
            .collect()
    }
}
