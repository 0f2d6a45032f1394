//! The questions every transaction request asks before it is booked (R8, R9), and the booking
//! of a sale the issuer decided at once: in as few trips as each database allows.

use super::answers::StoredAnswer;
use super::{
    postgres, sqlite, BatchRow, Dialect, NewEvent, NewTransaction, Scope, TerminalRef, Tx, TxState,
};
use crate::error::ApiResult;
use softpos::ids::{RequestId, TraceNo};
use sqlx::any::AnyRow;
use sqlx::Row;

/// Was the request id reversed (`tomb`), is it booked already (`existing`), is its trace
/// number is used in the batch `b` (`used`), in one round trip. Binds `$1` terminal ref, `$2`
/// request id, `$3` trace number, `$4` merchant id. Each sub-select is a lookup on a unique or
/// covering index; text columns keep the result's types the same on both databases.
pub(super) const FRESH_COLUMNS: &str = "\
    (SELECT request_id FROM reversals \
      WHERE merchant_id = $4 AND terminal_ref = $1 AND request_id = $2) AS tomb, \
    (SELECT status FROM transactions \
      WHERE merchant_id = $4 AND terminal_ref = $1 AND request_id = $2) AS existing, \
    (SELECT request_id FROM transactions \
      WHERE merchant_id = $4 AND batch_id = b.id AND trace_no = $3 LIMIT 1) AS used, \
    (SELECT MIN(id) FROM upstream_jobs WHERE terminal_ref = $1) AS job";

/// What the store knows of a transaction request, in the order the rules ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fresh {
    /// Its request id was reversed: it is never booked (R8).
    Reversed,
    /// Booked and the issuer still deciding.
    Pending,
    /// Booked and answered: the stored answer stands (R9).
    Booked,
    /// Its trace number is used in the batch.
    TraceUsed,
    /// None of these: book it.
    New,
}

impl Fresh {
    /// Reads the [`FRESH_COLUMNS`].
    pub(super) fn from_row(row: &AnyRow) -> ApiResult<Fresh> {
        if row.try_get::<Option<String>, _>("tomb")?.is_some() {
            return Ok(Fresh::Reversed);
        }
        if let Some(status) = row.try_get::<Option<String>, _>("existing")? {
            return Ok(match TxState::parse(&status)? {
                TxState::Pending => Fresh::Pending,
                _ => Fresh::Booked,
            });
        }
        if row.try_get::<Option<String>, _>("used")?.is_some() {
            return Ok(Fresh::TraceUsed);
        }
        Ok(Fresh::New)
    }
}

/// The terminal's open batch, locked, and what is known of the request on it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The open batch.
    pub batch: BatchRow,
    /// What is known of the request.
    pub fresh: Fresh,
    /// The id the transaction will have, when asked for and [`Fresh::New`].
    pub next_id: Option<i64>,
    /// The terminal has jobs queued for the acquirer (R8 upstream), due or not: a sale must
    /// let them go first (`Store::forward_terminal`). Asked here so that a terminal owing
    /// nothing, nearly always, costs no trip of its own.
    pub jobs: bool,
}

/// Reads the [`FRESH_COLUMNS`]' `job`: whether the terminal owes the acquirer anything.
pub(super) fn owes_jobs(row: &AnyRow) -> ApiResult<bool> {
    Ok(row.try_get::<Option<i64>, _>("job")?.is_some())
}

impl Tx {
    /// The terminal's open batch, locked (R15: a cut-off waits for us), and what is known of
    /// the request on it; with `draw_id`, also the id its row will have.
    pub async fn open_batch_checked(
        &mut self,
        t: TerminalRef<'_>,
        request_id: &RequestId,
        trace_no: TraceNo,
        draw_id: bool,
    ) -> ApiResult<Checked> {
        match self.dialect() {
            Dialect::Sqlite => sqlite::open_batch_checked(self, t, request_id, trace_no).await,
            Dialect::Postgres => {
                postgres::open_batch_checked(self, t, request_id, trace_no, draw_id).await
            }
        }
    }

    /// Books a transaction, the answer to it (R9) and the event it makes for the merchant's
    /// webhook, if any, and commits: in one trip on a transaction begun by hand. On an error
    /// the transaction is rolled back.
    pub async fn book_and_commit(
        mut self,
        row: &NewTransaction<'_>,
        answer: &StoredAnswer,
        event: Option<&NewEvent>,
    ) -> ApiResult<()> {
        if self.by_hand() {
            return match sqlite::book_and_commit(&mut self, row, answer, event).await {
                Ok(()) => Ok(self.committed().await?),
                Err(e) => {
                    // A ROLLBACK that fails leaves the writer marked as inside a transaction,
                    // and whoever takes it next cleans up.
                    self.rollback().await.ok();
                    Err(e)
                }
            };
        }
        self.insert_transaction(row).await?;
        self.store_answer(
            row.terminal(),
            Scope::Tx,
            row.request_id,
            answer,
            row.created_at,
        )
        .await?;
        if let Some(event) = event {
            self.insert_event(event).await?;
        }
        self.commit().await?;
        Ok(())
    }
}
