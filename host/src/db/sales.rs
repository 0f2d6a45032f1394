//! The merchant's sales a refund may name (R7), for `GET /v1/sales`: a read on a reader, one
//! statement, no lock. The same SQL runs on both databases (`$n`, `LIKE`, `LIMIT`); what is
//! searched is bounded by the merchant and the window on `transactions_sales_recent`
//! (migration 0007), and an RRN by `transactions_rrn`.

use super::columns::{flag, number_column};
use super::Db;
use crate::error::ApiResult;
use softpos::ids::{BatchNo, TraceNo};
use softpos::protocol::SaleQuery;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A sale as the lookup reads it.
#[derive(Debug, Clone)]
pub struct SaleRow {
    /// Its RRN.
    pub rrn: String,
    /// Its trace number.
    pub trace_no: TraceNo,
    /// Its batch's number.
    pub batch_no: BatchNo,
    /// Its terminal's id.
    pub terminal_id: String,
    /// Its terminal's currency.
    pub currency: String,
    /// The card, masked.
    pub masked_pan: String,
    /// Minor units.
    pub amount: i64,
    /// Sum of approved refunds.
    pub refunded_amount: i64,
    /// Voided.
    pub voided: bool,
    /// When it was booked, ms since the epoch.
    pub created_at: i64,
}

impl SaleRow {
    fn from_row(row: &AnyRow) -> ApiResult<SaleRow> {
        let text = |column: &str| -> ApiResult<String> {
            row.try_get::<Option<String>, _>(column)?
                .ok_or_else(|| super::bad_row(column, "NULL"))
        };
        Ok(SaleRow {
            rrn: text("rrn")?,
            trace_no: number_column(row, "trace_no")?,
            batch_no: number_column(row, "batch_no")?,
            terminal_id: row.try_get("terminal_id")?,
            currency: row.try_get("currency")?,
            masked_pan: text("masked_pan")?,
            amount: row.try_get("amount")?,
            refunded_amount: row.try_get("refunded_amount")?,
            voided: flag(row, "voided")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl Db {
    /// The merchant's approved sales booked at `since` or later that match `query`, newest
    /// first, at most `limit`.
    pub async fn find_sales(
        &self,
        merchant_id: &str,
        query: &SaleQuery,
        since: i64,
        limit: u32,
    ) -> ApiResult<Vec<SaleRow>> {
        let filter = match query {
            SaleQuery::Newest => "",
            SaleQuery::Rrn(_) => " AND t.rrn = $4",
            SaleQuery::Amount(_) => " AND t.amount = $4",
            SaleQuery::Digits { last4: None, .. } => " AND t.trace_no = $4",
            SaleQuery::Digits { last4: Some(_), .. } => {
                " AND (t.trace_no = $4 OR t.masked_pan LIKE $5)"
            }
        };
        let sql = format!(
            "SELECT t.rrn, t.trace_no, b.batch_no, m.terminal_id, m.currency, t.masked_pan, \
             t.amount, t.refunded_amount, t.voided, t.created_at FROM transactions t \
             JOIN batches b ON b.merchant_id = t.merchant_id AND b.id = t.batch_id \
             JOIN terminals m ON m.merchant_id = t.merchant_id AND m.id = t.terminal_ref \
             WHERE t.merchant_id = $1 AND t.kind = 'sale' AND t.status = 'approved' \
             AND t.created_at >= $2{filter} ORDER BY t.created_at DESC, t.id DESC LIMIT $3"
        );
        let mut q = sqlx::query(&sql)
            .bind(merchant_id)
            .bind(since)
            .bind(i64::from(limit));
        match query {
            SaleQuery::Newest => {}
            SaleQuery::Rrn(rrn) => q = q.bind(rrn.as_str()),
            SaleQuery::Amount(amount) => q = q.bind(*amount),
            SaleQuery::Digits { trace_no, last4 } => {
                q = q.bind(i64::from(*trace_no));
                if let Some(last4) = last4 {
                    q = q.bind(format!("%{last4}"));
                }
            }
        }
        q.fetch_all(self.reader())
            .await?
            .iter()
            .map(SaleRow::from_row)
            .collect()
    }
}
