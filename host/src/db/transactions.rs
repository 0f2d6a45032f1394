//! Transactions (sales, voids, refunds) and reversals.

use super::columns::{flag, TX_COLUMNS};
use super::{postgres, sqlite, Dialect, TerminalRef, Tx, TxRow, TxState};
use crate::error::ApiResult;
use softpos::ids::{RequestId, TraceNo};
use softpos::protocol::TxKind;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};

/// A transaction row to book.
#[derive(Debug, Clone)]
pub struct NewTransaction<'a> {
    /// Drawn beforehand when the RRN goes in with the row; `None` lets the database draw it.
    pub id: Option<i64>,
    /// Its terminal.
    pub terminal_ref: i64,
    /// The terminal's merchant.
    pub merchant_id: &'a str,
    /// Its batch.
    pub batch_id: i64,
    /// The terminal's id for the request (R9).
    pub request_id: &'a RequestId,
    /// What it does.
    pub kind: TxKind,
    /// 1..=999999.
    pub trace_no: TraceNo,
    /// Minor units.
    pub amount: i64,
    /// Where it stands.
    pub status: TxState,
    /// The issuer's code, once answered.
    pub response_code: Option<&'a str>,
    /// Approved ones.
    pub auth_code: Option<&'a str>,
    /// The acquirer's settlement date, `MMDD`: approved ones, when the acquirer gave one.
    pub settlement_date: Option<&'a str>,
    /// Once answered.
    pub rrn: Option<&'a str>,
    /// The card, masked.
    pub masked_pan: Option<&'a str>,
    /// The sale a void or refund undoes.
    pub original_id: Option<i64>,
    /// Who made it.
    pub operator: &'a str,
    /// When.
    pub created_at: i64,
    /// The storefront's order reference (R23), when the request carried one.
    pub reference: Option<&'a str>,
}

/// The INSERT of a [`NewTransaction`], its values `$1`..`$18` in the struct's order; `id`
/// is the dialect's expression for `$1`, which draws an id when `$1` is NULL.
pub(super) fn insert_sql(id: &str) -> String {
    format!(
        "INSERT INTO transactions (id, terminal_ref, merchant_id, batch_id, request_id, kind, \
         trace_no, amount, status, response_code, auth_code, settlement_date, rrn, masked_pan, \
         original_id, operator, created_at, reference) \
         VALUES ({id}, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18)"
    )
}

impl NewTransaction<'_> {
    /// Its terminal.
    pub fn terminal(&self) -> TerminalRef<'_> {
        TerminalRef {
            merchant_id: self.merchant_id,
            id: self.terminal_ref,
        }
    }

    /// Binds `$1`..`$18` of [`insert_sql`].
    pub(super) fn bind<'q>(
        &'q self,
        q: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        q.bind(self.id)
            .bind(self.terminal_ref)
            .bind(self.merchant_id)
            .bind(self.batch_id)
            .bind(self.request_id.as_str())
            .bind(self.kind.as_str())
            .bind(i64::from(self.trace_no.get()))
            .bind(self.amount)
            .bind(self.status.as_str())
            .bind(self.response_code)
            .bind(self.auth_code)
            .bind(self.settlement_date)
            .bind(self.rrn)
            .bind(self.masked_pan)
            .bind(self.original_id)
            .bind(self.operator)
            .bind(self.created_at)
            .bind(self.reference)
    }
}

impl Tx {
    /// Books a transaction; returns its row id.
    pub async fn insert_transaction(&mut self, row: &NewTransaction<'_>) -> ApiResult<i64> {
        let id = match self.dialect() {
            Dialect::Sqlite => sqlite::NEW_ID,
            Dialect::Postgres => postgres::NEW_ID,
        };
        let sql = format!("{} RETURNING id", insert_sql(id));
        Ok(row
            .bind(sqlx::query(&sql))
            .fetch_one(&mut **self)
            .await?
            .try_get("id")?)
    }

    /// Draws the id the next transaction row will have, so its RRN goes in with it.
    pub async fn next_transaction_id(&mut self) -> ApiResult<i64> {
        let sql = match self.dialect() {
            Dialect::Sqlite => sqlite::NEXT_ID,
            Dialect::Postgres => postgres::NEXT_ID,
        };
        Ok(sqlx::query(sql)
            .fetch_one(&mut **self)
            .await?
            .try_get("id")?)
    }

