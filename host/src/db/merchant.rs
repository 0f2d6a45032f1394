//! The merchant API's rows (migration 0015): API keys (only their hashes), the webhook of each
//! merchant, and payments as the merchant API and the webhooks show them.

use super::columns::{flag, number_column, tx_kind};
use super::{Db, NewTransaction, Tx, TxState};
use crate::error::ApiResult;
use softpos::ids::{BatchNo, TraceNo};
use softpos::protocol::TxKind;
use sqlx::any::AnyRow;
use sqlx::Row;

/// How many payments one answer lists at most (one reference names a handful).
pub const PAYMENTS_MAX: i64 = 100;

/// A transaction as a merchant's server sees it.
#[derive(Debug, Clone)]
pub struct PaymentRow {
    /// The shop's reference, when the sale carried one.
    pub reference: Option<String>,
    /// Sale, void or refund.
    pub kind: TxKind,
    /// Where it stands (`Reversed`: the terminal undid it, no money moved).
    pub status: TxState,
    /// Minor units.
    pub amount: i64,
    /// Its terminal's currency.
    pub currency: String,
    /// The acquirer's RRN, once answered.
    pub rrn: Option<String>,
    /// The authorisation code, when approved.
    pub auth_code: Option<String>,
    /// Its terminal.
    pub terminal_id: String,
    /// The terminal's trace number.
    pub trace_no: TraceNo,
    /// Its batch's number.
    pub batch_no: BatchNo,
    /// When it was booked, ms since the epoch.
    pub created_at: i64,
    /// Voided (sales).
    pub voided: bool,
    /// Sum of approved refunds (sales).
    pub refunded_amount: i64,
}

/// The columns [`PaymentRow::from_row`] reads, over `transactions t`, its terminal `tm` and
/// its batch `b`.
const PAYMENT_COLUMNS: &str = "t.reference, t.kind, t.status, t.amount, \
     tm.currency, t.rrn, t.auth_code, tm.terminal_id, t.trace_no, b.batch_no, t.created_at, \
     t.voided, t.refunded_amount";

/// The joins [`PAYMENT_COLUMNS`] need.
const PAYMENT_FROM: &str = "FROM transactions t \
     JOIN terminals tm ON tm.merchant_id = t.merchant_id AND tm.id = t.terminal_ref \
     JOIN batches b ON b.merchant_id = t.merchant_id AND b.id = t.batch_id";

impl PaymentRow {
    fn from_row(row: &AnyRow) -> ApiResult<PaymentRow> {
        Ok(PaymentRow {
            reference: row.try_get("reference")?,
            kind: tx_kind(&row.try_get::<String, _>("kind")?)?,
            status: TxState::parse(&row.try_get::<String, _>("status")?)?,
            amount: row.try_get("amount")?,
            currency: row.try_get("currency")?,
            rrn: row.try_get("rrn")?,
            auth_code: row.try_get("auth_code")?,
            terminal_id: row.try_get("terminal_id")?,
            trace_no: number_column(row, "trace_no")?,
            batch_no: number_column(row, "batch_no")?,
            created_at: row.try_get("created_at")?,
            voided: flag(row, "voided")?,
            refunded_amount: row.try_get("refunded_amount")?,
        })
    }

    /// A transaction being booked, as its row will read once committed: what an approved
    /// sale's event shows without reading the row back.
    pub fn booked(
        row: &NewTransaction<'_>,
        terminal_id: &str,
        currency: &str,
        batch_no: BatchNo,
    ) -> PaymentRow {
        PaymentRow {
            reference: row.reference.map(str::to_owned),
            kind: row.kind,
            status: row.status,
            amount: row.amount,
            currency: currency.to_owned(),
            rrn: row.rrn.map(str::to_owned),
            auth_code: row.auth_code.map(str::to_owned),
            terminal_id: terminal_id.to_owned(),
            trace_no: row.trace_no,
            batch_no,
            created_at: row.created_at,
            voided: false,
            refunded_amount: 0,
        }
    }
}

impl Db {
    /// The merchant whose API key hashes to `key_hash`.
    pub async fn merchant_by_api_key_hash(&self, key_hash: &str) -> ApiResult<Option<String>> {
        Ok(
            sqlx::query("SELECT merchant_id FROM merchant_api_keys WHERE key_hash = $1")
                .bind(key_hash)
                .fetch_optional(self.reader())
                .await?
                .map(|row| row.try_get("merchant_id"))
                .transpose()?,
        )
    }

    /// The merchant's transactions carrying `reference`, newest first.
    pub async fn payments_by_reference(
        &self,
        merchant_id: &str,
        reference: &str,
    ) -> ApiResult<Vec<PaymentRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {PAYMENT_COLUMNS} {PAYMENT_FROM} WHERE t.merchant_id = $1 \
             AND t.reference = $2 ORDER BY t.created_at DESC, t.id DESC LIMIT $3"
        ))
        .bind(merchant_id)
        .bind(reference)
        .bind(PAYMENTS_MAX)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(PaymentRow::from_row).collect()
    }
}

impl Tx {
    /// Whether the merchant exists.
    pub async fn merchant_exists(&mut self, merchant_id: &str) -> ApiResult<bool> {
        Ok(
            sqlx::query("SELECT merchant_id FROM merchants WHERE merchant_id = $1")
                .bind(merchant_id)
                .fetch_optional(&mut **self)
                .await?
                .is_some(),
        )
    }

    /// Keeps a new API key's hash.
    pub async fn insert_api_key(
        &mut self,
        merchant_id: &str,
        key_hash: &str,
        now: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO merchant_api_keys (merchant_id, key_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(merchant_id)
        .bind(key_hash)
        .bind(now)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// Sets the merchant's webhook: its URL and signing secret, replacing any before.
    pub async fn set_webhook(
        &mut self,
        merchant_id: &str,
        url: &str,
        secret: &str,
        now: i64,
    ) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO merchant_webhooks (merchant_id, url, secret, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (merchant_id) DO UPDATE \
             SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at",
        )
        .bind(merchant_id)
        .bind(url)
        .bind(secret)
        .bind(now)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// A transaction as a payment, as this transaction sees it: only when the merchant has a
    /// webhook (the one reader of it inside the ledger's transactions), so a merchant without
    /// one pays a single lookup.
    pub async fn payment_for_event(
        &mut self,
        merchant_id: &str,
        id: i64,
    ) -> ApiResult<Option<PaymentRow>> {
        let row = sqlx::query(&format!(
            "SELECT {PAYMENT_COLUMNS} {PAYMENT_FROM} WHERE t.merchant_id = $1 AND t.id = $2 \
             AND EXISTS (SELECT 1 FROM merchant_webhooks w WHERE w.merchant_id = $1)"
        ))
        .bind(merchant_id)
        .bind(id)
        .fetch_optional(&mut **self)
        .await?;
        row.map(|r| PaymentRow::from_row(&r)).transpose()
    }
}
