//! Batches, their ledger lines, and the host's business date.

use super::columns::{ledger_line, number_column, tx_kind, BATCH_COLUMNS};
use super::{BatchRow, BatchState, Db, TerminalRef, Tx, TxState};
use crate::acquirer::UploadRecord;
use crate::error::{ApiError, ApiResult};
use crate::store::now_ms;
use softpos::ids::{BatchNo, TraceNo};
use softpos::protocol::CardOrigin;
use softpos::terminal::settlement::{LedgerLine, Tally};
use sqlx::{AnyConnection, Row};

/// The SQL of the number toward the acquirer after a batch's `upstream_batch_no`, wrapping
/// from 999 999 to 1 as [`BatchNo::next`] does; NULL stays NULL (the host's own numbers).
pub(super) const NEXT_UPSTREAM: &str = "upstream_batch_no % 999999 + 1";
const _: () = assert!(softpos::ids::MAX_SEQUENCE == 999_999);

/// What a settlement writes on its batch (R11).
#[derive(Debug)]
pub struct Settlement<'a> {
    /// `settled` or `awaiting_upload`.
    pub status: BatchState,
    /// The terminal's totals, JSON.
    pub terminal_totals: &'a str,
    /// The host's totals, JSON.
    pub host_totals: &'a str,
    /// The settlement's answer, JSON.
    pub answer: &'a str,
    /// The operator who settled.
    pub settled_by: &'a str,
    /// From when the host owes the acquirer the batch's settlement (R11's second level): the
    /// end of the hold of the process that asks first.
    pub acquirer_due_at: i64,
}