    /// A transaction by row id, locked (on PostgreSQL).
    pub async fn lock_transaction(&mut self, merchant_id: &str, id: i64) -> ApiResult<TxRow> {
        let lock = self.lock();
        self.transaction_row(merchant_id, id, lock).await
    }

    /// A transaction by row id, as it is now (not locked).
    pub async fn transaction(&mut self, merchant_id: &str, id: i64) -> ApiResult<TxRow> {
        self.transaction_row(merchant_id, id, "").await
    }

    async fn transaction_row(
        &mut self,
        merchant_id: &str,
        id: i64,
        lock: &str,
    ) -> ApiResult<TxRow> {
        let sql = format!(
            "SELECT {TX_COLUMNS} FROM transactions WHERE merchant_id = $2 AND id = $1{lock}"
        );
        let query = sqlx::query(&sql).bind(id).bind(merchant_id);
        TxRow::from_row(&query.fetch_one(&mut **self).await?)
    }

    /// A transaction of the terminal by request id, locked (on PostgreSQL).
    pub async fn transaction_by_request(
        &mut self,
        t: TerminalRef<'_>,
        request_id: &RequestId,
    ) -> ApiResult<Option<TxRow>> {
        let sql = format!(
            "SELECT {TX_COLUMNS} FROM transactions \
             WHERE merchant_id = $3 AND terminal_ref = $1 AND request_id = $2{}",
            self.lock()
        );
        let row = sqlx::query(&sql)
            .bind(t.id)
            .bind(request_id.as_str())
            .bind(t.merchant_id)
            .fetch_optional(&mut **self)
            .await?;
        row.map(|r| TxRow::from_row(&r)).transpose()
    }

    /// The batch of a transaction of the terminal, by request id (not locked).
    pub async fn batch_of_request(
        &mut self,
        t: TerminalRef<'_>,
        request_id: &RequestId,
    ) -> ApiResult<Option<i64>> {
        Ok(sqlx::query(
            "SELECT batch_id FROM transactions \
             WHERE merchant_id = $3 AND terminal_ref = $1 AND request_id = $2",
        )
        .bind(t.id)
        .bind(request_id.as_str())
        .bind(t.merchant_id)
        .fetch_optional(&mut **self)
        .await?
        .map(|row| row.try_get("batch_id"))
        .transpose()?)
    }

