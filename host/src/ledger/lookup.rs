//! R7: the sales a refund may name, found by RRN, trace number or the card's last 4 digits
//! (`GET /v1/sales`), so a cashier picks the sale instead of typing its RRN.

use super::void_refund::REFUND_WINDOW_MS;
use super::Session;
use crate::db::SaleRow;
use crate::error::{ApiError, ApiResult};
use crate::store::{now_ms, Store};
use softpos::protocol::{SaleFound, SaleQuery, SalesResponse};
use softpos::terminal::money::Amount;
use softpos::terminal::time::Timestamp;

/// At most this many sales in one answer: a screen of them.
pub const MAX_SALES_FOUND: u32 = 20;

impl Store {
    /// `GET /v1/sales?q=`: the session's merchant's approved sales of the refund window
    /// (any terminal, any batch) that match `q`, or with an empty `q` are of `amount` (R21's
    /// query by amount), newest first. A read that changes nothing, so it takes a reader and
    /// never the writer.
    pub async fn find_sales(
        &self,
        s: &Session,
        q: &str,
        amount: Option<i64>,
    ) -> ApiResult<SalesResponse> {
        let query = match (SaleQuery::parse(q)?, amount) {
            (query, None) => query,
            (SaleQuery::Newest, Some(amount)) => SaleQuery::Amount(Amount::new(amount)?.get()),
            (_, Some(_)) => {
                return Err(ApiError::bad_request(
                    "search by a query or by an amount, not both",
                ))
            }
        };
        let since = now_ms() - REFUND_WINDOW_MS;
        let rows = self
            .db()
            .find_sales(&s.terminal.merchant_id, &query, since, MAX_SALES_FOUND)
            .await?;
        Ok(SalesResponse {
            sales: rows.into_iter().map(found).collect(),
        })
    }
}

/// A row as the cashier sees it: what is left to refund is nothing once it was voided.
fn found(row: SaleRow) -> SaleFound {
    let refundable = if row.voided {
        0
    } else {
        (row.amount - row.refunded_amount).max(0)
    };
    SaleFound {
        rrn: row.rrn,
        trace_no: row.trace_no,
        batch_no: row.batch_no,
        terminal_id: row.terminal_id,
        masked_pan: row.masked_pan,
        amount: row.amount,
        currency: row.currency,
        refundable,
        at: Timestamp(row.created_at).rfc3339(),
        voided: row.voided,
    }
}