/// The host's business date.
pub async fn business_date(conn: &mut AnyConnection) -> Result<String, sqlx::Error> {
    sqlx::query("SELECT business_date FROM host_state WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?
        .try_get("business_date")
}

impl Db {
    /// The host's business date, on a reader.
    pub async fn business_date(&self) -> Result<String, sqlx::Error> {
        sqlx::query("SELECT business_date FROM host_state WHERE id = 1")
            .fetch_one(self.reader())
            .await?
            .try_get("business_date")
    }

    /// The terminal's open batch with its ledger lines, in one statement on a reader (one
    /// snapshot, no lock): for answers that change nothing.
    pub async fn open_batch_lines(
        &self,
        t: TerminalRef<'_>,
    ) -> ApiResult<Option<(BatchRow, Vec<LedgerLine>)>> {
        let rows = sqlx::query(
            "SELECT b.id, b.batch_no, b.business_date, b.status, b.upstream_batch_no, \
             t.request_id, t.kind, \
             t.trace_no, t.amount, t.masked_pan, t.status AS tx_status FROM batches b \
             LEFT JOIN transactions t ON t.merchant_id = b.merchant_id AND t.batch_id = b.id \
             WHERE b.merchant_id = $2 AND b.terminal_ref = $1 AND b.status = 'open' \
             ORDER BY t.id",
        )
        .bind(t.id)
        .bind(t.merchant_id)
        .fetch_all(self.reader())
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let batch = BatchRow::from_row(first)?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in &rows {
            // A batch without transactions comes back as one row without a transaction.
            if row.try_get::<Option<String>, _>("request_id")?.is_some() {
                lines.push(ledger_line(row, "tx_status")?);
            }
        }
        Ok(Some((batch, lines)))
    }
}

impl Db {
    /// A batch's approved transactions as a batch upload carries them, in booking order, on
    /// a reader: the batch is settled, nothing changes it any more.
    pub async fn upload_records(
        &self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<Vec<UploadRecord>> {
        let rows = sqlx::query(
            "SELECT kind, trace_no, amount, rrn FROM transactions \
             WHERE merchant_id = $2 AND batch_id = $1 AND status = 'approved' ORDER BY id",
        )
        .bind(batch_id)
        .bind(merchant_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UploadRecord {
                    kind: tx_kind(&row.try_get::<String, _>("kind")?)?,
                    trace: number_column::<TraceNo>(row, "trace_no")?,
                    amount: row.try_get("amount")?,
                    rrn: row.try_get::<Option<String>, _>("rrn")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The number of the terminal's open batch toward the acquirer
    /// ([`BatchRow::upstream_no`]), on a reader; `None` when it has none (the next write
    /// transaction on it opens one).
    pub async fn open_batch_upstream_no(&self, t: TerminalRef<'_>) -> ApiResult<Option<BatchNo>> {
        sqlx::query(
            "SELECT COALESCE(upstream_batch_no, batch_no) AS batch_no FROM batches \
             WHERE merchant_id = $2 AND terminal_ref = $1 AND status = 'open'",
        )
        .bind(t.id)
        .bind(t.merchant_id)
        .fetch_optional(self.reader())
        .await?
        .map(|r| number_column::<BatchNo>(&r, "batch_no"))
        .transpose()
        .map_err(Into::into)
    }
}

impl Tx {
    /// Makes the host's one `host_state` row unless it is there.
    pub async fn init_host_state(&mut self, business_date: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO host_state (id, business_date) VALUES (1, $1) ON CONFLICT DO NOTHING",
        )
        .bind(business_date)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// The host's business date.
    pub async fn business_date(&mut self) -> Result<String, sqlx::Error> {
        business_date(self).await
    }

    /// The terminal's open batch, locked until the end of the transaction (on PostgreSQL).
    ///
    /// A cut-off or settlement may close the batch while we wait for its lock; PostgreSQL then
    /// finds no row (the re-checked `status` no longer matches) and the next statement sees the
    /// batch that replaced it, so we ask again.
    pub async fn open_batch(&mut self, t: TerminalRef<'_>) -> ApiResult<BatchRow> {
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM batches \
             WHERE merchant_id = $2 AND terminal_ref = $1 AND status = 'open'{}",
            self.lock()
        );
        for _ in 0..5 {
            if let Some(row) = sqlx::query(&sql)
                .bind(t.id)
                .bind(t.merchant_id)
                .fetch_optional(&mut **self)
                .await?
            {
                return BatchRow::from_row(&row);
            }
        }
        // A terminal always has an open batch (made at `terminal add`, replaced in the same
        // transaction that closes it); a missing one is repaired rather than refused.
        let date = self.business_date().await?;
        let last = sqlx::query(
            "SELECT batch_no FROM batches WHERE merchant_id = $2 AND terminal_ref = $1 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(t.id)
        .bind(t.merchant_id)
        .fetch_optional(&mut **self)
        .await?
        .map(|r| number_column::<BatchNo>(&r, "batch_no"))
        .transpose()?
        .map_or(BatchNo::FIRST, BatchNo::next);
        self.insert_open_batch(t, last, &date).await
    }

    /// Opens batch `batch_no` for a terminal. Toward the acquirer it takes the number after
    /// the terminal's last batch's, when that one had a number of the acquirer's (the numbers
    /// go on from the one the acquirer assigned); else the host's own.
    pub async fn insert_open_batch(
        &mut self,
        t: TerminalRef<'_>,
        batch_no: BatchNo,
        business_date: &str,
    ) -> ApiResult<BatchRow> {
        let row = sqlx::query(&format!(
            "INSERT INTO batches (merchant_id, terminal_ref, batch_no, business_date, status, \
             opened_at, upstream_batch_no) VALUES ($6, $1, $2, $3, $4, $5, \
             (SELECT {NEXT_UPSTREAM} FROM batches \
              WHERE merchant_id = $6 AND terminal_ref = $1 ORDER BY id DESC LIMIT 1)) \
             RETURNING {BATCH_COLUMNS}"
        ))
        .bind(t.id)
        .bind(i64::from(batch_no.get()))
        .bind(business_date)
        .bind(BatchState::Open.as_str())
        .bind(now_ms())
        .bind(t.merchant_id)
        .fetch_one(&mut **self)
        .await?;
        BatchRow::from_row(&row)
    }

    /// The newest batch of a terminal with this number, locked (on PostgreSQL).
    pub async fn batch_by_no(
        &mut self,
        t: TerminalRef<'_>,
        batch_no: BatchNo,
    ) -> ApiResult<Option<BatchRow>> {
        let row = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE merchant_id = $3 AND terminal_ref = $1 \
             AND batch_no = $2 ORDER BY id DESC LIMIT 1{}",
            self.lock()
        ))
        .bind(t.id)
        .bind(i64::from(batch_no.get()))
        .bind(t.merchant_id)
        .fetch_optional(&mut **self)
        .await?;
        row.map(|r| BatchRow::from_row(&r)).transpose()
    }

    /// A batch's number toward the acquirer ([`BatchRow::upstream_no`]).
    pub async fn upstream_batch_no_of(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<BatchNo> {
        let row = sqlx::query(
            "SELECT COALESCE(upstream_batch_no, batch_no) AS batch_no FROM batches \
             WHERE merchant_id = $2 AND id = $1",
        )
        .bind(batch_id)
        .bind(merchant_id)
        .fetch_one(&mut **self)
        .await?;
        Ok(number_column::<BatchNo>(&row, "batch_no")?)
    }

    /// Sets a batch's number toward the acquirer (the one its sign-in answer assigned).
    pub async fn set_upstream_batch_no(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        upstream: BatchNo,
    ) -> ApiResult<()> {
        sqlx::query("UPDATE batches SET upstream_batch_no = $1 WHERE merchant_id = $3 AND id = $2")
            .bind(i64::from(upstream.get()))
            .bind(batch_id)
            .bind(merchant_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// A batch's status, locked (on PostgreSQL).
    pub async fn batch_state(&mut self, merchant_id: &str, batch_id: i64) -> ApiResult<BatchState> {
        let status: String = sqlx::query(&format!(
            "SELECT status FROM batches WHERE merchant_id = $2 AND id = $1{}",
            self.lock()
        ))
        .bind(batch_id)
        .bind(merchant_id)
        .fetch_one(&mut **self)
        .await?
        .try_get("status")?;
        BatchState::parse(&status)
    }

    /// Batches of a terminal in one status, oldest first.
    pub async fn batches_in_status(
        &mut self,
        t: TerminalRef<'_>,
        status: BatchState,
    ) -> ApiResult<Vec<BatchRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE merchant_id = $3 AND terminal_ref = $1 \
             AND status = $2 ORDER BY id"
        ))
        .bind(t.id)
        .bind(status.as_str())
        .bind(t.merchant_id)
        .fetch_all(&mut **self)
        .await?;
        rows.iter().map(BatchRow::from_row).collect()
    }

    /// The host's ledger lines of one batch (R10): what `settlement::fold` and `compare` take.
    pub async fn ledger_lines(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<Vec<LedgerLine>> {
        let rows = sqlx::query(
            "SELECT request_id, kind, trace_no, amount, masked_pan, status FROM transactions \
             WHERE merchant_id = $2 AND batch_id = $1 ORDER BY id",
        )
        .bind(batch_id)
        .bind(merchant_id)
        .fetch_all(&mut **self)
        .await?;
        rows.iter().map(|row| ledger_line(row, "status")).collect()
    }

    /// R10 on the host's rows of one batch, folded by the database: its approved rows grouped
    /// by kind and the card's first two digits, one statement however many rows. The two
    /// digits are all `CardOrigin::of_pan` looks at (R21), so the origin is still its call.
    pub async fn batch_tally(&mut self, merchant_id: &str, batch_id: i64) -> ApiResult<Tally> {
        let rows = sqlx::query(
            "SELECT kind, SUBSTR(COALESCE(masked_pan, ''), 1, 2) AS prefix, COUNT(*) AS n, \
             CAST(SUM(amount) AS BIGINT) AS total FROM transactions \
             WHERE merchant_id = $2 AND batch_id = $1 AND status = $3 GROUP BY 1, 2",
        )
        .bind(batch_id)
        .bind(merchant_id)
        .bind(TxState::Approved.as_str())
        .fetch_all(&mut **self)
        .await?;
        let mut tally = Tally::default();
        for row in &rows {
            let origin = CardOrigin::of_pan(Some(&row.try_get::<String, _>("prefix")?));
            let count = u64::try_from(row.try_get::<i64, _>("n")?).map_err(ApiError::internal)?;
            tally
                .add_group(
                    tx_kind(&row.try_get::<String, _>("kind")?)?,
                    count,
                    row.try_get("total")?,
                    origin,
                )
                .map_err(ApiError::internal)?;
        }
        Ok(tally)
    }

    /// Whether a batch holds any transaction.
    pub async fn batch_has_transactions(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<bool> {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM transactions WHERE merchant_id = $2 AND batch_id = $1",
        )
        .bind(batch_id)
        .bind(merchant_id)
        .fetch_one(&mut **self)
        .await?
        .try_get("n")?;
        Ok(n > 0)
    }

    /// Sets a batch's status.
    pub async fn set_batch_state(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        status: BatchState,
    ) -> ApiResult<()> {
        sqlx::query("UPDATE batches SET status = $1 WHERE merchant_id = $3 AND id = $2")
            .bind(status.as_str())
            .bind(batch_id)
            .bind(merchant_id)
            .execute(&mut **self)
            .await?;
        Ok(())
    }

    /// Records a settlement on its batch (closed now unless closed already).
    pub async fn record_settlement(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        s: &Settlement<'_>,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE batches SET status = $1, closed_at = COALESCE(closed_at, $2), settled_at = $2, \
             terminal_totals = $3, host_totals = $4, settle_answer = $5, settled_by = $8, \
             acquirer_due_at = $9 WHERE merchant_id = $7 AND id = $6",
        )
        .bind(s.status.as_str())
        .bind(now_ms())
        .bind(s.terminal_totals)
        .bind(s.host_totals)
        .bind(s.answer)
        .bind(batch_id)
        .bind(merchant_id)
        .bind(s.settled_by)
        .bind(s.acquirer_due_at)
        .execute(&mut **self)
        .await?;
        Ok(())
    }

    /// The answer of a batch's settlement.
    pub async fn settle_answer(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<Option<String>> {
        Ok(
            sqlx::query("SELECT settle_answer FROM batches WHERE merchant_id = $2 AND id = $1")
                .bind(batch_id)
                .bind(merchant_id)
                .fetch_one(&mut **self)
                .await?
                .try_get("settle_answer")?,
        )
    }

    /// The terminal's totals given at settlement and the upload's answer, if any.
    pub async fn upload_state(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
    ) -> ApiResult<(Option<String>, Option<String>)> {
        let row = sqlx::query(
            "SELECT terminal_totals, upload_answer FROM batches WHERE merchant_id = $2 AND id = $1",
        )
        .bind(batch_id)
        .bind(merchant_id)
        .fetch_one(&mut **self)
        .await?;
        Ok((
            row.try_get("terminal_totals")?,
            row.try_get("upload_answer")?,
        ))
    }

    /// Records an upload's answer and settles the batch.
    pub async fn record_upload(
        &mut self,
        merchant_id: &str,
        batch_id: i64,
        answer: &str,
    ) -> ApiResult<()> {
        sqlx::query(
            "UPDATE batches SET status = $1, upload_answer = $2 WHERE merchant_id = $4 AND id = $3",
        )
        .bind(BatchState::Settled.as_str())
        .bind(answer)
        .bind(batch_id)
        .bind(merchant_id)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}