    /// Records the acquirer's answer to a pending transaction, in the batch open now.
    pub async fn answer_sale(&mut self, id: i64, answer: &NewTransaction<'_>) -> ApiResult<()> {
        sqlx::query(
            "UPDATE transactions SET status = $1, response_code = $2, auth_code = $3, rrn = $4, \
             batch_id = $5, settlement_date = $8 WHERE merchant_id = $7 AND id = $6",
        )
        .bind(answer.status.as_str())
        .bind(answer.response_code)
        .bind(answer.auth_code)
        .bind(answer.rrn)
        .bind(answer.batch_id)
        .bind(id)
        .bind(answer.merchant_id)
        .bind(answer.settlement_date)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// The sale (or completion: `kind`) with this trace number in a batch, locked (on
    /// PostgreSQL).
    pub async fn sale_in_batch(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        trace_no: TraceNo,
        kind: TxKind,
    ) -> ApiResult<Option<TxRow>> {
        let sql = format!(
            "SELECT {TX_COLUMNS} FROM transactions WHERE merchant_id = $3 AND batch_id = $1 \
             AND trace_no = $2 AND kind = $4{}",
            self.lock()
        );
        let row = sqlx::query(&sql)
            .bind(batch_id)
            .bind(i64::from(trace_no.get()))
            .bind(merchant_id)
            .bind(kind.as_str())
            .fetch_optional(&mut **self)
            .await?;
        row.map(|r| TxRow::from_row(&r)).transpose()
    }

    /// Whether the terminal has an approved sale (or completion: `kind`) with this trace
    /// number in a batch no longer open.
    pub async fn settled_sale(
        &mut self,
        t: TerminalRef<'_>,
        trace_no: TraceNo,
        kind: TxKind,
    ) -> ApiResult<bool> {
        Ok(sqlx::query(
            "SELECT t.id FROM transactions t \
             JOIN batches b ON b.merchant_id = t.merchant_id AND b.id = t.batch_id \
             WHERE t.merchant_id = $3 AND t.terminal_ref = $1 AND t.trace_no = $2 \
             AND t.kind = $4 AND t.status = 'approved' AND b.status <> 'open' LIMIT 1",
        )
        .bind(t.id)
        .bind(i64::from(trace_no.get()))
        .bind(t.merchant_id)
        .bind(kind.as_str())
        .fetch_optional(&mut **self)
        .await?
        .is_some())
    }

    /// The merchant's sale with this RRN: the newest approved one when the acquirer gave the
    /// RRN more than once (it promises it unique only for a while; migration 0013), else the
    /// newest.
    pub async fn sale_by_rrn(&mut self, merchant_id: &str, rrn: &str) -> ApiResult<Option<TxRow>> {
        let row = sqlx::query(&format!(
            "SELECT {TX_COLUMNS} FROM transactions WHERE merchant_id = $1 AND rrn = $2 \
             AND kind = 'sale' \
             ORDER BY CASE WHEN status = 'approved' THEN 0 ELSE 1 END, id DESC LIMIT 1"
        ))
        .bind(merchant_id)
        .bind(rrn)
        .fetch_optional(&mut **self)
        .await?;
        row.map(|r| TxRow::from_row(&r)).transpose()
    }

    /// Marks a sale voided, or takes a void away again; whether the row changed.
    pub async fn set_voided(
        &mut self,
        merchant_id: &str,
        id: i64,
        voided: bool,
    ) -> ApiResult<bool> {
        let done = sqlx::query(
            "UPDATE transactions SET voided = $1 WHERE merchant_id = $4 AND id = $2 AND voided = $3",
        )
        .bind(i64::from(voided))
        .bind(id)
        .bind(i64::from(!voided))
        .bind(merchant_id)
            .execute(&mut **self)
            .await?
            .rows_affected();
        Ok(done == 1)
    }

    /// Adds a refund to what an approved, unvoided sale has refunded, unless that would pass
    /// its amount; whether it did.
    pub async fn add_refund(&mut self, merchant_id: &str, id: i64, amount: i64) -> ApiResult<bool> {
        let done = sqlx::query(
            "UPDATE transactions SET refunded_amount = refunded_amount + $1 \
             WHERE merchant_id = $3 AND id = $2 AND voided = 0 AND status = 'approved' \
             AND refunded_amount + $1 <= amount",
        )
        .bind(amount)
        .bind(id)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// Takes a reversed refund off what its sale has refunded.
    pub async fn take_refund_back(
        &mut self,
        merchant_id: &str,
        id: i64,
        amount: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE transactions SET refunded_amount = refunded_amount - $1 \
             WHERE merchant_id = $3 AND id = $2",
        )
        .bind(amount)
        .bind(id)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Sets a transaction's status.
    pub async fn set_tx_state(
        &mut self,
        merchant_id: &str,
        id: i64,
        status: TxState,
    ) -> ApiResult<()> {
        sqlx::query("UPDATE transactions SET status = $1 WHERE merchant_id = $3 AND id = $2")
            .bind(status.as_str())
            .bind(id)
            .bind(merchant_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// The earlier reversal of a request id: whether it reversed anything.
    pub async fn earlier_reversal(
        &mut self,
        t: TerminalRef<'_>,
        request_id: &RequestId,
    ) -> ApiResult<Option<bool>> {
        let row = sqlx::query(
            "SELECT reversed FROM reversals \
             WHERE merchant_id = $3 AND terminal_ref = $1 AND request_id = $2",
        )
        .bind(t.id)
        .bind(request_id.as_str())
        .bind(t.merchant_id)
        .fetch_optional(&mut **self)
        .await?;
        Ok(row.map(|row| flag(&row, "reversed")).transpose()?)
    }

    /// Records a reversal (also a tombstone for a request id never seen).
    pub async fn insert_reversal(
        &mut self,
        t: TerminalRef<'_>,
        request_id: &RequestId,
        reversed: bool,
        at: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO reversals (merchant_id, terminal_ref, request_id, reversed, at) \
             VALUES ($5, $1, $2, $3, $4)",
        )
        .bind(t.id)
        .bind(request_id.as_str())
        .bind(i64::from(reversed))
        .bind(at)
        .bind(t.merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}
